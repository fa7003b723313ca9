import Metrics
import RPCCore
import Payments
import Transport

/// Where a `PaymentFanout` delivers one subscriber's messages: a gRPC server stream in the
/// daemon (`ServerStreamWriter`), a recording sink in tests. Used on the group's loop only.
protocol FanoutSink: Sendable {
    /// True when `send` would accept a message now.
    var isWritable: Bool { get }
    /// Queues one framed message; false when refused (full, or the call ended).
    @discardableResult func send(_ message: EncodedMessage) -> Bool
    /// Ends the stream with `status` after the queued messages.
    func finish(_ status: GRPCStatus)
    /// Runs `callback` each time the sink stops being full. Replaces any previous callback.
    func onReady(_ callback: @escaping @Sendable () -> Void)
}

extension ServerStreamWriter: FanoutSink {}

/// All TrackPaymentV2 subscribers of one payment on one event loop, subscribed to the control
/// tower as ONE mailbox (spec §3; issue 4, points 3 and 9c).
///
/// A payment watched by thousands of streams used to cost each update one mailbox offer (a lock
/// on the store's writer thread), one wake-up and one queued task per stream, and a pump, a
/// mailbox and four closures per stream to free at the end. A group costs the tower one offer
/// and one wake-up per loop; the loop then walks a contiguous table of members.
///
/// Each member keeps the contract of a `PaymentMailbox`:
/// - it receives every snapshot newer than the last one it got, in order, never one twice
///   (`lastVersion`: versions only grow; a member joins with the snapshot it was sent first);
/// - while its stream is full it holds at most the newest non-terminal snapshot plus the
///   terminal one, sent once the stream drains (`FanoutSink.onReady`): O(1) memory per reader;
/// - `no_inflight_updates` members are sent only the terminal snapshot;
/// - after the terminal snapshot its stream ends with OK.
///
/// Lifecycle: the group is over (`isOver`, `onOver` runs once) when its mailbox is finished: the
/// terminal snapshot was delivered, or the last member left and the subscription was cancelled.
/// An over group takes no new member (its owner makes a new one); members still blocked on a
/// full stream finish on their own as their streams drain.
///
/// Thread rules: `join`, `leave`, `drain` run on the group's loop; the mailbox's wake-up (set by
/// the owner) only queues `drain` there.
final class PaymentFanout<Sink: FanoutSink>: @unchecked Sendable {
    struct Member {
        /// Nil: a free slot.
        var sink: Sink?
        /// Tells a slot's successive members apart (callbacks of a member that left are ignored).
        var generation: UInt32 = 0
        var noInflightUpdates = false
        var lastVersion: UInt64 = 0
        /// The sink was full: updates wait in `pending`/`terminal` until it is ready again.
        var blocked = false
        var pending: SnapshotBox?
        var terminal: SnapshotBox?
    }

    /// A member's place in the group, for `leave`.
    struct Slot: Sendable, Equatable {
        let index: Int
        let generation: UInt32
    }

    let mailbox: PaymentMailbox
    private let encode: (SnapshotBox) -> EncodedMessage
    private var members: [Member] = []
    private var freeSlots: [Int] = []
    /// Members currently in the group.
    private(set) var count = 0
    private(set) var isOver = false
    /// Runs once, on the loop, when the group is over (the owner drops it from its registry).
    var onOver: (() -> Void)?
    /// When set: per delivered snapshot, the time from the tower's publish to this loop's last
    /// write of it (`paytrack_fanout_delivery_seconds`; one observation per group and update).
    var deliveryLatency: Histogram?

    /// - Parameters:
    ///   - mailbox: the group's subscription (`ControlTower.subscribePayment`).
    ///   - encode: the framed `lnrpc.Payment` of a snapshot (memoized on the shared box).
    init(mailbox: PaymentMailbox, encode: @escaping (SnapshotBox) -> EncodedMessage) {
        self.mailbox = mailbox
        self.encode = encode
    }

