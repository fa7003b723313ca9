import Crypto
import LightningPrimitives

/// An HTLC arriving at this node as the final hop (BOLT 4 final-node payload), as the
/// simulated network hands it to `InvoiceRegistry.acceptHTLC`.
public struct IncomingHTLC: Sendable, Equatable {
    public var paymentHash: [UInt8]
    public var amountMsat: UInt64
    /// The HTLC's `cltv_expiry` (absolute height).
    public var expiryHeight: UInt32
    /// Circuit key: incoming channel id and HTLC index.
    public var chanID: UInt64
    public var htlcIndex: UInt64
    /// `payment_data.payment_secret` (MPP record `payment_addr`); nil when absent.
    public var paymentAddr: [UInt8]?
    /// `payment_data.total_msat`; nil for a single-part payment (total = amount).
    public var totalMsat: UInt64?
    /// Final-hop TLV records (custom records >= 65536 and keysend's 5482373484).
    public var customRecords: [UInt64: [UInt8]]

    /// The keysend preimage TLV type.
    public static let keysendRecordType: UInt64 = 5_482_373_484

    public init(paymentHash: [UInt8], amountMsat: UInt64, expiryHeight: UInt32, chanID: UInt64 = 0,
                htlcIndex: UInt64 = 0, paymentAddr: [UInt8]? = nil, totalMsat: UInt64? = nil,
                customRecords: [UInt64: [UInt8]] = [:]) {
        self.paymentHash = paymentHash
        self.amountMsat = amountMsat
        self.expiryHeight = expiryHeight
        self.chanID = chanID
        self.htlcIndex = htlcIndex
        self.paymentAddr = paymentAddr
        self.totalMsat = totalMsat
        self.customRecords = customRecords
    }

    /// The keysend preimage when the sender attached one.
    public var keysendPreimage: [UInt8]? { customRecords[Self.keysendRecordType] }
}

/// A BOLT 4 final-node failure to send back for an HTLC.
public struct HTLCFailResolution: Sendable, Equatable, Error {
    /// The final-node failures the registry produces: a closed subset of the shared BOLT 4
    /// `FailureCode` (same `lnrpc.Failure.FailureCode` numbering), so callers can switch over it
    /// exhaustively. `failureCode` is the shared code, `wireCode` its BOLT 4 onion code.
    public enum Code: Int32, Sendable, Equatable {
        case incorrectOrUnknownPaymentDetails = 1
        case mppTimeout = 23

        /// The shared BOLT 4 code.
        public var failureCode: FailureCode {
            switch self {
            case .incorrectOrUnknownPaymentDetails: return .incorrectOrUnknownPaymentDetails
            case .mppTimeout: return .mppTimeout
            }
        }

        /// BOLT 4 `failure_code` (PERM|15 = 0x400f, mpp_timeout = 23). Both codes have one.
        public var wireCode: UInt16 { failureCode.wireCode! }
    }

    public var code: Code
    /// `incorrect_or_unknown_payment_details` carries the HTLC amount and the current height.
    public var htlcMsat: UInt64
    public var height: UInt32
}

/// What to do with an incoming HTLC.
public enum HTLCResolution: Sendable, Equatable {
    /// Fulfil with this preimage.
    case settle(preimage: [UInt8])
    /// Fail back with this BOLT 4 error.
    case fail(HTLCFailResolution)
}
