/// BOLT 4 failure codes. `rawValue` is LND's `lnrpc.Failure.FailureCode` numbering (what the
/// RPC layer puts on the wire); `wireCode` is the BOLT 4 `failure_code` with its flag bits
/// (BADONION 0x8000, PERM 0x4000, NODE 0x2000, UPDATE 0x1000).
public enum FailureCode: Int32, Sendable, CaseIterable {
    case incorrectOrUnknownPaymentDetails = 1
    case incorrectPaymentAmount = 2
    case finalIncorrectCLTVExpiry = 3
    case finalIncorrectHTLCAmount = 4
    case finalExpiryTooSoon = 5
    case invalidRealm = 6
    case expiryTooSoon = 7
    case invalidOnionVersion = 8
    case invalidOnionHMAC = 9
    case invalidOnionKey = 10
    case amountBelowMinimum = 11
    case feeInsufficient = 12
    case incorrectCLTVExpiry = 13
    case channelDisabled = 14
    case temporaryChannelFailure = 15
    case requiredNodeFeatureMissing = 16
    case requiredChannelFeatureMissing = 17
    case unknownNextPeer = 18
    case temporaryNodeFailure = 19
    case permanentNodeFailure = 20
    case permanentChannelFailure = 21
    case expiryTooFar = 22
    case mppTimeout = 23
    case invalidOnionPayload = 24
    case invalidOnionBlinding = 25
    case internalFailure = 997
    case unknownFailure = 998
    case unreadableFailure = 999

    static let badOnion: UInt16 = 0x8000, perm: UInt16 = 0x4000, node: UInt16 = 0x2000, update: UInt16 = 0x1000

    /// The BOLT 4 `failure_code`; nil for LND's local pseudo-codes (997–999) and the
    /// long-retired `incorrect_payment_amount`/`final_expiry_too_soon`, which keep their old values.
    public var wireCode: UInt16? {
        switch self {
        case .invalidRealm: return Self.perm | 1
        case .temporaryNodeFailure: return Self.node | 2
        case .permanentNodeFailure: return Self.perm | Self.node | 2
        case .requiredNodeFeatureMissing: return Self.perm | Self.node | 3
        case .invalidOnionVersion: return Self.badOnion | Self.perm | 4
        case .invalidOnionHMAC: return Self.badOnion | Self.perm | 5
        case .invalidOnionKey: return Self.badOnion | Self.perm | 6
        case .temporaryChannelFailure: return Self.update | 7
        case .permanentChannelFailure: return Self.perm | 8
        case .requiredChannelFeatureMissing: return Self.perm | 9
        case .unknownNextPeer: return Self.perm | 10
        case .amountBelowMinimum: return Self.update | 11
        case .feeInsufficient: return Self.update | 12
        case .incorrectCLTVExpiry: return Self.update | 13
        case .expiryTooSoon: return Self.update | 14
        case .incorrectOrUnknownPaymentDetails: return Self.perm | 15
        case .incorrectPaymentAmount: return Self.perm | 16
        case .finalExpiryTooSoon: return 17
        case .finalIncorrectCLTVExpiry: return 18
        case .finalIncorrectHTLCAmount: return 19
        case .channelDisabled: return Self.update | 20
        case .expiryTooFar: return 21
        case .invalidOnionPayload: return Self.perm | 22
        case .mppTimeout: return 23
        case .invalidOnionBlinding: return Self.badOnion | Self.perm | 24
        case .internalFailure, .unknownFailure, .unreadableFailure: return nil
        }
    }

    /// BOLT 4 PERM bit: the failure is permanent for this path (or payment, at the final node).
    public var isPermanent: Bool { (wireCode ?? 0) & Self.perm != 0 }
    /// BOLT 4 UPDATE bit: the message carries a `channel_update`.
    public var carriesChannelUpdate: Bool { (wireCode ?? 0) & Self.update != 0 }
}

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
