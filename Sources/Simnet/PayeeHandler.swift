import Routing

/// The final hop's onion payload (BOLT 4 `payload` TLVs for the recipient).
public struct FinalHopPayload: Sendable, Equatable {
    /// `amt_to_forward`: what the sender says the payee receives on this HTLC.
    public var amountMsat: UInt64
    /// `outgoing_cltv_value`.
    public var outgoingCLTV: UInt32
    /// `payment_data.total_msat` (equals `amountMsat` for a single-part payment without it).
    public var totalAmountMsat: UInt64
    /// `payment_data.payment_secret`, if sent.
    public var paymentAddr: [UInt8]?
    /// Custom records (e.g. keysend 5482373484 → preimage).
    public var customRecords: [UInt64: [UInt8]]
}

/// An HTLC arriving at its final node.
public struct PayeeHTLC: Sendable, Equatable {
    public var node: NodeID
    public var htlcID: UInt64
    public var paymentHash: [UInt8]
    /// The HTLC's amount as received (≥ `payload.amountMsat`).
    public var amountMsat: UInt64
    /// The HTLC's `cltv_expiry` as received.
    public var cltvExpiry: UInt32
    public var incomingChannel: ShortChannelID
    public var currentHeight: UInt32
    public var payload: FinalHopPayload
}

/// The payee's answer. `fail` should carry a final-node code: INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS
/// (with `htlcMsat` and `height`, see `FailureMessage.incorrectOrUnknownPaymentDetails`) or
/// MPP_TIMEOUT; the simulator reports it with `failure_source_index` = the payee's index.
public enum PayeeDecision: Sendable, Equatable {
    case settle(preimage: [UInt8])
    case fail(FailureMessage)
}

/// What a node does with HTLCs paying it: the invoice registry implements this (settle with the
/// preimage; fail for unknown hash, wrong amount, expiry too soon; for MPP, *hold* — stay
/// suspended — until the set completes, then settle all parts, or fail them with MPP_TIMEOUT).
/// Called without any simulator lock held; may suspend as long as it likes.
public protocol PayeeHandler: Sendable {
    func handle(_ htlc: PayeeHTLC) async -> PayeeDecision
}

extension FailureMessage {
    /// BOLT 4 `incorrect_or_unknown_payment_details` with the HTLC amount and current height.
    public static func incorrectOrUnknownPaymentDetails(htlcMsat: UInt64, height: UInt32) -> FailureMessage {
        FailureMessage(code: .incorrectOrUnknownPaymentDetails, htlcMsat: htlcMsat, height: height)
    }

    /// BOLT 4 `mpp_timeout`.
    public static var mppTimeout: FailureMessage { FailureMessage(code: .mppTimeout) }
}
