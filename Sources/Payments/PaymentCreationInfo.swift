/// What a payment is, fixed at InitPayment (LND `PaymentCreationInfo`).
public struct PaymentCreationInfo: Hashable, Sendable {
    /// The payment hash (or the AMP SetID): the payment's identity.
    public var paymentIdentifier: PaymentHash
    /// The amount the recipient should get, in millisatoshi.
    public var valueMsat: Int64
    /// Creation time in unix nanoseconds (0 shows as `creation_time_ns = 0`).
    public var creationTimeNs: Int64
    /// The BOLT 11 invoice string as bytes; empty for keysend/spontaneous payments.
    public var paymentRequest: [UInt8]
    /// Custom records for the first hop's `update_add_htlc` (lnrpc `first_hop_custom_records`).
    public var firstHopCustomRecords: [UInt64: [UInt8]]

    public init(paymentIdentifier: PaymentHash, valueMsat: Int64, creationTimeNs: Int64,
                paymentRequest: [UInt8] = [], firstHopCustomRecords: [UInt64: [UInt8]] = [:]) {
        self.paymentIdentifier = paymentIdentifier
        self.valueMsat = valueMsat
        self.creationTimeNs = creationTimeNs
        self.paymentRequest = paymentRequest
        self.firstHopCustomRecords = firstHopCustomRecords
    }
}

/// Why a payment failed as a whole (LND `FailureReason`).
///
/// Two numberings exist and both are facts (§2): the DB byte (`dbValue`, timeout = 0) and the
/// lnrpc `PaymentFailureReason` (`rpcValue`, FAILURE_REASON_TIMEOUT = 1; NONE = 0 means no reason).
public enum FailureReason: UInt8, Sendable, Hashable, CaseIterable {
    case timeout = 0
    case noRoute = 1
    case error = 2
    case incorrectPaymentDetails = 3
    case insufficientBalance = 4
    case canceled = 5

    public var dbValue: UInt8 { rawValue }
    /// `lnrpc.PaymentFailureReason` value; a nil reason maps to FAILURE_REASON_NONE = 0.
    public var rpcValue: Int32 { Int32(rawValue) + 1 }

    public init?(dbValue: UInt8) { self.init(rawValue: dbValue) }
}

/// The derived status of a payment (LND `PaymentStatus`; DB numbering 1...4, 0 unused).
public enum PaymentStatus: UInt8, Sendable, Hashable, CustomStringConvertible {
    case initiated = 1
    case inFlight = 2
    case succeeded = 3
    case failed = 4

    /// Succeeded and Failed are terminal: nothing may be registered or settled any more.
    public var isTerminal: Bool { self == .succeeded || self == .failed }

    /// `lnrpc.Payment.PaymentStatus` numbering: IN_FLIGHT=1, SUCCEEDED=2, FAILED=3, INITIATED=4.
    /// `useStatusInitiated == false` reports Initiated as IN_FLIGHT, as LND does by default.
    public func rpcValue(useStatusInitiated: Bool) -> Int32 {
        switch self {
        case .initiated: return useStatusInitiated ? 4 : 1
        case .inFlight: return 1
        case .succeeded: return 2
        case .failed: return 3
        }
    }

    public var description: String {
        switch self {
        case .initiated: return "Initiated"
        case .inFlight: return "In Flight"
        case .succeeded: return "Succeeded"
        case .failed: return "Failed"
        }
    }

    /// The derivation of §6, in its order: any HTLC in flight → InFlight; else any settled →
    /// Succeeded; else a failure reason → Failed; else any failed HTLC → InFlight; else Initiated.
    public static func derive(attempts: [HTLCAttempt], failureReason: FailureReason?) -> PaymentStatus {
        var settled = false, failed = false
        for a in attempts {
            if a.settle != nil { settled = true } else if a.failure != nil { failed = true } else { return .inFlight }
        }
        if settled { return .succeeded }
        if failureReason != nil { return .failed }
        if failed { return .inFlight }
        return .initiated
    }
}
