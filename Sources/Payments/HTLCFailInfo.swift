import LightningPrimitives

/// BOLT 4 failure codes, numbered as `lnrpc.Failure.FailureCode`, with the BOLT 4 wire-code
/// mapping (`wireCode`, `init(wireCode:)`, `carriesChannelUpdate`): the shared definition.
public typealias FailureCode = LightningPrimitives.FailureCode

/// BOLT 7 `channel_update`, with fields as `lnrpc.ChannelUpdate`.
public struct StoredChannelUpdate: Hashable, Sendable {
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
public struct StoredFailureMessage: Hashable, Sendable {
    public var code: FailureCode
    public var channelUpdate: StoredChannelUpdate?
    public var htlcMsat: UInt64
    public var onionSha256: [UInt8]
    public var cltvExpiry: UInt32
    public var flags: UInt32
    public var height: UInt32

    public init(code: FailureCode, channelUpdate: StoredChannelUpdate? = nil, htlcMsat: UInt64 = 0,
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
    /// A decrypted wire failure message (see `HTLCFailInfo.message`).
    case message = 3
}

/// The failure of one HTLC attempt (LND `HTLCFailInfo`).
public struct HTLCFailInfo: Hashable, Sendable {
    public var failTimeNs: Int64
    public var reason: HTLCFailReason
    /// The wire message when `reason == .message`; a nil message shows as UNKNOWN_FAILURE.
    public var message: StoredFailureMessage?
    /// Position in the route of the node that produced the failure (0 = ourselves).
    public var failureSourceIndex: UInt32

    public init(failTimeNs: Int64, reason: HTLCFailReason, message: StoredFailureMessage? = nil, failureSourceIndex: UInt32 = 0) {
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
