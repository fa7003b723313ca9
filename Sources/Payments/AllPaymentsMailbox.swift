import Locks
/// The mailbox of one TrackPayments (all payments) subscriber.
///
/// It coalesces per payment: for each payment only its newest snapshot waits, and snapshots come
/// out in increasing update-stamp order (a re-updated payment moves to the back). That order is
/// what makes "replay since" safe: every snapshot not yet polled has a stamp greater than every
/// stamp (hence every time) the consumer has seen. At most `capacity` payments may wait; beyond
/// that the mailbox finishes with `overflowed = true` (memory stays bounded; the client
/// reconnects with `replaySince` and loses nothing).
///
/// Threading, wake-up and polling contract: as `PaymentMailbox`. It never finishes by itself
/// otherwise (LND's TrackPayments stream lives until the client or server ends it).
public final class AllPaymentsMailbox: @unchecked Sendable {
    public let capacity: Int
    private let lock = Lock()
    private var entries: [PaymentHash: PaymentSnapshot] = [:]
    /// (hash, version) in offer order; an entry whose version is no longer current is skipped.
    private var order: [(PaymentHash, UInt64)] = []
    private var head = 0
    /// Versions seeded from the store at subscription, to drop late live duplicates of them.
    private var floor: [PaymentHash: UInt64] = [:]
    private var floorStamp: UInt64 = 0
    private var finished = false
    private var overflow = false
    /// A truncated replay: deliver what was seeded, then finish as overflowed (no live events).
    private var finishWhenDrained = false
    private var wakeup: (@Sendable () -> Void)?
    var onCancel: (@Sendable (AllPaymentsMailbox) -> Void)?

    init(capacity: Int) { self.capacity = capacity }

    func offer(_ s: PaymentSnapshot) -> (keep: Bool, wake: (@Sendable () -> Void)?) {
        lock.lock()
        if finished {
            lock.unlock()
            return (false, nil)
        }
        let h = s.paymentHash, v = s.version
        if !floor.isEmpty {
            if v > floorStamp {
                floor.removeAll()
            } else if let f = floor[h], v <= f {
                lock.unlock()
                return (true, nil)
            }
        }
        if let cur = entries[h], cur.version >= v {
            lock.unlock()
            return (true, nil)
        }
        let wasEmpty = entries.isEmpty
        if entries[h] == nil && entries.count >= capacity {
            overflow = true
            finished = true
            entries.removeAll()
            order.removeAll()
            head = 0
            let wake = wakeup
            lock.unlock()
            return (false, wake)
        }
        entries[h] = s
        order.append((h, v))
        compactIfNeeded()
        let wake = wasEmpty ? wakeup : nil
        lock.unlock()
        return (true, wake)
    }

    /// Adds the snapshots read from the store at subscription time (in-flight and replayed),
    /// then restores stamp order over everything waiting.
    func seed(_ snapshots: [PaymentSnapshot], truncated: Bool = false) -> (@Sendable () -> Void)? {
        lock.lock()
        finishWhenDrained = truncated
        let wasEmpty = entries.isEmpty
        for s in snapshots {
            let h = s.paymentHash, v = s.version
            floor[h] = max(floor[h] ?? 0, v)
            floorStamp = max(floorStamp, v)
            if let cur = entries[h], cur.version >= v { continue }
            entries[h] = s
        }
        order = entries.values.sorted { $0.version < $1.version }.map { ($0.paymentHash, $0.version) }
        head = 0
        let wake = wasEmpty && !entries.isEmpty ? wakeup : nil
        lock.unlock()
        return wake
    }

    private func compactIfNeeded() {
        let live = order.count - head
        if head > 1024 && head > live {
            order.removeFirst(head)
            head = 0
        } else if live > 4 * max(entries.count, 256) {
            order = order[head...].filter { entries[$0.0]?.version == $0.1 }
            head = 0
        }
    }

    /// The next snapshot, in update-stamp order; nil when none waits.
    public func poll() -> PaymentSnapshot? {
        lock.lock()
        defer { lock.unlock() }
        while head < order.count {
            let (h, v) = order[head]
            head += 1
            if let s = entries[h], s.version == v {
                entries[h] = nil
                if entries.isEmpty {
                    order.removeAll(keepingCapacity: true)
                    head = 0
                    if finishWhenDrained {
                        finished = true
                        overflow = true
                    }
                }
                return s
            }
        }
        return nil
    }

    /// Number of payments waiting.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }

    /// True after `cancel()` or an overflow.
    public var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }

    /// True if the mailbox finished because more than `capacity` payments were waiting, or
    /// because a replay was larger than `ControlTower.Options.maxReplay` (then the replayed part,
    /// in stamp order, is delivered first): the stream should end with an error (e.g.
    /// RESOURCE_EXHAUSTED) so the client resumes with `replaySince` = the largest time it saw.
    public var overflowed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return overflow
    }

    public func setWakeup(_ callback: @escaping @Sendable () -> Void) {
        lock.lock()
        wakeup = callback
        let now = !entries.isEmpty || finished
        lock.unlock()
        if now { callback() }
    }

    public func cancel() {
        lock.lock()
        let was = finished
        finished = true
        entries.removeAll()
        order.removeAll()
        head = 0
        wakeup = nil
        let cb = onCancel
        onCancel = nil
        lock.unlock()
        if !was { cb?(self) }
    }
}
