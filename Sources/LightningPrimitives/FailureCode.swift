/// BOLT 4 failure codes, numbered as LND's `lnrpc.Failure.FailureCode` (what the RPC layer puts
/// on the wire), not as the raw onion `failure_code`.
///
/// `wireCode` is the BOLT 4 `failure_code` with its flag bits (BADONION 0x8000, PERM 0x4000,
/// NODE 0x2000, UPDATE 0x1000); `init(wireCode:)` maps it back. `reserved` (0) and
/// `internalFailure`/`unknownFailure`/`unreadableFailure` (997–999) are LND's local codes and have
/// no wire code. The one definition shared by Payments, Routing, Simnet and Invoices.
public enum FailureCode: Int32, Sendable, Hashable, CaseIterable {
    case reserved = 0
    case incorrectOrUnknownPaymentDetails = 1
    case incorrectPaymentAmount = 2
    case finalIncorrectCltvExpiry = 3
    case finalIncorrectHtlcAmount = 4
    case finalExpiryTooSoon = 5
    case invalidRealm = 6
    case expiryTooSoon = 7
    case invalidOnionVersion = 8
    case invalidOnionHmac = 9
    case invalidOnionKey = 10
    case amountBelowMinimum = 11
    case feeInsufficient = 12
    case incorrectCltvExpiry = 13
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

    /// BOLT 4 flag bits of the raw `failure_code`.
    public static let badOnion: UInt16 = 0x8000, perm: UInt16 = 0x4000, node: UInt16 = 0x2000, update: UInt16 = 0x1000

    /// The raw BOLT 4 onion `failure_code`, or nil for LND's local codes and `reserved`.
    /// (`incorrect_payment_amount` and `final_expiry_too_soon`, retired from BOLT 4, keep their old values.)
    public var wireCode: UInt16? {
        let b = Self.badOnion, p = Self.perm, n = Self.node, u = Self.update
        switch self {
        case .reserved, .internalFailure, .unknownFailure, .unreadableFailure: return nil
        case .invalidRealm: return p | 1
        case .temporaryNodeFailure: return n | 2
        case .permanentNodeFailure: return p | n | 2
        case .requiredNodeFeatureMissing: return p | n | 3
        case .invalidOnionVersion: return b | p | 4
        case .invalidOnionHmac: return b | p | 5
        case .invalidOnionKey: return b | p | 6
        case .temporaryChannelFailure: return u | 7
        case .permanentChannelFailure: return p | 8
        case .requiredChannelFeatureMissing: return p | 9
        case .unknownNextPeer: return p | 10
        case .amountBelowMinimum: return u | 11
        case .feeInsufficient: return u | 12
        case .incorrectCltvExpiry: return u | 13
        case .expiryTooSoon: return u | 14
        case .incorrectOrUnknownPaymentDetails: return p | 15
        case .incorrectPaymentAmount: return p | 16
        case .finalExpiryTooSoon: return 17
        case .finalIncorrectCltvExpiry: return 18
        case .finalIncorrectHtlcAmount: return 19
        case .channelDisabled: return u | 20
        case .expiryTooFar: return 21
        case .invalidOnionPayload: return p | 22
        case .mppTimeout: return 23
        case .invalidOnionBlinding: return b | p | 24
        }
    }

    /// Maps a raw BOLT 4 `failure_code` to the lnrpc numbering; unknown codes give nil.
    public init?(wireCode: UInt16) {
        guard let match = FailureCode.allCases.first(where: { $0.wireCode == wireCode }) else { return nil }
        self = match
    }

    /// BOLT 4 PERM bit: the failure is permanent for this path (or payment, at the final node).
    public var isPermanent: Bool { (wireCode ?? 0) & Self.perm != 0 }

    /// BOLT 4 UPDATE bit: the failure message carries a `channel_update` (LND `MarshallFailure`):
    /// expiry_too_soon, amount_below_minimum, fee_insufficient, incorrect_cltv_expiry,
    /// channel_disabled, temporary_channel_failure.
    public var carriesChannelUpdate: Bool { (wireCode ?? 0) & Self.update != 0 }
}
