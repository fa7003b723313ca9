/// BOLT 7 `channel_update` (type 258), as carried inside BOLT 4 failure messages
/// (`temporary_channel_failure`, `fee_insufficient`, `channel_disabled`, ...).
///
/// Fields are the BOLT 7 ones; LND's `lnrpc.ChannelUpdate` maps 1:1 (`base_fee`, `fee_rate`,
/// `time_lock_delta`, `htlc_minimum_msat`, `htlc_maximum_msat`, `message_flags`, `channel_flags`).
public struct ChannelUpdate: Sendable, Equatable {
    /// 64-byte compact ECDSA signature of the announcing node over double-SHA256(`signedBytes`).
    public var signature: [UInt8]
    /// 32-byte genesis hash of the chain.
    public var chainHash: [UInt8]
    public var shortChannelID: ShortChannelID
    public var timestamp: UInt32
    /// Bit 0 `must_be_one` (formerly `option_channel_htlc_max`).
    public var messageFlags: UInt8
    /// Bit 0 `direction`, bit 1 `disable`.
    public var channelFlags: UInt8
    public var cltvExpiryDelta: UInt16
    public var htlcMinimumMsat: UInt64
    public var feeBaseMsat: UInt32
    public var feeProportionalMillionths: UInt32
    public var htlcMaximumMsat: UInt64

    public init(signature: [UInt8] = [UInt8](repeating: 0, count: 64), chainHash: [UInt8],
                shortChannelID: ShortChannelID, timestamp: UInt32, direction: UInt8, policy: RoutingPolicy) {
        self.signature = signature
        self.chainHash = chainHash
        self.shortChannelID = shortChannelID
        self.timestamp = timestamp
        self.messageFlags = 1
        self.channelFlags = (direction & 1) | (policy.disabled ? 2 : 0)
        self.cltvExpiryDelta = UInt16(clamping: policy.timeLockDelta)
        self.htlcMinimumMsat = policy.minHTLCMsat
        self.feeBaseMsat = UInt32(clamping: policy.feeBaseMsat)
        self.feeProportionalMillionths = UInt32(clamping: policy.feeRatePPM)
        self.htlcMaximumMsat = policy.maxHTLCMsat
    }

    /// 0: announced by node_id_1 (policy for node1 → node2); 1: by node_id_2.
    public var direction: UInt8 { channelFlags & 1 }
    public var isDisabled: Bool { channelFlags & 2 != 0 }

    /// The policy this update announces.
    public var policy: RoutingPolicy {
        RoutingPolicy(feeBaseMsat: UInt64(feeBaseMsat), feeRatePPM: UInt64(feeProportionalMillionths),
                      timeLockDelta: UInt32(cltvExpiryDelta), minHTLCMsat: htlcMinimumMsat,
                      maxHTLCMsat: htlcMaximumMsat, disabled: isDisabled, lastUpdate: timestamp)
    }

    /// The bytes the signature covers: everything after the signature (BOLT 7: "the signature
    /// ... of the double-SHA256 of the entire remaining packet after `signature`").
    public var signedBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32 + 8 + 4 + 2 + 2 + 8 + 4 + 4 + 8)
        out += chainHash
        out += Self.be(shortChannelID.rawValue, 8)
        out += Self.be(UInt64(timestamp), 4)
        out.append(messageFlags)
        out.append(channelFlags)
        out += Self.be(UInt64(cltvExpiryDelta), 2)
        out += Self.be(htlcMinimumMsat, 8)
        out += Self.be(UInt64(feeBaseMsat), 4)
        out += Self.be(UInt64(feeProportionalMillionths), 4)
        out += Self.be(htlcMaximumMsat, 8)
        return out
    }

    /// The full wire message: type 258, signature, then `signedBytes`.
    public var wireBytes: [UInt8] { [0x01, 0x02] + signature + signedBytes }

    private static func be(_ v: UInt64, _ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) }
    }
}
