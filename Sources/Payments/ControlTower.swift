import Caches
import Locks
/// Streams every committed change of every payment to its subscribers (LND `ControlTower`
/// subscription side; the mutating side is `PaymentControl`).
///
/// - `subscribePayment` is atomic with reading the payment's current committed snapshot: the
///   subscriber gets that snapshot first, then every later one, none missed and none twice
///   (versions only grow, see `PaymentMailbox`). For a terminal payment the mailbox holds that one
///   snapshot and finishes after it. A bounded cache of recent committed snapshots makes this an
///   in-memory lookup for recent payments (safe to call from an event-loop thread); on a miss it
///   reads the store by hash (one indexed lookup).
/// - `subscribeAllPayments(replaySince:)`: LND's TrackPayments, i.e. the in-flight payments
///   first (from the status index, not a scan), then every change; plus, with `replaySince`, the
///   current snapshot of every payment updated at or after that time.
///
/// Replay-since semantics (what PayTrack adds to TrackPayments): every change stamps its payment
/// with an update time `lastUpdateNs` (unix ns) that is strictly increasing across all changes and
/// never smaller than any time the snapshot shows (creation, attempt, resolve times). An
/// all-payments mailbox delivers snapshots in increasing stamp order. So a client that remembers
/// T = the largest creation_time_ns / attempt_time_ns / resolve_time_ns it has received, and
/// reconnects with `replaySince: T`, receives the current snapshot of every payment changed at or
/// after T (which includes every change it missed, terminal ones too), then live events. Delivery
/// is at-least-once: payments it already saw may come again; none is lost, even across a restart
/// (stamps are persisted and indexed). The replay reads the `last_update_ns` index, not all payments.
/// - `notify` is called by `PaymentControl` on the store's writer thread after the change
///   committed, in commit order. Fan-out is synchronous into mailboxes (O(1) each), outside the
///   tower's lock; each mailbox is woken right after its offer (no lock held).
public final class ControlTower: @unchecked Sendable {
    public struct Options: Sendable {
        /// Recent committed snapshots kept in memory (fast TrackPaymentV2 of finished payments).
        public var cacheCapacity: Int = 16_384
        /// Payments that may wait in one all-payments mailbox before it overflows.
        public var allPaymentsMailboxCapacity: Int = 10_000
        /// Upper bound on snapshots replayed by one `subscribeAllPayments(replaySince:)`.
        public var maxReplay: Int = 100_000
        public init() {}
    }

    /// What `notify` reports about one publish to an optional observer (debug logging): the
    /// snapshot, the wall clock (CLOCK_REALTIME, unix ns) taken when the publish began (after the
    /// commit; the fan-out proper starts here), and how many single-payment subscribers it was
    /// offered to.
    public typealias PublishObserver = @Sendable (_ snapshot: PaymentSnapshot, _ publishedAtNs: Int64, _ subscribers: Int) -> Void

    private let store: PaymentPersistence
    public let options: Options
    /// Called by `notify` after the wake-ups ran (on the notifier's thread, outside the lock).
    private let publishObserver: PublishObserver?
    private let lock = Lock()
    private var cache: FIFOCache<PaymentHash, PaymentSnapshot>
    private var subscribers: [PaymentHash: [ObjectIdentifier: PaymentMailbox]] = [:]
    private var allSubscribers: [ObjectIdentifier: AllPaymentsMailbox] = [:]

    public init(store: PaymentPersistence, options: Options = Options(), publishObserver: PublishObserver? = nil) {
        self.store = store
        self.options = options
        self.publishObserver = publishObserver
        self.cache = FIFOCache(capacity: options.cacheCapacity)
    }

    // MARK: Reading

    /// The current committed snapshot of a payment (cache, else one indexed store read), or nil.
    public func fetchPayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot? {
        if let s = lock.withLock({ cache[hash] }) { return s }
        guard let s = try store.fetchPayment(hash) else { return nil }
        lock.withLock { cache.insert(s, forKey: s.paymentHash, replace: Self.isNewer) }
        return s
    }

    /// The cached committed snapshot only (never touches the store): for event-loop fast paths.
    public func cachedPayment(_ hash: PaymentHash) -> PaymentSnapshot? {
        lock.withLock { cache[hash] }
    }

    // MARK: Subscribing

    /// TrackPaymentV2. Throws `.notInitiated` (NotFound) for an unknown hash.
    public func subscribePayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentMailbox {
        let mailbox = PaymentMailbox(paymentHash: hash)
        // Fast path: the committed snapshot is cached. Offer and register under the lock, so no
        // notification can slip between them.
        lock.lock()
        if let s = cache[hash] {
            let (keep, _) = mailbox.offer(s)
            if keep { register(mailbox) }
            lock.unlock()
            return mailbox
        }
        // Slow path: register first, then read; version ordering in the mailbox drops whichever
        // of (store read, live notification) is older.
        register(mailbox)
        lock.unlock()
        let s: PaymentSnapshot?
        do { s = try store.fetchPayment(hash) } catch {
            unregister(mailbox)
            throw error
        }
        guard let s else {
            unregister(mailbox)
            throw .notInitiated
        }
        lock.lock()
        cache.insert(s, forKey: s.paymentHash, replace: Self.isNewer)
        let (keep, _) = mailbox.offer(s)
        if !keep { subscribers[hash]?[ObjectIdentifier(mailbox)] = nil }
        lock.unlock()
        return mailbox
    }

