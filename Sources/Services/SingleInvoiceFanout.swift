import Locks
import RPCCore
import Invoices
import Payments
import Transport

/// All SubscribeSingleInvoice streams (invoicesrpc) of one event loop, whatever invoices they
/// watch: ONE `SingleInvoiceWatcher` of the node's invoice registry per loop, and per stream only
/// a slot in a contiguous member table and an entry in the hash index (issue 15, point 9: 10,000
/// streams waiting on invoices cost ≤ 2 KiB each, transport included).
///
/// Each member gets LND's SubscribeSingleInvoice sequence: the invoice's current state first (if
/// it exists: an unknown hash waits for the invoice to be added), then every state change (OPEN
/// on creation, ACCEPTED, SETTLED, CANCELED) as the full invoice, nothing twice, in order; the
/// stream ends with OK right after SETTLED or CANCELED, including when that is its first message.
///
/// How the first state is ordered with the changes: `join` puts the member in the hash index
/// (from then on every change of that hash reaches this group), then the caller reads the current
/// state with `InvoiceRegistry.currentInvoice`, whose `deliver` posts `current` under the
/// registry's lock. The inbox therefore holds, in registry order, the changes before that read
/// (not newer than what it read: the member, still `awaitingCurrent`, skips them), the current
/// state, then the later changes.
///
/// Bounded: the inbox holds at most one `current` per member and one entry per state change of a
/// watched invoice (an invoice has at most four); a member whose stream is full holds at most
/// `InvoiceRegistry.singleSubscriberQueueLimit` states, past which its stream ends with
/// `invoice subscriber fell more than 8 updates behind` (as the registry's subscribers do).
/// The member table and the index keep their high-water size (freed slots are reused).
///
/// Thread rules: `join`, `leave`, `drain` and everything on members run on the group's loop;
/// `invoiceStateChanged` and `post` run on any thread (the registry's), touch only the index's
/// and the inbox's locks, and queue `drain` on the loop (one wake-up per burst, not per event).
final class SingleInvoiceFanout<Sink: FanoutSink>: SingleInvoiceWatcher, @unchecked Sendable {
    struct Member {
        /// Nil: a free slot.
        var sink: Sink?
        /// Tells a slot's successive members apart (events of a member that left are ignored).
        var generation: UInt32 = 0
        /// The current state was not delivered yet: changes before it are skipped.
        var awaitingCurrent = true
        /// The member's stream was full: states wait in `backlog` until it is ready again.
        var blocked = false
        /// Neighbours watching the same hash (slot indexes, -1: none).
        var previous: Int32 = -1
        var next: Int32 = -1
        var hash: PaymentHash
        var backlog: [Invoice] = []
    }

    /// A member's place in the group, for `leave` and its `current` event.
    struct Slot: Sendable, Equatable {
        let index: Int
        let generation: UInt32
    }

    enum Event {
        /// A state change of an invoice (every member watching its hash).
        case changed(Invoice)
        /// The state one member starts with (nil: the invoice does not exist yet).
        case current(Slot, Invoice?)
        /// The member's current state could not be read: its stream ends with this status.
        case failed(Slot, GRPCStatus)
    }

    private struct Inbox {
        var events: [Event] = []
        /// A `drain` is queued on the loop and has not taken the events yet.
        var scheduled = false
    }

    /// Hash → first member watching it. Written on the loop, read by the registry's thread.
    private let index = LockedValue<[PaymentHash: Int32]>([:])
    private let inbox = LockedValue(Inbox())
    /// Queues `drain` of the group it is given on the group's loop.
    private let wake: @Sendable (SingleInvoiceFanout) -> Void
    private let encode: (Invoice) -> EncodedMessage
    private let tooSlow: GRPCStatus
    private var members: [Member] = []
    private var freeSlots: [Int] = []
    /// Members in the group (loop thread).
    private(set) var count = 0

    /// - Parameters:
    ///   - wake: queues `drain` on the loop (the registry's thread calls it).
    ///   - encode: the framed `lnrpc.Invoice` of a state (once per event, shared by its members).
    ///   - tooSlow: the status a member's stream ends with when its client stopped reading.
    init(wake: @escaping @Sendable (SingleInvoiceFanout) -> Void, encode: @escaping (Invoice) -> EncodedMessage, tooSlow: GRPCStatus) {
        self.wake = wake
        self.encode = encode
        self.tooSlow = tooSlow
    }

    // MARK: Loop side

    /// Adds a stream watching `hash`; the caller then reads the current state and `post`s it as
    /// `.current(slot, invoice)` (see the type's comment for why in this order).
    func join(_ sink: Sink, hash: PaymentHash) -> Slot {
        let i: Int
        if let f = freeSlots.popLast() { i = f } else { i = members.count; members.append(Member(hash: hash)) }
        let generation = members[i].generation &+ 1
        let head = index.withLock { d -> Int32 in
            let old = d[hash] ?? -1
            d[hash] = Int32(i)
            return old
        }
        members[i] = Member(sink: sink, generation: generation, next: head, hash: hash)
        if head >= 0 { members[Int(head)].previous = Int32(i) }
        count += 1
        return Slot(index: i, generation: generation)
    }

