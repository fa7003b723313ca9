import Locks

/// A live SubscribeSingleInvoice subscriber (invoicesrpc): one `Invoice` per state change of one
/// invoice, pulled by its consumer. Made for a pull-based stream writer on an event loop (no task
/// or thread per subscriber): the registry `offer`s states; `setWakeup` installs a callback run
/// when the queue goes from empty to non-empty (it must be cheap and must not call back into the
/// registry, e.g. schedule the consumer on its loop); the consumer `poll`s until nil;
/// `isFinished` turns true once a final state (or the slow-subscriber failure) has been taken.
///
/// Bounded: an invoice has at most four states after the current one, and a subscriber holds at
/// most `InvoiceRegistry.singleSubscriberQueueLimit` unread; past that it is ended with
/// `failure` = `subscriberTooSlow`.
public final class SingleInvoiceSubscription: Sendable {
    public let id: UInt64
    public let paymentHash: [UInt8]
    private let state: LockedValue<State>

    /// Everything mutable, behind one lock stored inline (no lock object per subscriber).
    struct State {
        /// Weak: a subscriber must not keep its registry alive.
        weak var registry: InvoiceRegistry?
        var queue: [Invoice] = []
        /// Nothing more will be queued (final state queued, dropped for slowness, or cancelled).
        var closed = false
        var wakeup: (@Sendable () -> Void)?
        var failure: InvoiceError?
    }

    init(id: UInt64, paymentHash: [UInt8], registry: InvoiceRegistry) {
        self.id = id
        self.paymentHash = paymentHash
        state = LockedValue(State(registry: registry))
    }

    /// Queues a state (registry lock held). Returns whether the subscriber stays registered.
    func offer(_ inv: Invoice, limit: Int) -> Bool {
        let (wake, keep) = state.withLock { s -> ((@Sendable () -> Void)?, Bool) in
            guard !s.closed else { return (nil, false) }
            let wasEmpty = s.queue.isEmpty
            if s.queue.count >= limit {
                s.queue = []
                s.failure = .subscriberTooSlow(limit: limit)
                s.closed = true
                return (s.wakeup, false)
            }
            s.queue.append(inv)
            if inv.state.isFinal { s.closed = true }
            return (wasEmpty ? s.wakeup : nil, !s.closed)
        }
        wake?()
        return keep
    }

    /// The next state, oldest first; nil when none is waiting.
    public func poll() -> Invoice? {
        state.withLock { $0.queue.isEmpty ? nil : $0.queue.removeFirst() }
    }

    /// True once nothing more will ever be returned by `poll()`.
    public var isFinished: Bool { state.withLock { $0.closed && $0.queue.isEmpty } }

    /// Why the subscription ended early (`subscriberTooSlow`), or nil.
    public var failure: InvoiceError? { state.withLock { $0.failure } }

    /// Installs the wake-up; if a state is already waiting (or the end) it is called at once.
    public func setWakeup(_ callback: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            s.wakeup = callback
            return !s.queue.isEmpty || s.closed
        }
        if now { callback() }
    }

    /// Ends the subscription (client went away): drops what is queued and unregisters.
    public func cancel() {
        let registry = state.withLock { s -> InvoiceRegistry? in
            s.closed = true
            s.queue = []
            s.wakeup = nil
            return s.registry
        }
        if let r = registry { r.withLock { r.removeSingleSubscriberLocked(paymentHash, id) } }
    }
}

extension InvoiceRegistry {
    /// Unread states one subscriber may hold: an invoice has at most four (OPEN, ACCEPTED,
    /// SETTLED or CANCELED) after the current one, so a well-behaved registry never reaches it.
    static let singleSubscriberQueueLimit = 8

    /// SubscribeSingleInvoice (LND's invoiceregistry `SubscribeSingleInvoice`): registers the
    /// subscriber, then, if the invoice exists, queues its current state (any state) first. After
    /// that every state change (OPEN on creation, ACCEPTED, SETTLED, CANCELED) is queued as the
    /// full invoice; individual HTLC arrivals while OPEN are not. The subscription finishes right
    /// after a SETTLED or CANCELED invoice, including when that is the first one. An unknown hash
    /// is not an error: the subscriber waits for the invoice to be added.
    public func subscribeSingleInvoice(paymentHash: [UInt8]) throws(InvoiceError) -> SingleInvoiceSubscription {
        if paymentHash.count != 32 { throw .invalidHashLength(paymentHash.count) }
        return try withLock { () throws(InvoiceError) -> SingleInvoiceSubscription in
            let current = try storage { try store.invoice(hash: paymentHash) }
            let id = nextSubscriberID
            nextSubscriberID += 1
            let sub = SingleInvoiceSubscription(id: id, paymentHash: paymentHash, registry: self)
            if let current, !sub.offer(current, limit: Self.singleSubscriberQueueLimit) { return sub }
            singleSubscribers[paymentHash, default: []].append(sub)
            return sub
        }
    }

    /// Live single-invoice subscribers (for tests and metrics).
    public var singleSubscriberCount: Int { withLock { singleSubscribers.values.reduce(0) { $0 + $1.count } } }

    func removeSingleSubscriberLocked(_ hash: [UInt8], _ id: UInt64) {
        guard var subs = singleSubscribers[hash] else { return }
        subs.removeAll { $0.id == id }
        singleSubscribers[hash] = subs.isEmpty ? nil : subs
    }

    /// Queues `inv` for its single-invoice subscribers, unregistering those that are done (final
    /// state, or too slow). Called under the lock.
    func notifySingle(_ inv: Invoice) {
        guard let subs = singleSubscribers[inv.rHash] else { return }
        for s in subs where !s.offer(inv, limit: Self.singleSubscriberQueueLimit) {
            removeSingleSubscriberLocked(inv.rHash, s.id)
        }
    }
}
