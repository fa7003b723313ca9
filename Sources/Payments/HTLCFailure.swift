/// BOLT 4 failure codes, numbered as `lnrpc.Failure.FailureCode` (not the raw onion `failure_code`).
///
/// `init(wireCode:)` maps the raw BOLT 4 code (with its BADONION/PERM/NODE/UPDATE flag bits) to this
/// numbering; `INTERNAL_FAILURE`, `UNKNOWN_FAILURE` and `UNREADABLE_FAILURE` are LND's local codes.
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
    public var wireCode: UInt16? {
        let b = Self.badOnion, p = Self.perm, n = Self.node, u = Self.update
        switch self {
        case .reserved, .internalFailure, .unknownFailure, .unreadableFailure: return nil
        case .incorrectOrUnknownPaymentDetails: return p | 15
        case .incorrectPaymentAmount: return p | 16
        case .finalIncorrectCltvExpiry: return 18
        case .finalIncorrectHtlcAmount: return 19
        case .finalExpiryTooSoon: return 17
        case .invalidRealm: return p | 1
        case .expiryTooSoon: return u | 14
        case .invalidOnionVersion: return b | p | 4
        case .invalidOnionHmac: return b | p | 5
        case .invalidOnionKey: return b | p | 6
        case .amountBelowMinimum: return u | 11
        case .feeInsufficient: return u | 12
        case .incorrectCltvExpiry: return u | 13
        case .channelDisabled: return u | 20
        case .temporaryChannelFailure: return u | 7
        case .requiredNodeFeatureMissing: return p | n | 3
        case .requiredChannelFeatureMissing: return p | 9
        case .unknownNextPeer: return p | 10
        case .temporaryNodeFailure: return n | 2
        case .permanentNodeFailure: return p | n | 2
        case .permanentChannelFailure: return p | 8
        case .expiryTooFar: return 21
        case .mppTimeout: return 23
        case .invalidOnionPayload: return p | 22
        case .invalidOnionBlinding: return b | p | 24
        }
    }

    /// Maps a raw BOLT 4 `failure_code` to the lnrpc numbering; unknown codes give nil.
    public init?(wireCode: UInt16) {
        guard let match = FailureCode.allCases.first(where: { $0.wireCode == wireCode }) else { return nil }
        self = match
    }

    /// Codes whose failure message carries a `channel_update` (BOLT 4; LND `MarshallFailure`).
    public var carriesChannelUpdate: Bool {
        switch self {
        case .expiryTooSoon, .amountBelowMinimum, .feeInsufficient, .incorrectCltvExpiry, .channelDisabled,
             .temporaryChannelFailure: return true
        default: return false
        }
    }
}

/// BOLT 7 `channel_update`, with fields as `lnrpc.ChannelUpdate`.
public struct ChannelUpdate: Hashable, Sendable {
    public var signature: [UInt8]
    public var chainHash: [UInt8]
    public var chanID: UInt64
    public var timestamp: UInt32
    public var messageFlags: UInt32
    public var channelFlags: UInt32
    public var timeLockDelta: UInt32
    public var htlcMinimumMsat: UInt64
    public var baseFee: UInt32
    public var feeRate: UInt32
    public var htlcMaximumMsat: UInt64
    public var extraOpaqueData: [UInt8]

    public init(signature: [UInt8] = [], chainHash: [UInt8] = [], chanID: UInt64, timestamp: UInt32 = 0,
                messageFlags: UInt32 = 0, channelFlags: UInt32 = 0, timeLockDelta: UInt32 = 0,
                htlcMinimumMsat: UInt64 = 0, baseFee: UInt32 = 0, feeRate: UInt32 = 0,
                htlcMaximumMsat: UInt64 = 0, extraOpaqueData: [UInt8] = []) {
        self.signature = signature
        self.chainHash = chainHash
        self.chanID = chanID
        self.timestamp = timestamp
        self.messageFlags = messageFlags
        self.channelFlags = channelFlags
        self.timeLockDelta = timeLockDelta
        self.htlcMinimumMsat = htlcMinimumMsat
        self.baseFee = baseFee
        self.feeRate = feeRate
        self.htlcMaximumMsat = htlcMaximumMsat
        self.extraOpaqueData = extraOpaqueData
    }
}

/// A decoded BOLT 4 failure message (LND `lnwire.FailureMessage`) with the fields `lnrpc.Failure` shows.
/// Fields a code does not carry stay at their zero value.
public struct FailureMessage: Hashable, Sendable {
    public var code: FailureCode
    public var channelUpdate: ChannelUpdate?
    public var htlcMsat: UInt64
    public var onionSha256: [UInt8]
    public var cltvExpiry: UInt32
    public var flags: UInt32
    public var height: UInt32

    public init(code: FailureCode, channelUpdate: ChannelUpdate? = nil, htlcMsat: UInt64 = 0,
                onionSha256: [UInt8] = [], cltvExpiry: UInt32 = 0, flags: UInt32 = 0, height: UInt32 = 0) {
        self.code = code
        self.channelUpdate = channelUpdate
        self.htlcMsat = htlcMsat
        self.onionSha256 = onionSha256
        self.cltvExpiry = cltvExpiry
        self.flags = flags
        self.height = height
    }
}

/// Why an HTLC failed, as LND's `HTLCFailReason` (DB byte values 0...3).
public enum HTLCFailReason: UInt8, Sendable, Hashable {
    /// The failure source is unknown (e.g. a stale attempt failed at restart).
    case unknown = 0
    /// The onion failure could not be decrypted.
    case unreadable = 1
    /// A local, internal failure.
    case `internal` = 2
    /// A decrypted wire failure message (see `HTLCFailure.message`).
    case message = 3
}

/// The failure of one HTLC attempt (LND `HTLCFailInfo`).
public struct HTLCFailure: Hashable, Sendable {
    public var failTimeNs: Int64
    public var reason: HTLCFailReason
    /// The wire message when `reason == .message`; a nil message shows as UNKNOWN_FAILURE.
    public var message: FailureMessage?
    /// Position in the route of the node that produced the failure (0 = ourselves).
    public var failureSourceIndex: UInt32

    public init(failTimeNs: Int64, reason: HTLCFailReason, message: FailureMessage? = nil, failureSourceIndex: UInt32 = 0) {
        self.failTimeNs = failTimeNs
        self.reason = reason
        self.message = message
        self.failureSourceIndex = failureSourceIndex
    }

    /// The `lnrpc.Failure.code` LND reports (§7): local reasons map to 998/999/997,
    /// a wire message to its own code, a missing message to UNKNOWN_FAILURE.
    public var code: FailureCode {
        switch reason {
        case .unknown: return .unknownFailure
        case .unreadable: return .unreadableFailure
        case .internal: return .internalFailure
        case .message: return message?.code ?? .unknownFailure
        }
    }
}

/// A settled HTLC: the preimage the recipient released and when.
public struct HTLCSettle: Hashable, Sendable {
    public var preimage: Preimage
    public var settleTimeNs: Int64
    public init(preimage: Preimage, settleTimeNs: Int64) {
        self.preimage = preimage
        self.settleTimeNs = settleTimeNs
    }
}
