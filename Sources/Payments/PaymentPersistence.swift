/// One durable change, carrying the snapshot it produces. The store applies the listed change
/// (not the whole snapshot) and stamps the row with `snapshot.lastUpdateNs`.
public enum PaymentWrite: Sendable {
    /// Inserts a new payment.
    case initPayment(PaymentSnapshot)
    /// Retry of a Failed payment: rewrites its creation info, deletes its attempts and reason,
    /// and gives it the snapshot's new payment index.
    case reinitPayment(PaymentSnapshot)
    case registerAttempt(PaymentSnapshot, attemptID: UInt64)
    /// Settle or fail of one attempt (the snapshot holds the outcome).
    case resolveAttempt(PaymentSnapshot, attemptID: UInt64)
    case failPayment(PaymentSnapshot)
    /// Deletes the failed attempts of the payment (pruning, DeletePayment failed_htlcs_only).
    case removeFailedAttempts(PaymentSnapshot)
    case deletePayment(PaymentHash)
    /// DeleteAllPayments over the status index: removable payments (Initiated/Succeeded/Failed),
    /// or only Failed ones; with `failedHtlcsOnly` only their failed attempts go. Stamps changed rows.
    case deletePayments(failedOnly: Bool, failedHtlcsOnly: Bool, stamp: Int64)

    public var paymentHash: PaymentHash? {
        switch self {
        case .initPayment(let s), .reinitPayment(let s), .registerAttempt(let s, _), .resolveAttempt(let s, _), .failPayment(let s),
             .removeFailedAttempts(let s): return s.paymentHash
        case .deletePayment(let h): return h
        case .deletePayments: return nil
        }
    }
}

/// A ListPayments query (lnrpc.ListPaymentsRequest, already validated by `PaymentsQuery.validate`).
public struct PaymentsQuery: Sendable, Hashable {
    /// Exclusive start: forward returns indexes > offset; reversed returns indexes < offset (0 = from the end).
    public var indexOffset: UInt64
    /// 0 means 100 (LND DefaultMaxPayments).
    public var maxPayments: UInt64
    public var reversed: Bool
    /// false: only Succeeded payments.
    public var includeIncomplete: Bool
    public var countTotalPayments: Bool
    /// Unix seconds, inclusive; 0 = unbounded.
    public var creationDateStart: UInt64
    public var creationDateEnd: UInt64
    public var omitHops: Bool

    public static let defaultMaxPayments: UInt64 = 100

    public init(indexOffset: UInt64 = 0, maxPayments: UInt64 = 0, reversed: Bool = false, includeIncomplete: Bool = false,
                countTotalPayments: Bool = false, creationDateStart: UInt64 = 0, creationDateEnd: UInt64 = 0,
                omitHops: Bool = false) {
        self.indexOffset = indexOffset
        self.maxPayments = maxPayments
        self.reversed = reversed
        self.includeIncomplete = includeIncomplete
        self.countTotalPayments = countTotalPayments
        self.creationDateStart = creationDateStart
        self.creationDateEnd = creationDateEnd
        self.omitHops = omitHops
    }

    /// LND's request check: both dates set and start >= end → `start date(%v) must be before end date(%v)`.
    public func validate() throws(PaymentError) {
        if creationDateStart != 0 && creationDateEnd != 0 && creationDateStart >= creationDateEnd {
            throw .invalidDateRange(start: creationDateStart, end: creationDateEnd)
        }
    }

    public var effectiveMaxPayments: UInt64 { maxPayments == 0 ? Self.defaultMaxPayments : maxPayments }
}

/// A ListPayments page (lnrpc.ListPaymentsResponse): payments in ascending index order.
public struct PaymentsPage: Sendable, Hashable {
    public var payments: [PaymentSnapshot]
    public var firstIndexOffset: UInt64
    public var lastIndexOffset: UInt64
    /// Set when `countTotalPayments`: every payment in the store, complete or not.
    public var totalNumPayments: UInt64
    public init(payments: [PaymentSnapshot], firstIndexOffset: UInt64, lastIndexOffset: UInt64, totalNumPayments: UInt64) {
        self.payments = payments
        self.firstIndexOffset = firstIndexOffset
        self.lastIndexOffset = lastIndexOffset
        self.totalNumPayments = totalNumPayments
    }
}

/// Durable storage for payments (implemented by `PaymentStore.SQLitePaymentStore` and
/// `PaymentStore.PostgresPaymentStore`; `PaymentStoreConformance` tests both the same way).
///
/// Contract:
/// - Reads see committed data only and are safe from any thread.
/// - `write` queues changes for a single writer that groups them into transactions (group commit);
///   `completion` runs on the writer thread, in submission order, after the transaction holding
///   the changes committed (nil) or failed (error). It must not block on the store.
/// - `write` blocks when the bounded queue is full, except when called from the writer thread.
public protocol PaymentPersistence: AnyObject, Sendable {
    func fetchPayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot?
    /// Initiated and InFlight payments, from the status index (no scan of all payments).
    func fetchInFlightPayments() throws(PaymentError) -> [PaymentSnapshot]
    /// Payments whose update stamp is >= `since`, ascending by stamp, from the stamp index.
    func fetchPaymentsUpdated(since: Int64, limit: Int) throws(PaymentError) -> [PaymentSnapshot]
    func queryPayments(_ query: PaymentsQuery) throws(PaymentError) -> PaymentsPage
    /// Number of payments (maintained counter, O(1)).
    func paymentCount() throws(PaymentError) -> UInt64
    /// The highest payment index and update stamp ever committed (restored at open).
    var highWater: (paymentIndex: UInt64, updateStamp: Int64) { get }

    /// True when the writer itself refuses an `initPayment` of a hash the database already holds
    /// (it looks the batch's new hashes up in one statement when the group commits, and fails
    /// each such change alone with LND's refusal for the stored status: `alreadyExists`,
    /// `inTransition` or `alreadyPaid`, a Failed one as `alreadyExists`). `PaymentControl` then creates a
    /// payment it has not seen without reading the store first: on a database reached over a
    /// socket, that read was a round trip per new payment under the control's lock.
    var refusesStoredInits: Bool { get }

    /// Writes; `completion(error, deletedCount)`; `deletedCount` is the number of payments deleted.
    func write(_ writes: [PaymentWrite], completion: @escaping @Sendable (PaymentError?, Int) -> Void)
    /// True on the writer thread (where completions run).
    var isWriterThread: Bool { get }
    /// Waits until every queued write has committed.
    func flush()
    /// Drains queued changes and closes the store (idempotent); later calls fail with `storeClosed`.
    func close()
    /// Tells `observer` of every committed group (metrics): how long its transaction took, from
    /// its start to the commit's return, in nanoseconds, and how many queued items it held. Runs
    /// on the writer thread after each commit; must be quick. Replaces any previous observer.
    func observeCommits(_ observer: @escaping CommitObserver)
}

extension PaymentPersistence {
    /// By default the store does not screen inits: `PaymentControl` reads a hash it has not seen.
    public var refusesStoredInits: Bool { false }
}

/// See ``PaymentPersistence/observeCommits(_:)``.
public typealias CommitObserver = @Sendable (_ nanoseconds: UInt64, _ groupSize: Int) -> Void