    /// Adds a subscriber whose current snapshot is `first` (read from the tower's cache on this
    /// loop), framed as `firstMessage`: it is sent now (unless filtered), then every newer
    /// snapshot the group receives. A terminal `first` is sent and the stream ends at once (no
    /// membership). Returns the slot, or nil when the stream already ended.
    func join(_ sink: Sink, first s: PaymentSnapshot, firstMessage: @autoclosure () -> EncodedMessage,
              noInflightUpdates: Bool) -> Slot? {
        precondition(!isOver, "join an over group")
        let terminal = s.status.isTerminal
        if !noInflightUpdates || terminal { sink.send(firstMessage()) }
        if terminal { sink.finish(.ok); return nil }
        let i: Int
        if let f = freeSlots.popLast() { i = f } else { i = members.count; members.append(Member()) }
        let generation = members[i].generation &+ 1
        members[i] = Member(sink: sink, generation: generation, noInflightUpdates: noInflightUpdates,
                            lastVersion: s.version)
        count += 1
        return Slot(index: i, generation: generation)
    }

    /// The subscriber at `slot` went away (its call was cancelled). When the last one leaves, the
    /// subscription is cancelled and the group is over.
    func leave(_ slot: Slot) {
        guard slot.index < members.count, members[slot.index].generation == slot.generation,
              members[slot.index].sink != nil else { return }
        free(slot.index)
        if count == 0 { over() }   // cancels the subscription
    }

    /// Delivers what the mailbox holds to every member (the loop task the wake-up queues).
    func drain() {
        while !isOver {
            let (box, finished) = mailbox.pollNextBox()
            if let box { deliver(box) }
            if finished { over(); return }
            if box == nil { return }
        }
    }

    private func deliver(_ box: SnapshotBox) {
        let s = box.snapshot
        let version = s.version
        let terminal = s.status.isTerminal
        var framed: EncodedMessage?
        for i in members.indices {
            guard let sink = members[i].sink, version > members[i].lastVersion else { continue }
            members[i].lastVersion = version
            if members[i].blocked {
                if terminal { members[i].terminal = box } else { members[i].pending = box }
                continue
            }
            if !terminal && members[i].noInflightUpdates { continue }
            guard sink.isWritable else {
                block(i, box, terminal: terminal)
                continue
            }
            if framed == nil { framed = encode(box).ownCopy() }   // this loop's own (see `ownCopy`)
            sink.send(framed!)
            if terminal {
                sink.finish(.ok)
                free(i, reusable: false)   // the group is over after this: no slot is taken again
            }
        }
        if framed != nil, let h = deliveryLatency, box.publishedAtNs > 0 {
            h.observe(nanoseconds: UInt64(max(0, unixNanosNow() - box.publishedAtNs)))
        }
    }

    /// Member `i`'s sink is full: keep `box` and resume when the sink drains.
    private func block(_ i: Int, _ box: SnapshotBox, terminal: Bool) {
        members[i].blocked = true
        if terminal { members[i].terminal = box } else { members[i].pending = box }
        let slot = Slot(index: i, generation: members[i].generation)
        members[i].sink!.onReady { [self] in resume(slot) }
    }

    /// A blocked member's sink drained: send what it holds (newest non-terminal, then terminal).
    private func resume(_ slot: Slot) {
        let i = slot.index
        guard i < members.count, members[i].generation == slot.generation, let sink = members[i].sink,
              members[i].blocked else { return }
        if let p = members[i].pending {
            guard sink.isWritable else { return }
            members[i].pending = nil
            if !members[i].noInflightUpdates { sink.send(encode(p)) }
        }
        if let t = members[i].terminal {
            guard sink.isWritable else { return }
            sink.send(encode(t))
            sink.finish(.ok)
            free(i)
            return
        }
        members[i].blocked = false
    }

    private func free(_ i: Int, reusable: Bool = true) {
        members[i].sink = nil
        members[i].pending = nil
        members[i].terminal = nil
        members[i].blocked = false
        if reusable { freeSlots.append(i) }
        count -= 1
    }

    private func over() {
        guard !isOver else { return }
        isOver = true
        mailbox.cancel()          // drops the wake-up (which holds this group)
        let done = onOver
        onOver = nil
        done?()
    }
}

/// The daemon's groups run on event loops. (Conforming with the concrete sink lets the compiler
/// specialize `drain` and everything it calls: the generic form copies each member through value
/// witnesses.)
extension PaymentFanout: EventLoopTask where Sink == ServerStreamWriter {
    func runOnLoop() { drain() }
}
