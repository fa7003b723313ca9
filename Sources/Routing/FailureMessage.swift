import LightningPrimitives

/// BOLT 4 failure codes. `rawValue` is LND's `lnrpc.Failure.FailureCode` numbering (what the
/// RPC layer puts on the wire); `wireCode` is the BOLT 4 `failure_code` with its flag bits;
/// `isPermanent`/`carriesChannelUpdate` read the PERM/UPDATE bits. The shared definition.
public typealias FailureCode = LightningPrimitives.FailureCode

/// A decoded BOLT 4 failure message with the fields its code carries. Which fields are set
/// follows BOLT 4 (and LND's `lnrpc.Failure` mapping):
/// `htlcMsat` for amount_below_minimum, fee_insufficient, final_incorrect_htlc_amount and
/// incorrect_or_unknown_payment_details; `cltvExpiry` for incorrect_cltv_expiry and
/// final_incorrect_cltv_expiry; `height` for incorrect_or_unknown_payment_details;
/// `channelUpdate` for the UPDATE codes; `disabledFlags` for channel_disabled.
public struct FailureMessage: Sendable, Equatable {
    public var code: FailureCode
    public var htlcMsat: UInt64?
    public var cltvExpiry: UInt32?
    public var height: UInt32?
    public var channelUpdate: ChannelUpdate?
    public var disabledFlags: UInt16?

    public init(code: FailureCode, htlcMsat: UInt64? = nil, cltvExpiry: UInt32? = nil, height: UInt32? = nil,
                channelUpdate: ChannelUpdate? = nil, disabledFlags: UInt16? = nil) {
        self.code = code
        self.htlcMsat = htlcMsat
        self.cltvExpiry = cltvExpiry
        self.height = height
        self.channelUpdate = channelUpdate
        self.disabledFlags = disabledFlags
    }
}

/// A failed HTLC as the sender learns it: the message plus who produced it.
/// `failureSourceIndex` follows LND: 0 is the sending node itself, `i + 1` is `route.hops[i]`.
public struct HTLCFailure: Sendable, Equatable, Error {
    public var message: FailureMessage
    public var failureSourceIndex: Int

    public init(message: FailureMessage, failureSourceIndex: Int) {
        self.message = message
        self.failureSourceIndex = failureSourceIndex
    }
}
