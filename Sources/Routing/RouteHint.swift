/// BOLT 11 `r` field entry (LND `RouteHintHop`): a private channel from `nodeID` towards the next hint
/// hop, or towards the payee for the last hop of a hint, with the policy `nodeID` charges on it.
public struct RouteHintHop: Sendable, Equatable {
    public var nodeID: NodeID
    public var chanID: ShortChannelID
    public var feeBaseMsat: UInt32
    public var feeProportionalMillionths: UInt32
    public var cltvExpiryDelta: UInt16

    public init(nodeID: NodeID, chanID: ShortChannelID, feeBaseMsat: UInt32, feeProportionalMillionths: UInt32,
                cltvExpiryDelta: UInt16) {
        self.nodeID = nodeID
        self.chanID = chanID
        self.feeBaseMsat = feeBaseMsat
        self.feeProportionalMillionths = feeProportionalMillionths
        self.cltvExpiryDelta = cltvExpiryDelta
    }

    /// The hint as a routing policy (no HTLC bounds are known for a hint).
    public var policy: RoutingPolicy {
        RoutingPolicy(feeBaseMsat: UInt64(feeBaseMsat), feeRatePPM: UInt64(feeProportionalMillionths),
                      timeLockDelta: UInt32(cltvExpiryDelta), minHTLCMsat: 0, maxHTLCMsat: .max)
    }
}

/// A route hint: hop hints in path order, ending at the payee.
public typealias RouteHint = [RouteHintHop]
