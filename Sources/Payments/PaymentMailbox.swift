import Locks
import Synchronization

/// The mailbox of one TrackPaymentV2-style subscriber: at most the newest non-terminal snapshot
/// plus the terminal one, so a stalled reader costs O(1) memory and still gets the final state.
///
/// Made for a pull-based writer on a transport event loop:
/// - the notifier (`ControlTower`, on the store's writer thread) `offer`s snapshots;
/// - `setWakeup` installs a thread-safe callback run when the mailbox goes from empty to
///   non-empty (edge-triggered; run outside every lock, on the notifier's thread, so it must be
///   cheap and must not call back into `PaymentControl` synchronously — e.g. write an eventfd);
/// - the consumer calls `poll()` on its own thread until it returns nil, then waits for a wake-up;
/// - `isFinished` turns true once the terminal snapshot has been polled (or after `cancel()`):
///   the stream then ends with OK.
///
/// Snapshots are accepted only with a version higher than any accepted before, so a snapshot read
/// from the store and a live notification of the same change never both arrive (no duplicates)
/// and never arrive out of order.
public final class PaymentMailbox: @unchecked Sendable {
    public let paymentHash: PaymentHash
    private let lock = Lock()
    // Boxed (one reference each, not two inline snapshots): an idle mailbox stays small, and one
    // box offered by `ControlTower.notify` is shared by every subscriber of the payment.
    private var pending: SnapshotBox?
    private var terminal: SnapshotBox?
    private var lastVersion: UInt64 = 0
    private var closed = false
    private var finished = false
    private var wakeup: (@Sendable () -> Void)?
    var onCancel: (@Sendable (PaymentMailbox) -> Void)?

    init(paymentHash: PaymentHash) { self.paymentHash = paymentHash }

    /// Offers a snapshot. Returns whether the mailbox still wants updates, and the wake-up to run
    /// (after the caller released its own locks).
    func offer(_ s: PaymentSnapshot) -> (keep: Bool, wake: (@Sendable () -> Void)?) {
        offer(SnapshotBox(s))
    }

    /// As `offer(_:)` with a shared box (no copy of the snapshot per subscriber).
    func offer(_ box: SnapshotBox) -> (keep: Bool, wake: (@Sendable () -> Void)?) {
        let s = box.snapshot
        lock.lock()
        if closed {
            lock.unlock()
            return (false, nil)
        }
        if s.version <= lastVersion {
            lock.unlock()
            return (true, nil)
        }
        lastVersion = s.version
        let wasEmpty = pending == nil && terminal == nil
        if s.status.isTerminal {
            terminal = box
            closed = true
        } else {
            pending = box
        }
        let wake = wasEmpty ? wakeup : nil
        let keep = !closed
        lock.unlock()
        return (keep, wake)
    }

    /// The next snapshot to send, oldest first (the pending non-terminal one, then the terminal one).
    public func poll() -> PaymentSnapshot? {
        lock.lock()
        defer { lock.unlock() }
        if let p = pending {
            pending = nil
            return p.snapshot
        }
        if let t = terminal {
            terminal = nil
            finished = true
            return t.snapshot
        }
        return nil
    }

    /// `poll()` plus whether nothing will ever come after what it returned (the terminal
    /// snapshot, or nil once finished/cancelled), under one lock acquisition.
    public func pollNext() -> (item: PaymentSnapshot?, finished: Bool) {
        let (box, finished) = pollNextBox()
        return (box?.snapshot, finished)
    }

    /// As `pollNext()`, returning the box itself: the one shared by every subscriber the
    /// snapshot was offered to (no copy of the snapshot; its `memo` can hold a derived form).
    public func pollNextBox() -> (item: SnapshotBox?, finished: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let p = pending {
            pending = nil
            return (p, false)
        }
        if let t = terminal {
            terminal = nil
            finished = true
            return (t, true)
        }
        return (nil, finished)
    }

    /// True once nothing more will ever be returned by `poll()`.
    public var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }

    /// True when `poll()` would return a snapshot now.
    public var hasData: Bool {
        lock.lock()
        defer { lock.unlock() }
        return pending != nil || terminal != nil
    }

    /// Installs the wake-up callback; if data is already waiting it is called at once (on this thread).
    public func setWakeup(_ callback: @escaping @Sendable () -> Void) {
        lock.lock()
        wakeup = callback
        let now = pending != nil || terminal != nil
        lock.unlock()
        if now { callback() }
    }

    /// Ends the subscription (client went away): drops pending data and unregisters from the tower.
    public func cancel() {
        lock.lock()
        let wasClosed = closed
        closed = true
        finished = true
        pending = nil
        terminal = nil
        wakeup = nil
        let cb = onCancel
        onCancel = nil
        lock.unlock()
        if !wasClosed { cb?(self) }
    }
}

/// One immutable snapshot behind a class reference (shared by the mailboxes it is offered to).
public final class SnapshotBox: Sendable {
    public let snapshot: PaymentSnapshot
    /// A slot for one form derived from `snapshot` alone (e.g. the stream layer's encoded
    /// message), set once by the first consumer that computes it and then read, lock-free, by
    /// every other subscriber the box was offered to. Whoever stores must derive it only from
    /// `snapshot` (the box is immutable, so the memo is valid for the box's life).
    public let memo = AtomicLazyReference<any AnyObject & Sendable>()
    /// When the control tower began publishing it (unix ns; 0 when not published by the tower):
    /// the start of the fan-out delivery latency.
    public let publishedAtNs: Int64
    public init(_ snapshot: PaymentSnapshot, publishedAtNs: Int64) {
        self.snapshot = snapshot
        self.publishedAtNs = publishedAtNs
    }
    public convenience init(_ snapshot: PaymentSnapshot) { self.init(snapshot, publishedAtNs: 0) }
}
