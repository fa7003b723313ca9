/// What SubscribeSingleInvoice streams (invoicesrpc, LND's invoiceregistry
/// `SubscribeSingleInvoice`) are built on: a watcher hears every state change of every invoice
/// (OPEN on creation, ACCEPTED, SETTLED, CANCELED; individual HTLC arrivals while OPEN are not
/// state changes), and reads an invoice's current state in the same order as those changes.
///
/// A server keeps one watcher per event loop, holding all of that loop's streams (no object, task
/// or queue per stream in the registry): `InvoiceRegistry.addSingleInvoiceWatcher` registers it
/// once, `currentInvoice(paymentHash:_:)` gives a new stream its first state.
public protocol SingleInvoiceWatcher: AnyObject, Sendable {
    /// `invoice` has just changed state (committed). Called with the registry's lock held, in
    /// commit order: it must be quick (queue and wake) and must not call back into the registry.
    func invoiceStateChanged(_ invoice: Invoice)
}

extension InvoiceRegistry {
    /// Unread states one SubscribeSingleInvoice stream may hold while its client does not read:
    /// an invoice has at most four (OPEN, ACCEPTED, SETTLED or CANCELED), so a well-behaved
    /// client never reaches it; past it the stream ends with `subscriberTooSlow`.
    public static let singleSubscriberQueueLimit = 8

    /// Registers `watcher` for every later state change of every invoice (for the registry's life).
    public func addSingleInvoiceWatcher(_ watcher: any SingleInvoiceWatcher) {
        withLock { singleWatchers.append(watcher) }
    }

    /// Reads the invoice of `paymentHash` (nil: none yet) and hands it to `deliver` with the
    /// registry's lock held: every state change a watcher hears before `deliver` runs is at most
    /// that state, every one it hears after is newer. So a stream that starts watching a hash
    /// first and then asks for its current state misses nothing and sees nothing twice (LND: the
    /// current state first, then every change). `deliver` must be quick and must not call back.
    public func currentInvoice(paymentHash: [UInt8], _ deliver: (Invoice?) -> Void) throws(InvoiceError) {
        if paymentHash.count != 32 { throw .invalidHashLength(paymentHash.count) }
        try withLock { () throws(InvoiceError) in
            deliver(try storage { try store.invoice(hash: paymentHash) })
        }
    }

    /// Tells the single-invoice watchers about `inv`'s new state. Called under the lock.
    func notifySingle(_ inv: Invoice) {
        for w in singleWatchers { w.invoiceStateChanged(inv) }
    }
}
