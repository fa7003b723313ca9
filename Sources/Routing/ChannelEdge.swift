/// A public channel as the router sees it (BOLT 7 `channel_announcement` + two `channel_update`s).
///
/// `node1` is always the lexicographically lesser key (BOLT 7 `node_id_1`); `policy1` is the
/// update with direction bit 0, i.e. node1's policy for forwarding node1 → node2, and `policy2`
/// node2's for node2 → node1. A missing policy means that direction is not usable.
public struct ChannelEdge: Sendable, Equatable {
    public let shortChannelID: ShortChannelID
    public let node1: NodeID
    public let node2: NodeID
    public var capacitySat: UInt64
    public var policy1: RoutingPolicy?
    public var policy2: RoutingPolicy?

    /// Orders the endpoints: `policyAToB` is the policy `a` announces for forwarding to `b`.
    public init(shortChannelID: ShortChannelID, between a: NodeID, and b: NodeID, capacitySat: UInt64,
                policyAToB: RoutingPolicy?, policyBToA: RoutingPolicy?) {
        self.shortChannelID = shortChannelID
        self.capacitySat = capacitySat
        if a < b {
            node1 = a; node2 = b; policy1 = policyAToB; policy2 = policyBToA
        } else {
            node1 = b; node2 = a; policy1 = policyBToA; policy2 = policyAToB
        }
    }

    /// Capacity in millisatoshi (saturating).
    public var capacityMsat: UInt64 {
        let (v, o) = capacitySat.multipliedReportingOverflow(by: 1000)
        return o ? .max : v
    }

    /// The policy for forwarding out of `node` over this channel, nil if `node` is not an endpoint
    /// or has announced no policy.
    public func policy(from node: NodeID) -> RoutingPolicy? {
        if node == node1 { return policy1 }
        if node == node2 { return policy2 }
        return nil
    }

    /// The endpoint that is not `node`.
    public func peer(of node: NodeID) -> NodeID? {
        if node == node1 { return node2 }
        if node == node2 { return node1 }
        return nil
    }

    /// BOLT 7 direction bit for updates announced by `node`: 0 for node1, 1 for node2.
    public func direction(from node: NodeID) -> UInt8? {
        if node == node1 { return 0 }
        if node == node2 { return 1 }
        return nil
    }
}
