import Crypto
import Routing

/// A channel of the simulated network as LND's graph describes it (`lnrpc.ChannelEdge`): both
/// ends in BOLT 7 order (node1 has the lesser key) with each one's current policy.
public struct GraphChannel: Sendable, Equatable {
    public let shortChannelID: ShortChannelID
    public let node1: NodeID
    public let node2: NodeID
    public let capacitySat: UInt64
    /// Not announced (LND: no AuthProof; listed only with `include_unannounced`).
    public let isPrivate: Bool
    /// The policy node1 (node2) applies when forwarding out over this channel.
    public let policy1: RoutingPolicy?
    public let policy2: RoutingPolicy?

    /// `chan_point` as LND prints it, `txid:output`. The simulation has no funding transactions:
    /// the txid is derived from the short channel id (SHA-256 of its 8 big-endian bytes, shown
    /// in Bitcoin's reversed byte order), the output index is the id's own; unique and stable.
    public var channelPoint: String { Self.channelPoint(of: shortChannelID) }

    public static func channelPoint(of scid: ShortChannelID) -> String {
        let raw = (0..<8).map { UInt8(truncatingIfNeeded: scid.rawValue >> (56 - 8 * $0)) }
        return Hex.encode(Array(SHA256.hash(raw).reversed())) + ":\(scid.outputIndex)"
    }
}

/// A node of the simulated network (`lnrpc.LightningNode`).
public struct GraphNode: Sendable, Equatable {
    public let id: NodeID
    public let alias: String

    public init(id: NodeID, alias: String) {
        self.id = id
        self.alias = alias
    }
}

extension SimulatedNetwork {
    /// Every node, in topology order (LND's DescribeGraph lists every graph node).
    public func graphNodes() -> [GraphNode] {
        withLock { nodes.map { GraphNode(id: $0.id, alias: $0.alias) } }
    }

    /// The channels, in topology order; private ones only with `includePrivate`.
    public func graphChannels(includePrivate: Bool) -> [GraphChannel] {
        withLock { channels.filter { includePrivate || !$0.isPrivate }.map(graphChannel) }
    }

    /// One channel (private ones included, as LND's GetChanInfo), or nil.
    public func graphChannel(_ scid: ShortChannelID) -> GraphChannel? {
        withLock { channelIndex[scid].map { graphChannel(channels[$0]) } }
    }

    /// The channel whose `channelPoint` is `point`, or nil.
    public func graphChannel(channelPoint point: String) -> GraphChannel? {
        withLock { channels.first { GraphChannel.channelPoint(of: $0.scid) == point }.map(graphChannel) }
    }

    /// The channels of `node` (private ones included), in topology order.
    public func graphChannels(of node: NodeID) -> [GraphChannel] {
        withLock {
            guard let n = nodeIndex[node] else { return [] }
            return nodes[n].channels.map { graphChannel(channels[$0]) }
        }
    }

    /// Lock held.
    private func graphChannel(_ ch: Channel) -> GraphChannel {
        GraphChannel(shortChannelID: ch.scid, node1: nodes[ch.nodes.0].id, node2: nodes[ch.nodes.1].id,
                     capacitySat: ch.capacitySat, isPrivate: ch.isPrivate, policy1: ch.policy[0], policy2: ch.policy[1])
    }
}
