/// One direction's forwarding policy of a channel, as announced in a BOLT 7 `channel_update`
/// by the node that forwards *out* over the channel in that direction.
public struct RoutingPolicy: Sendable, Equatable {
    /// `fee_base_msat`.
    public var feeBaseMsat: UInt64
    /// `fee_proportional_millionths` (LND: `fee_rate_milli_msat`).
    public var feeRatePPM: UInt64
    /// `cltv_expiry_delta` (LND: `time_lock_delta`).
    public var timeLockDelta: UInt32
    /// `htlc_minimum_msat`.
    public var minHTLCMsat: UInt64
    /// `htlc_maximum_msat`; `UInt64.max` when unknown (then capacity bounds it).
    public var maxHTLCMsat: UInt64
    /// `channel_flags` bit 1.
    public var disabled: Bool
    /// `timestamp` of the update this policy came from (newer updates replace older ones).
    public var lastUpdate: UInt32

    public init(feeBaseMsat: UInt64 = 1000, feeRatePPM: UInt64 = 1, timeLockDelta: UInt32 = 40,
                minHTLCMsat: UInt64 = 1000, maxHTLCMsat: UInt64 = .max, disabled: Bool = false,
                lastUpdate: UInt32 = 0) {
        self.feeBaseMsat = feeBaseMsat
        self.feeRatePPM = feeRatePPM
        self.timeLockDelta = timeLockDelta
        self.minHTLCMsat = minHTLCMsat
        self.maxHTLCMsat = maxHTLCMsat
        self.disabled = disabled
        self.lastUpdate = lastUpdate
    }

    /// BOLT 7 fee for forwarding `amountMsat` out over this channel:
    /// `fee_base_msat + amount_to_forward * fee_proportional_millionths / 1_000_000` (integer
    /// division, rounding down), saturating instead of overflowing.
    @inlinable
    public func fee(forwarding amountMsat: UInt64) -> UInt64 {
        let (high, low) = amountMsat.multipliedFullWidth(by: feeRatePPM)
        let proportional: UInt64
        if high >= 1_000_000 {
            proportional = .max
        } else {
            proportional = UInt64(1_000_000).dividingFullWidth((high, low)).quotient
        }
        let (sum, overflow) = feeBaseMsat.addingReportingOverflow(proportional)
        return overflow ? .max : sum
    }
}
