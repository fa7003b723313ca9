/// Every error of the payment engine. `description` is LND's exact message (§5.3, §6, §12);
/// `grpcCode` is the gRPC status code LND gives for it, as a plain number (no GRPC import here).
public enum PaymentError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: InitPayment (AlreadyExists) and lookups (NotFound)
    /// LND `ErrPaymentNotInitiated`. NotFound (5) on Track/Send.
    case notInitiated
    /// LND `ErrPaymentExists`: the hash is Initiated.
    case alreadyExists
    /// LND `ErrPaymentInFlight`: the hash is InFlight.
    case inTransition
    /// LND `ErrAlreadyPaid`: the hash is Succeeded.
    case alreadyPaid
    /// LND `ErrUnknownPaymentStatus`.
    case unknownStatus

    // MARK: Updatability / registrability
    case alreadySucceeded
    case alreadyFailed
    /// LND `ErrPaymentPendingSettled`.
    case pendingSettled
    /// LND `ErrPaymentPendingFailed`.
    case pendingFailed

    // MARK: Attempt compatibility (RegisterAttempt)
    case mppPayment
    case nonMPPPayment
    case mppPaymentAddrMismatch
    case mppTotalAmountMismatch
    case valueMismatch
    case valueExceedsAmount(attemptedMsat: Int64, paymentAmountMsat: Int64)
    case blindedPaymentMPP
    case blindedTotalAmountMismatch
    case mixedBlindedAndNonBlinded
    case blindedMissingTotalAmount
    case sentExceedsTotal(sentMsat: Int64, totalMsat: Int64)
    /// Not an LND string: LND's KV store silently overwrites a reused attempt id; we refuse it.
    case attemptAlreadyRegistered(UInt64)

    // MARK: Settle / Fail attempt
    case htlcNotRegistered(UInt64)
    case attemptAlreadySettled
    case attemptAlreadyFailed

    // MARK: Delete / list
    /// DeletePayment on an InFlight payment (LND's wrapping of `ErrPaymentInFlight`, missing space included).
    case cannotDeleteInFlight(PaymentHash)
    /// DeleteAllPayments with none of its three options set (LND rpcserver).
    case deleteOptionsMissing
    /// DeleteAllPayments with `all_payments` and one of the narrowing options (LND rpcserver).
    case deleteOptionsContradictory
    /// ListPayments with creation_date_start >= creation_date_end (both set).
    case invalidDateRange(start: UInt64, end: UInt64)

    // MARK: Engine
    /// The store failed (SQLite message). Unknown (2).
    case storage(String)
    /// The store is closed (shutting down).
    case storeClosed
    /// Replicas on one database (not an LND error): this process does not hold the lease of the
    /// payment (another replica owns it, or this one lost its lease with the database), so the
    /// store refused the lifecycle change (fencing). Unavailable (14): try another replica.
    case leaseNotHeld

    public var description: String {
        switch self {
        case .notInitiated: return "payment isn't initiated"
        case .alreadyExists: return "payment already exists"
        case .inTransition: return "payment is in transition"
        case .alreadyPaid: return "invoice is already paid"
        case .unknownStatus: return "unknown payment status"
        case .alreadySucceeded: return "payment is already succeeded"
        case .alreadyFailed: return "payment has already failed"
        case .pendingSettled: return "payment has settled htlcs"
        case .pendingFailed: return "payment has failure reason"
        case .mppPayment: return "payment has MPP attempts"
        case .nonMPPPayment: return "payment has non-MPP attempts"
        case .mppPaymentAddrMismatch: return "payment address mismatch"
        case .mppTotalAmountMismatch: return "mp payment total amount mismatch"
        case .valueMismatch: return "attempted value doesn't match payment amount"
        case let .valueExceedsAmount(a, p):
            return "attempted value exceeds payment amount: attempted=\(a) mSAT, payment amount=\(p) mSAT"
        case .blindedPaymentMPP: return "blinded payment cannot contain MPP records"
        case .blindedTotalAmountMismatch: return "blinded path total amount mismatch"
        case .mixedBlindedAndNonBlinded: return "mixed blinded and non-blinded payments"
        case .blindedMissingTotalAmount: return "blinded payment final hop must set total amount"
        case let .sentExceedsTotal(s, t): return "total sent exceeds total amount: sent=\(s) mSAT, total=\(t) mSAT"
        case let .attemptAlreadyRegistered(id): return "HTLC with ID \(id) already registered"
        case let .htlcNotRegistered(id): return "HTLC with ID \(id) not registered"
        case .attemptAlreadySettled: return "attempt already settled"
        case .attemptAlreadyFailed: return "attempt already failed"
        case let .cannotDeleteInFlight(hash):
            return "payment '\(hash.hex)' has inflight HTLCsand therefore cannot be deleted: payment is in transition"
        case .deleteOptionsMissing:
            return "at least one of the options `all_payments`, `failed_payments_only`, or `failed_htlcs_only` must be set to true"
        case .deleteOptionsContradictory:
            return "`all_payments` cannot be set to true while either `failed_payments_only` or `failed_htlcs_only` is also set to true"
        case let .invalidDateRange(s, e): return "start date(\(s)) must be before end date(\(e))"
        case let .storage(m): return "payment store: \(m)"
        case .storeClosed: return "payment store is closed"
        case .leaseNotHeld: return "payment lease not held: another replica drives this payment, or this one lost the database"
        }
    }

    /// The gRPC status code LND returns with this error on TrackPaymentV2/SendPaymentV2:
    /// NotFound (5) for `notInitiated`, AlreadyExists (6) for the three InitPayment refusals,
    /// Unknown (2) for everything else. (LND's DeletePayment passes `notInitiated` through
    /// unconverted, i.e. Unknown; use `grpcCode(deleting: true)` there.)
    public var grpcCode: Int32 {
        switch self {
        case .notInitiated: return 5
        case .alreadyExists, .inTransition, .alreadyPaid: return 6
        case .leaseNotHeld: return 14
        default: return 2
        }
    }

    /// As `grpcCode`, except in the context of DeletePayment/DeleteAllPayments, where LND returns
    /// every database error unconverted (code Unknown).
    public func grpcCode(deleting: Bool) -> Int32 { deleting ? 2 : grpcCode }
}
