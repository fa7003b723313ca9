import Routing

/// A simulated network's layout: nodes, channels with capacities, balances and policies.
/// Loaded from the JSON format in docs/topology.md (`TopologyFile`), from LND's
/// `lncli describegraph` output (`DescribeGraphImport`), or built in (`DefaultTopology`).
public struct Topology: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var alias: String
        /// A fixed identity (imported graphs). Nil: derived from the network seed and alias,
        /// and the simulator holds the private key.
        public var nodeID: NodeID?
        public init(alias: String, nodeID: NodeID? = nil) {
            self.alias = alias
            self.nodeID = nodeID
        }
    }

    public struct Channel: Sendable, Equatable {
        public var shortChannelID: ShortChannelID
        /// Aliases of the two ends, in the order the file gives them (not BOLT 7 order).
        public var nodeA: String
        public var nodeB: String
        public var capacitySat: UInt64
        /// nodeA's local balance in msat; nil: drawn from the capacity with the network seed.
        public var balanceAMsat: UInt64?
        /// Unannounced: absent from the public graph, reachable through route hints only.
        public var isPrivate: Bool
        /// nodeA's policy for forwarding A → B, and nodeB's for B → A.
        public var policyA: RoutingPolicy?
        public var policyB: RoutingPolicy?

        public init(shortChannelID: ShortChannelID, nodeA: String, nodeB: String, capacitySat: UInt64,
                    balanceAMsat: UInt64? = nil, isPrivate: Bool = false,
                    policyA: RoutingPolicy? = RoutingPolicy(), policyB: RoutingPolicy? = RoutingPolicy()) {
            self.shortChannelID = shortChannelID
            self.nodeA = nodeA
            self.nodeB = nodeB
            self.capacitySat = capacitySat
            self.balanceAMsat = balanceAMsat
            self.isPrivate = isPrivate
            self.policyA = policyA
            self.policyB = policyB
        }
    }

    public var nodes: [Node]
    public var channels: [Channel]
    /// Block height the simulated chain starts at.
    public var startHeight: UInt32

    public init(nodes: [Node], channels: [Channel], startHeight: UInt32 = 800_000) {
        self.nodes = nodes
        self.channels = channels
        self.startHeight = startHeight
    }

    /// Checks the invariants the simulator relies on.
    /// No channel holds more than every bitcoin there will be (21,000,000 BTC in sat), so a
    /// capacity in msat always fits in 64 bits.
    public static let maxCapacitySat: UInt64 = 21_000_000 * 100_000_000

    public func validate() throws(TopologyError) {
        var aliases = Set<String>()
        var ids = Set<NodeID>()
        for n in nodes {
            guard !n.alias.isEmpty else { throw .invalidValue(field: "alias", value: "") }
            guard aliases.insert(n.alias).inserted else { throw .duplicateNode(n.alias) }
            if let id = n.nodeID, !ids.insert(id).inserted { throw .duplicateNode(id.hex) }
        }
        var scids = Set<ShortChannelID>()
        for c in channels {
            guard scids.insert(c.shortChannelID).inserted else { throw .duplicateChannel(c.shortChannelID.description) }
            guard aliases.contains(c.nodeA) else { throw .unknownNode(c.nodeA) }
            guard aliases.contains(c.nodeB) else { throw .unknownNode(c.nodeB) }
            guard c.nodeA != c.nodeB else { throw .invalidValue(field: "node2", value: c.nodeB) }
            guard c.capacitySat > 0 else { throw .invalidValue(field: "capacity_sat", value: "0") }
            guard c.capacitySat <= Self.maxCapacitySat else {
                throw .invalidValue(field: "capacity_sat", value: String(c.capacitySat))
            }
            if let b = c.balanceAMsat, b > c.capacitySat * 1000 {
                throw .balanceExceedsCapacity(c.shortChannelID.description)
            }
        }
    }
}

/// Why a topology could not be loaded.
public enum TopologyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidJSON(String)
    case missingField(String)
    case invalidValue(field: String, value: String)
    case unknownNode(String)
    case duplicateNode(String)
    case duplicateChannel(String)
    case balanceExceedsCapacity(String)

    public var description: String {
        switch self {
        case .invalidJSON(let m): return "invalid topology JSON: \(m)"
        case .missingField(let f): return "topology: missing field \(f)"
        case let .invalidValue(f, v): return "topology: invalid \(f): \(v)"
        case .unknownNode(let n): return "topology: unknown node \(n)"
        case .duplicateNode(let n): return "topology: duplicate node \(n)"
        case .duplicateChannel(let c): return "topology: duplicate channel \(c)"
        case .balanceExceedsCapacity(let c): return "topology: balance exceeds capacity on channel \(c)"
        }
    }
}
