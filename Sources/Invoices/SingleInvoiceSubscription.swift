/// A live SubscribeSingleInvoice stream (invoicesrpc): one `Invoice` per state change of one
/// invoice. Iterate `updates`; `cancel()` (or dropping the iteration) ends it.
public struct SingleInvoiceSubscription: Sendable {
    public let id: UInt64
    public let paymentHash: [UInt8]
    public let updates: AsyncThrowingStream<Invoice, Error>
    let registry: InvoiceRegistry

    public func cancel() {
        let c = registry.withLock { registry.removeSingleSubscriberLocked(paymentHash, id) }
        c?.finish()
    }
}

extension InvoiceRegistry {
    /// State changes one subscriber can have queued: an invoice has at most four (OPEN,
    /// ACCEPTED, SETTLED or CANCELED) after the current one, so this bound is never reached by
    /// a well-behaved registry; it only caps memory.
    static let singleSubscriberQueueLimit = 8

    /// SubscribeSingleInvoice (LND's invoiceregistry `SubscribeSingleInvoice`): registers the
    /// subscriber, then, if the invoice exists, queues its current state (any state) first. After
    /// that every state change (OPEN on creation, ACCEPTED, SETTLED, CANCELED) is queued as the
    /// full invoice; individual HTLC arrivals while OPEN are not. The stream finishes right after
    /// a SETTLED or CANCELED invoice, including when that is the first one. An unknown hash is
    /// not an error: the stream waits for the invoice to be added.
    public func subscribeSingleInvoice(paymentHash: [UInt8]) throws(InvoiceError) -> SingleInvoiceSubscription {
        if paymentHash.count != 32 { throw .invalidHashLength(paymentHash.count) }
        return try withLock { () throws(InvoiceError) -> SingleInvoiceSubscription in
            let current = try storage { try store.invoice(hash: paymentHash) }
            let id = nextSubscriberID
            nextSubscriberID += 1
            let (stream, continuation) = AsyncThrowingStream<Invoice, Error>.makeStream(
                bufferingPolicy: .bufferingOldest(Self.singleSubscriberQueueLimit))
            let subscription = SingleInvoiceSubscription(id: id, paymentHash: paymentHash, updates: stream, registry: self)
            if let current {
                continuation.yield(current)
                if current.state.isFinal {
                    continuation.finish()
                    return subscription
                }
            }
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                _ = self.withLock { self.removeSingleSubscriberLocked(paymentHash, id) }
            }
            singleSubscribers[paymentHash, default: [:]][id] = continuation
            return subscription
        }
    }

    /// Live single-invoice subscribers (for tests and metrics).
    public var singleSubscriberCount: Int { withLock { singleSubscribers.values.reduce(0) { $0 + $1.count } } }

    func removeSingleSubscriberLocked(_ hash: [UInt8], _ id: UInt64) -> AsyncThrowingStream<Invoice, Error>.Continuation? {
        let c = singleSubscribers[hash]?.removeValue(forKey: id)
        if singleSubscribers[hash]?.isEmpty == true { singleSubscribers.removeValue(forKey: hash) }
        return c
    }

    /// Queues `inv` for its single-invoice subscribers; finishes them after a final state. A
    /// subscriber whose queue is full is ended with `subscriberTooSlow`. Called under the lock.
    func notifySingle(_ inv: Invoice) {
        guard let subs = singleSubscribers[inv.rHash] else { return }
        for (id, c) in subs {
            if case .dropped = c.yield(inv) {
                singleSubscribers[inv.rHash]?.removeValue(forKey: id)
                c.finish(throwing: InvoiceError.subscriberTooSlow(limit: Self.singleSubscriberQueueLimit))
            }
        }
        if inv.state.isFinal {
            singleSubscribers.removeValue(forKey: inv.rHash)
            for c in subs.values { c.finish() }
        }
    }
}
