import Foundation
import BOLT11
import Crypto
import SQLite

/// One node's invoices: creation (AddInvoice), lookup, listing, subscriptions, and the payee side
/// of HTLC acceptance and settlement (BOLT 4 final node), persisted in SQLite.
///
/// Contract:
/// - One registry per node and store file. Every public method is thread-safe (one lock); none
///   blocks on I/O other than SQLite.
/// - States move OPEN → ACCEPTED (hold invoices only) → SETTLED, or OPEN/ACCEPTED → CANCELED. An
///   expired OPEN invoice is canceled when an HTLC for it arrives and can never be settled.
/// - `add_index` and `settle_index` are strictly increasing and survive restarts.
/// - HTLC resolutions are delivered outside the lock, each exactly once, after the state they
///   depend on is durable (a preimage is released only after SETTLED is committed).
/// - Subscriber queues are bounded; a subscriber that falls behind is ended with
///   `InvoiceError.subscriberTooSlow` rather than buffered without limit.
public final class InvoiceRegistry: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// The chain invoices are made for (`lntb` on testnet, ...).
        public var currency: Currency
        /// The node key that signs invoices.
        public var nodeKey: PrivateKey
        /// Accept keysend payments, creating a settled invoice for each (LND `--accept-keysend`).
        public var acceptKeysend: Bool = false
        /// `c` written when AddInvoice gives no cltv_expiry (LND's default TimeLockDelta, 80).
        public var defaultCLTVExpiry: UInt64 = 80
        /// Largest invoice amount (LND's default MaxPaymentMSat, 2^32-1 msat).
        public var maxPaymentMsat: UInt64 = 4_294_967_295
        /// How long parts of an incomplete MPP set are held before failing with mpp_timeout (LND: 120 s).
        public var mppTimeoutSeconds: Int64 = 120
        /// Live updates a subscriber may have queued before it is dropped.
        public var subscriberQueueLimit: Int = 1024
        /// At open, cancel HTLCs left ACCEPTED by a previous run (see `init(database:configuration:)`).
        /// False when the simulated network is shared by several processes (`PostgresChannelLedger`):
        /// those HTLCs may be held by a live replica.
        public var cancelAcceptedAtOpen = true
        /// Unix seconds.
        public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

        public init(currency: Currency, nodeKey: PrivateKey) {
            self.currency = currency
            self.nodeKey = nodeKey
        }
    }

    /// LND's DefaultInvoiceExpiry (24 h).
    public static let defaultExpiry: Int64 = 86_400
    /// LND routing.MinCLTVDelta.
    public static let minCLTVDelta: UInt64 = 18

    public let configuration: Configuration
    let store: any InvoicePersistence
    let lock = NSRecursiveLock()
    var held: [[UInt8]: HeldSet] = [:]
    var subscribers: [UInt64: AsyncThrowingStream<Invoice, Error>.Continuation] = [:]
    var nextSubscriberID: UInt64 = 1
    /// Hear every invoice state change (SubscribeSingleInvoice, `SingleInvoiceWatcher.swift`).
    var singleWatchers: [any SingleInvoiceWatcher] = []
    var lastHeight: UInt32 = 0
    var lifecycleObserver: (@Sendable (InvoiceLifecycleEvent) -> Void)?

    /// Observes HTLC sets becoming claimable and invoices settling (the Komodo API's records
    /// follow them). Called synchronously with the registry's lock held, after the state is
    /// committed for `.settled`: it must be quick and must not call back into the registry.
    public func setLifecycleObserver(_ observer: (@Sendable (InvoiceLifecycleEvent) -> Void)?) {
        withLock { lifecycleObserver = observer }
    }

    /// Opens (creating if needed) the store at `path`. HTLCs left ACCEPTED by a previous run on
    /// invoices that are still OPEN (incomplete MPP sets) are canceled: nothing can resolve them now.
    /// The same holds for an ACCEPTED hold invoice: the simulated network's HTLCs die with the
    /// process (the payer fails them when it resumes), so its HTLCs are canceled and it is OPEN
    /// again, payable by the payer's retry (LND, whose HTLCs survive a restart, keeps it ACCEPTED).
    public convenience init(path: String, configuration: Configuration) throws(InvoiceError) {
        try self.init(database: .sqlite(path: path), configuration: configuration)
    }

    /// Opens (creating or migrating if needed) the invoice store in `database`.
    public init(database: InvoiceDatabase, configuration: Configuration) throws(InvoiceError) {
        self.configuration = configuration
        do {
            switch database {
            case .sqlite(let path): store = try SQLiteInvoiceStore(path: path)
            case .postgres(let options): store = try PostgresInvoiceStore(options: options)
            }
        } catch { throw .storage("\(error)") }
        do {
            let now = configuration.now()
            for var inv in try store.withAcceptedHTLCs() where configuration.cancelAcceptedAtOpen && (inv.state == .open || (inv.state == .accepted && inv.isHold)) {
                for i in inv.htlcs.indices where inv.htlcs[i].state == .accepted {
                    inv.htlcs[i].state = .canceled
                    inv.htlcs[i].resolveTime = now
                }
                inv.state = .open
                inv.amtPaidMsat = 0
                try store.update(inv)
            }
        } catch { throw .storage("\(error)") }
    }

    func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func storage<R>(_ body: () throws -> R) throws(InvoiceError) -> R {
        do { return try body() } catch let e as InvoiceError { throw e } catch { throw .storage("\(error)") }
    }

    // MARK: AddInvoice

    /// Creates, signs and stores an invoice (LND AddInvoice / AddHoldInvoice semantics).
    public func addInvoice(_ req: AddInvoiceRequest) throws(InvoiceError) -> AddInvoiceResult {
        if !req.rPreimage.isEmpty && req.rPreimage.count != 32 { throw .invalidPreimageLength(req.rPreimage.count) }
        if req.isAmp && (!req.rPreimage.isEmpty || req.holdPaymentHash != nil) { throw .ampWithPreimage }
        if let h = req.holdPaymentHash, h.count != 32 { throw .invalidHashLength(h.count) }
        if req.value != 0 && req.valueMsat != 0 { throw .satMsatMutuallyExclusive }
        if req.value < 0 || req.valueMsat < 0 { throw .negativeAmount }
        var msat = UInt64(req.valueMsat)
        if req.value != 0 {
            let (m, overflow) = UInt64(req.value).multipliedReportingOverflow(by: 1000)
            if overflow { throw .paymentTooLarge(amountMsat: .max, maxMsat: configuration.maxPaymentMsat) }
            msat = m
        }
        if req.layout == .lnd && msat > configuration.maxPaymentMsat { throw .paymentTooLarge(amountMsat: msat, maxMsat: configuration.maxPaymentMsat) }
        if req.memo.utf8.count > 1024 { throw .memoTooLarge(req.memo.utf8.count) }
        if !req.descriptionHash.isEmpty && req.descriptionHash.count != 32 {
            throw .invalidDescriptionHashLength(req.descriptionHash.count)
        }
        var fallback: Fallback?
        if !req.fallbackAddr.isEmpty {
            guard let f = Fallback(address: req.fallbackAddr, on: configuration.currency) else {
                throw .invalidFallbackAddress(req.fallbackAddr)
            }
            fallback = f
        }
        if req.expiry < 0 || (req.layout == .lnd && req.expiry > 31_536_000) { throw .invalidExpiry(req.expiry) }
        let expiry = req.expiry == 0 && req.layout == .lnd ? Self.defaultExpiry : req.expiry
        var cltv = configuration.defaultCLTVExpiry
        if req.cltvExpiry != 0 {
            if req.cltvExpiry < Self.minCLTVDelta { throw .cltvTooSmall(req.cltvExpiry) }
            if req.cltvExpiry > 65_535 { throw .cltvTooLarge(req.cltvExpiry) }
            cltv = req.cltvExpiry
        }

        var preimage: [UInt8]?
        let hash: [UInt8]
        if req.isAmp {
            hash = SecureRandom.bytes(32)
        } else if let h = req.holdPaymentHash {
            hash = h
        } else {
            preimage = req.rPreimage.isEmpty ? SecureRandom.bytes(32) : req.rPreimage
            hash = SHA256.hash(preimage!)
        }
        let paymentAddr = SecureRandom.bytes(32)
        let features = FeatureVector(bits: req.isAmp ? [8, 14, 30] : [8, 14, 17])
        let now = configuration.now()

        var fields: [TaggedField] = []
        let description: TaggedField = req.descriptionHash.isEmpty ? .description(req.memo) : .descriptionHash(req.descriptionHash)
        switch req.layout {
        case .lnd:
            // Field order as LND's zpay32 writes them: p, d|h, c, x, f, r..., s, 9.
            fields = [.paymentHash(hash), description, .minFinalCLTVExpiry(cltv), .expiry(UInt64(expiry))]
            if let fallback { fields.append(.fallback(fallback)) }
            for route in req.routeHints where !route.isEmpty { fields.append(.routeHint(route)) }
            fields.append(.paymentSecret(paymentAddr))
            fields.append(.features(features))
        case .ldkChannelManager:
            // lightning-invoice 0.21 InvoiceBuilder order: d, n, p, s, 9, c, x, r...
            fields = [description, .payee(configuration.nodeKey.publicKey), .paymentHash(hash), .paymentSecret(paymentAddr),
                      .features(features), .minFinalCLTVExpiry(cltv), .expiry(UInt64(expiry))]
            if let fallback { fields.append(.fallback(fallback)) }
            for route in req.routeHints where !route.isEmpty { fields.append(.routeHint(route)) }
        }
        let unsigned = UnsignedBolt11Invoice(currency: configuration.currency, amountMsat: msat == 0 ? nil : msat,
                                             timestamp: UInt64(now), fields: fields)
        let paymentRequest: String
        do { paymentRequest = try unsigned.sign(with: configuration.nodeKey).paymentRequest } catch { throw .encoding(error) }

        var inv = Invoice(memo: req.memo, rPreimage: preimage, rHash: hash, valueMsat: Int64(msat), creationDate: now,
                          settleDate: 0, paymentRequest: paymentRequest, descriptionHash: req.descriptionHash,
                          expiry: expiry, fallbackAddr: req.fallbackAddr, cltvExpiry: cltv,
                          routeHints: req.routeHints.filter { !$0.isEmpty }, isPrivate: req.isPrivate, addIndex: 0,
                          settleIndex: 0, amtPaidMsat: 0, state: .open, htlcs: [], features: features,
                          isKeysend: false, paymentAddr: paymentAddr, isAmp: req.isAmp, isHold: req.holdPaymentHash != nil)
        try withLock { () throws(InvoiceError) in
            inv.addIndex = try storage { try store.insert(inv) }
            notify(inv)
        }
        return AddInvoiceResult(rHash: hash, paymentRequest: paymentRequest, addIndex: inv.addIndex, paymentAddr: paymentAddr)
    }

    // MARK: LookupInvoice

    /// LookupInvoice by `r_hash` bytes.
    public func lookupInvoice(rHash: [UInt8]) throws(InvoiceError) -> Invoice {
        if !rHash.isEmpty && rHash.count != 32 { throw .invalidHashLength(rHash.count) }
        return try withLock { () throws(InvoiceError) -> Invoice in
            if let inv = try storage({ try store.invoice(hash: rHash) }) { return inv }
            throw try storage { try store.count() } == 0 ? .noInvoicesCreated : .notFound
        }
    }

    /// LookupInvoiceV2 by payment address: `unable to locate invoice`, or `there are no existing
    /// invoices` when the store is empty (LND's KV backend). The address is not length-checked
    /// (LND copies it into a [32]byte), so a wrong length simply matches nothing.
    public func lookupInvoice(paymentAddr: [UInt8]) throws(InvoiceError) -> Invoice {
        try withLock { () throws(InvoiceError) -> Invoice in
            if let inv = try storage({ try store.invoice(paymentAddr: paymentAddr) }) { return inv }
            throw try storage { try store.count() } == 0 ? .noInvoicesCreated : .notFound
        }
    }

    /// LookupInvoice by the hex `r_hash_str` (either case).
    public func lookupInvoice(rHashStr: String) throws(InvoiceError) -> Invoice {
        if let e = goHexError(rHashStr) { throw .invalidHex(e) }
        return try lookupInvoice(rHash: Hex.decode(rHashStr) ?? [])
    }

    /// LookupInvoice with lnrpc.PaymentHash's two fields: `r_hash_str` wins when non-empty.
    public func lookupInvoice(rHashStr: String, rHash: [UInt8]) throws(InvoiceError) -> Invoice {
        rHashStr.isEmpty ? try lookupInvoice(rHash: rHash) : try lookupInvoice(rHashStr: rHashStr)
    }

    // MARK: ListInvoices

    /// ListInvoices (LND invoice query: exclusive `index_offset`, default 100 per page, results in
    /// ascending add_index order even when `reversed`).
    public func listInvoices(_ q: InvoiceQuery) throws(InvoiceError) -> InvoiceSlice {
        if q.creationDateStart != 0 && q.creationDateEnd != 0 && q.creationDateStart >= q.creationDateEnd {
            throw .invalidDateRange(start: q.creationDateStart, end: q.creationDateEnd)
        }
        let limit = q.numMaxInvoices == 0 ? 100 : q.numMaxInvoices
        let invoices = try withLock { () throws(InvoiceError) in try storage { try store.page(q, limit: limit) } }
        return InvoiceSlice(invoices: invoices, firstIndexOffset: invoices.first?.addIndex ?? 0,
                            lastIndexOffset: invoices.last?.addIndex ?? 0)
    }

    // MARK: SubscribeInvoices

    /// SubscribeInvoices: first every invoice with add_index > `addIndex` (when non-zero) in add
    /// order, then every settled invoice with settle_index > `settleIndex` (when non-zero) in settle
    /// order, then live events (a new invoice; a settle) with no gap and no duplicate between
    /// backlog and live. The stream ends with `subscriberTooSlow` if more than
    /// `subscriberQueueLimit` live updates are queued unread.
    public func subscribeInvoices(addIndex: UInt64 = 0, settleIndex: UInt64 = 0) throws(InvoiceError) -> InvoiceSubscription {
        try withLock { () throws(InvoiceError) -> InvoiceSubscription in
            var backlog = [Invoice]()
            if addIndex > 0 { backlog += try storage { try store.added(after: addIndex) } }
            if settleIndex > 0 { backlog += try storage { try store.settled(after: settleIndex) } }
            let id = nextSubscriberID
            nextSubscriberID += 1
            let limit = configuration.subscriberQueueLimit + backlog.count
            let (stream, continuation) = AsyncThrowingStream<Invoice, Error>.makeStream(bufferingPolicy: .bufferingOldest(limit))
            for inv in backlog { continuation.yield(inv) }
            continuation.onTermination = { [weak self] _ in self?.removeSubscriber(id) }
            subscribers[id] = continuation
            return InvoiceSubscription(id: id, updates: stream, registry: self)
        }
    }

    func removeSubscriber(_ id: UInt64) {
        withLock { _ = subscribers.removeValue(forKey: id) }
    }

    /// Number of live subscribers (for tests and metrics).
    public var subscriberCount: Int { withLock { subscribers.count } }

    /// Sends a state change to the invoice's single-invoice subscribers (every state), and an add
    /// (OPEN) or settle event to every SubscribeInvoices subscriber (LND sends ACCEPTED and
    /// CANCELED to single-invoice subscribers only). Called under the lock.
    func notify(_ inv: Invoice) {
        notifySingle(inv)
        guard inv.state == .open || inv.state == .settled else { return }
        var slow = [UInt64]()
        for (id, c) in subscribers {
            if case .dropped = c.yield(inv) { slow.append(id) }
        }
        for id in slow {
            if let c = subscribers.removeValue(forKey: id) {
                c.finish(throwing: InvoiceError.subscriberTooSlow(limit: configuration.subscriberQueueLimit))
            }
        }
    }
}

/// A live SubscribeInvoices stream. Iterate `updates`; `cancel()` (or dropping the iteration)
/// ends it and frees its queue.
public struct InvoiceSubscription: Sendable {
    public let id: UInt64
    public let updates: AsyncThrowingStream<Invoice, Error>
    let registry: InvoiceRegistry

    public func cancel() {
        let c = registry.withLock { registry.subscribers.removeValue(forKey: id) }
        c?.finish()
    }
}