    /// The stream at `slot` went away (its call was cancelled or ended).
    func leave(_ slot: Slot) {
        guard let i = live(slot) else { return }
        free(i)
    }

    /// Handles what the inbox holds (the loop task `wake` queues).
    func drain() {
        while true {
            let events = inbox.withLock { b -> [Event] in
                if b.events.isEmpty { b.scheduled = false; return [] }
                let e = b.events
                b.events = []
                return e
            }
            if events.isEmpty { return }
            for e in events {
                switch e {
                case .changed(let inv): deliver(inv)
                case .current(let slot, let inv):
                    guard let i = live(slot), members[i].awaitingCurrent else { continue }
                    members[i].awaitingCurrent = false
                    if let inv { send(inv, to: i, encoded: encode(inv)) }
                case .failed(let slot, let status):
                    guard let i = live(slot) else { continue }
                    members[i].sink!.finish(status)
                    free(i)
                }
            }
        }
    }

    /// A state change: to every member of its hash that has its current state already.
    private func deliver(_ inv: Invoice) {
        guard let hash = PaymentHash(inv.rHash) else { return }
        var i = index.withLock { $0[hash] } ?? -1
        var framed: EncodedMessage?
        while i >= 0 {
            let m = Int(i)
            i = members[m].next   // read first: `send` may free `m`
            guard !members[m].awaitingCurrent else { continue }
            if framed == nil { framed = encode(inv) }
            send(inv, to: m, encoded: framed!)
        }
    }

    /// Sends `inv` to member `i` now, or keeps it while the stream is full; ends the stream after
    /// a final state.
    private func send(_ inv: Invoice, to i: Int, encoded: @autoclosure () -> EncodedMessage) {
        guard let sink = members[i].sink else { return }
        if members[i].blocked || !sink.isWritable {
            hold(inv, for: i)
            return
        }
        sink.send(encoded())
        if inv.state.isFinal {
            sink.finish(.ok)
            free(i)
        }
    }

    /// Member `i`'s stream is full: keep `inv` (bounded) and resume when it drains.
    private func hold(_ inv: Invoice, for i: Int) {
        guard members[i].backlog.count < InvoiceRegistry.singleSubscriberQueueLimit else {
            members[i].sink!.finish(tooSlow)
            free(i)
            return
        }
        members[i].backlog.append(inv)
        guard !members[i].blocked else { return }
        members[i].blocked = true
        let slot = Slot(index: i, generation: members[i].generation)
        members[i].sink!.onReady { [self] in resume(slot) }
    }

    /// A blocked member's stream drained: send what it holds, oldest first.
    private func resume(_ slot: Slot) {
        guard let i = live(slot), members[i].blocked, let sink = members[i].sink else { return }
        while let inv = members[i].backlog.first {
            guard sink.isWritable else { return }
            members[i].backlog.removeFirst()
            sink.send(encode(inv))
            if inv.state.isFinal {
                sink.finish(.ok)
                free(i)
                return
            }
        }
        members[i].blocked = false
    }

    private func live(_ slot: Slot) -> Int? {
        let i = slot.index
        guard i < members.count, members[i].generation == slot.generation, members[i].sink != nil else { return nil }
        return i
    }

    /// Unlinks member `i` from its hash's list and frees its slot.
    private func free(_ i: Int) {
        let (previous, next) = (members[i].previous, members[i].next)
        if next >= 0 { members[Int(next)].previous = previous }
        if previous >= 0 {
            members[Int(previous)].next = next
        } else {
            let hash = members[i].hash
            index.withLock { d in if next >= 0 { d[hash] = next } else { d[hash] = nil } }
        }
        members[i].sink = nil
        members[i].backlog = []
        members[i].blocked = false
        members[i].previous = -1
        members[i].next = -1
        freeSlots.append(i)
        count -= 1
    }

    // MARK: Any thread

    /// `SingleInvoiceWatcher` (registry lock held): queue the change if this loop watches it.
    func invoiceStateChanged(_ invoice: Invoice) {
        guard let hash = PaymentHash(invoice.rHash), index.withLock({ $0[hash] != nil }) else { return }
        post(.changed(invoice))
    }

    /// Queues `event` for the loop, waking it if no drain is pending.
    func post(_ event: Event) {
        let schedule = inbox.withLock { b -> Bool in
            b.events.append(event)
            if b.scheduled { return false }
            b.scheduled = true
            return true
        }
        if schedule { wake(self) }
    }
}

/// The daemon's groups run on event loops. (Conforming with the concrete sink lets the compiler
/// specialize `drain` and everything it calls.)
extension SingleInvoiceFanout: EventLoopTask where Sink == ServerStreamWriter {
    func runOnLoop() { drain() }
}