    /// TrackPayments. Registers first, then seeds the mailbox with every Initiated/InFlight
    /// payment and, if `replaySince` is given, every payment whose update stamp is >= it
    /// (at-least-once: a payment may come twice across a reconnect, never zero times).
    public func subscribeAllPayments(replaySince: Int64? = nil) throws(PaymentError) -> AllPaymentsMailbox {
        let mailbox = AllPaymentsMailbox(capacity: options.allPaymentsMailboxCapacity)
        let id = ObjectIdentifier(mailbox)
        mailbox.onCancel = { [weak self] mb in self?.lock.withLock { self?.allSubscribers[ObjectIdentifier(mb)] = nil } }
        lock.withLock { allSubscribers[id] = mailbox }
        do {
            var seed = try store.fetchInFlightPayments()
            var truncated = false
            if let since = replaySince {
                let replay = try store.fetchPaymentsUpdated(since: since, limit: options.maxReplay)
                if replay.count >= options.maxReplay {
                    // Too much to replay at once: deliver the oldest part in stamp order and end;
                    // live events would jump past the rest. The client resumes from what it saw.
                    truncated = true
                    seed = replay
                    lock.withLock { allSubscribers[id] = nil }
                } else {
                    seed += replay
                }
            }
            _ = mailbox.seed(seed, truncated: truncated)
        } catch {
            lock.withLock { allSubscribers[id] = nil }
            throw error
        }
        return mailbox
    }

    /// Number of live single-payment subscribers of `hash` (diagnostics, tests).
    public func subscriberCount(_ hash: PaymentHash) -> Int {
        lock.withLock { subscribers[hash]?.count ?? 0 }
    }

    public var allPaymentsSubscriberCount: Int { lock.withLock { allSubscribers.count } }

    private func register(_ mailbox: PaymentMailbox) {
        mailbox.onCancel = { [weak self] mb in self?.unregister(mb) }
        subscribers[mailbox.paymentHash, default: [:]][ObjectIdentifier(mailbox)] = mailbox
    }

    private func unregister(_ mailbox: PaymentMailbox) {
        lock.withLock {
            let h = mailbox.paymentHash
            subscribers[h]?[ObjectIdentifier(mailbox)] = nil
            if subscribers[h]?.isEmpty == true { subscribers[h] = nil }
        }
    }

    // MARK: Notifying (PaymentControl, writer thread, after commit)

    /// Publishes a committed snapshot to the cache and every subscriber.
    ///
    /// Under the lock: the cache is updated and the payment's subscribers are read (and, for a
    /// terminal snapshot, all removed: each takes its last snapshot here). The single-payment
    /// mailboxes are then offered the snapshot one by one OUTSIDE the lock, each woken right after
    /// its offer, so the first subscribers' event loops are already sending while the rest are
    /// offered (a fan-out to 10,000 does not wait for 10,000 offers first). This is safe: a mailbox
    /// registering after the read gets the snapshot from the cache in `subscribePayment`; a
    /// mailbox cancelled meanwhile refuses the offer; and versions only grow per mailbox, so no
    /// snapshot arrives twice or out of order (notify runs on the store's writer thread, in commit
    /// order; even concurrent notifies could only be dropped as older, never reordered).
    public func notify(_ s: PaymentSnapshot) {
        let publishedAt = unixNanosNow()   // the fan-out latency starts here (and the observer logs it)
        var wakes: [@Sendable () -> Void] = []
        var subs: [PaymentMailbox] = []
        lock.lock()
        cache.insert(s, forKey: s.paymentHash, replace: Self.isNewer)
        let h = s.paymentHash
        if let d = subscribers[h] {
            subs.reserveCapacity(d.count)
            subs.append(contentsOf: d.values)
            // Closed mailboxes otherwise leave through `cancel` -> `unregister`.
            if s.status.isTerminal { subscribers[h] = nil }
        }
        for (id, mb) in allSubscribers {
            let (keep, wake) = mb.offer(s)
            if let wake { wakes.append(wake) }
            if !keep { allSubscribers[id] = nil }
        }
        lock.unlock()
        for w in wakes { w() }
        if !subs.isEmpty {
            let box = SnapshotBox(s, publishedAtNs: publishedAt)
            for mb in subs {
                if let wake = mb.offer(box).wake { wake() }
            }
        }
        publishObserver?(s, publishedAt, subs.count)
    }

    /// Publishes a snapshot another process committed (a replica's change feed): as `notify`,
    /// unless this tower already published this version or a newer one (its own change read back).
    public func notifyIfNewer(_ s: PaymentSnapshot) {
        if let cached = lock.withLock({ cache[s.paymentHash] }), cached.version >= s.version { return }
        notify(s)
    }

    /// Updates the cache without notifying (pruning of failed attempts, as LND: no notification).
    public func replaceSilently(_ s: PaymentSnapshot) {
        lock.withLock { cache.insert(s, forKey: s.paymentHash, replace: Self.isNewer) }
    }

    /// Drops a payment from the cache (deleted, or its state is uncertain after a store error).
    public func forget(_ hash: PaymentHash) {
        lock.withLock { cache.removeValue(forKey: hash) }
    }

    /// Drops the whole cache (after DeleteAllPayments).
    public func forgetAll() {
        lock.withLock { cache.removeAll() }
    }
}

extension ControlTower {
    /// The cache keeps the newest version of a payment: a snapshot replaces one of a lower or equal version.
    static func isNewer(_ cached: PaymentSnapshot, _ candidate: PaymentSnapshot) -> Bool { cached.version <= candidate.version }
}
