import Routing

extension SimulatedNetwork {
    /// One node of the simulated network as a whole-network view shows it.
    public struct NodeDescription: Sendable, Equatable {
        public var id: NodeID
        public var alias: String
        public var online: Bool
    }

    /// One channel with both sides' balances; side 0 is node1, the lesser key (BOLT 7).
    public struct ChannelDescription: Sendable, Equatable {
        public var shortChannelID: ShortChannelID
        public var node1: NodeID
        public var node2: NodeID
        public var capacitySat: UInt64
        /// Settled balance of node1 and node2 (HTLCs in flight are still counted on the sender's side).
        public var balanceMsat: (UInt64, UInt64)
        /// Outgoing HTLC amounts in flight from node1 and node2.
        public var lockedMsat: (UInt64, UInt64)
        public var isPrivate: Bool
        public var policy1: RoutingPolicy?
        public var policy2: RoutingPolicy?

        public static func == (a: Self, b: Self) -> Bool {
            a.shortChannelID == b.shortChannelID && a.node1 == b.node1 && a.node2 == b.node2
                && a.capacitySat == b.capacitySat && a.balanceMsat == b.balanceMsat && a.lockedMsat == b.lockedMsat
                && a.isPrivate == b.isPrivate && a.policy1 == b.policy1 && a.policy2 == b.policy2
        }
    }

    /// Every node and channel now, balances read from the ledger in one snapshot so they are
    /// consistent with each other (a payment moving between two channels is never counted
    /// twice). Nodes in topology order, channels in topology order.
    public func describe() -> (nodes: [NodeDescription], channels: [ChannelDescription], blockHeight: UInt32) {
        let states = ledgerStates(nil)
        return withLock {
            let ns = nodes.map { NodeDescription(id: $0.id, alias: $0.alias, online: $0.online) }
            let cs = channels.map { c in
                let s = states[c.scid] ?? LedgerChannelState(balanceMsat: c.openingBalanceMsat)
                return ChannelDescription(shortChannelID: c.scid, node1: nodes[c.nodes.0].id, node2: nodes[c.nodes.1].id,
                                   capacitySat: c.capacitySat, balanceMsat: (s.balanceMsat[0], s.balanceMsat[1]),
                                   lockedMsat: (s.lockedMsat[0], s.lockedMsat[1]), isPrivate: c.isPrivate,
                                   policy1: c.policy[0], policy2: c.policy[1])
            }
            return (ns, cs, height)
        }
    }
}
