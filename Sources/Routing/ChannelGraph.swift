/// The public channel graph view used for pathfinding (LND's `channeldb` graph, LDK's
/// `NetworkGraph`): nodes by 33-byte key, channels by short channel id, per-direction policies.
///
/// A value type: the router searches a snapshot while the owner (Simnet, or gossip) keeps
/// mutating its own copy. Nodes and channels get dense indices internally so the search runs
/// over arrays, not dictionaries.
public struct ChannelGraph: Sendable {
    public struct Node: Sendable, Equatable {
        public let id: NodeID
        public var alias: String
    }

    public enum Error: Swift.Error, Equatable, Sendable {
        case duplicateChannel(ShortChannelID)
        case selfChannel(ShortChannelID)
    }

    public private(set) var nodes: [Node] = []
    public private(set) var channels: [ChannelEdge] = []
    var nodeIndex: [NodeID: Int32] = [:]
    var channelIndex: [ShortChannelID: Int32] = [:]
    /// Per node index: its channels, each packed as `channel << 32 | peerIsNode2 << 31 | peer`
    /// so the search needs no second lookup to find the peer and the peer's policy slot.
    var adjacency: [[UInt64]] = []
    /// Per policy slot (`2c + direction`): announced and enabled. Compact, so the search can
    /// skip unusable directions without touching the full policy.
    var usable: [Bool] = []
    /// Per channel index: (node1 index, node2 index).
    var endpoints: [(Int32, Int32)] = []
    /// Per channel index `c`: `2c` is node1's policy, `2c + 1` node2's, flattened for the search.
    var densePolicies: [DensePolicy] = []
    /// Per channel index: capacity in msat.
    var capacitiesMsat: [UInt64] = []
    /// `hopCounts(from:)` of this topology; replaced (not cleared: copies share it) when nodes
    /// or channels change.
    private var hopMemo = HopCountMemo()

    public init() {}

    public var nodeCount: Int { nodes.count }
    public var channelCount: Int { channels.count }

    /// Adds a node (or renames it if present) and returns its dense index.
    @discardableResult
    public mutating func addNode(_ id: NodeID, alias: String = "") -> Int {
        if let i = nodeIndex[id] {
            if !alias.isEmpty { nodes[Int(i)].alias = alias }
            return Int(i)
        }
        let i = Int32(nodes.count)
        hopMemo = HopCountMemo()
        nodes.append(Node(id: id, alias: alias))
        nodeIndex[id] = i
        adjacency.append([])
        return Int(i)
    }

    @inline(__always)
    static func pack(channel: Int32, peer: Int32, peerIsNode2: Bool) -> UInt64 {
        UInt64(UInt32(channel)) << 32 | (peerIsNode2 ? 1 << 31 : 0) | UInt64(UInt32(peer))
    }

    /// Adds a channel, adding its endpoints as nodes if unknown.
    public mutating func addChannel(_ edge: ChannelEdge) throws(Error) {
        guard channelIndex[edge.shortChannelID] == nil else { throw .duplicateChannel(edge.shortChannelID) }
        guard edge.node1 != edge.node2 else { throw .selfChannel(edge.shortChannelID) }
        let a = Int32(addNode(edge.node1)), b = Int32(addNode(edge.node2))
        let c = Int32(channels.count)
        hopMemo = HopCountMemo()
        channels.append(edge)
        channelIndex[edge.shortChannelID] = c
        endpoints.append((a, b))
        densePolicies.append(DensePolicy(edge.policy1))
        densePolicies.append(DensePolicy(edge.policy2))
        capacitiesMsat.append(edge.capacityMsat)
        usable.append(edge.policy1.map { !$0.disabled } ?? false)
        usable.append(edge.policy2.map { !$0.disabled } ?? false)
        adjacency[Int(a)].append(Self.pack(channel: c, peer: b, peerIsNode2: true))
        adjacency[Int(b)].append(Self.pack(channel: c, peer: a, peerIsNode2: false))
    }

    public func contains(_ node: NodeID) -> Bool { nodeIndex[node] != nil }

    public func node(_ id: NodeID) -> Node? { nodeIndex[id].map { nodes[Int($0)] } }

    public func channel(_ scid: ShortChannelID) -> ChannelEdge? {
        channelIndex[scid].map { channels[Int($0)] }
    }

    /// All channels of `node` (empty if unknown).
    public func channels(of node: NodeID) -> [ChannelEdge] {
        guard let i = nodeIndex[node] else { return [] }
        return adjacency[Int(i)].map { channels[Int($0 >> 32)] }
    }

    /// Per node index: the fewest channels between it and `source` over every channel, usable
    /// or not (a lower bound on any route's hop count), 255 when unreachable (or ≥ 254 hops away).
    /// Breadth-first over the whole graph; memoized per topology and source, since every search
    /// from the node itself needs the same counts.
    func hopCounts(from source: Int32) -> [UInt8] {
        hopMemo.hops(from: source) {
            var hops = [UInt8](repeating: 255, count: nodeCount)
            var frontier: [Int32] = [source]
            hops[Int(source)] = 0
            var next: [Int32] = []
            var depth: UInt8 = 0
            while !frontier.isEmpty && depth < 254 {
                depth += 1
                next.removeAll(keepingCapacity: true)
                for v in frontier {
                    for packed in adjacency[Int(v)] {
                        let u = Int(packed & 0x7FFF_FFFF)
                        if hops[u] == 255 { hops[u] = depth; next.append(Int32(u)) }
                    }
                }
                swap(&frontier, &next)
            }
            return hops
        }
    }

    /// Replaces the policy `node` announces on `scid`. Returns false if the channel is unknown or
    /// `node` is not an endpoint.
    @discardableResult
    public mutating func setPolicy(_ policy: RoutingPolicy?, on scid: ShortChannelID, from node: NodeID) -> Bool {
        guard let c = channelIndex[scid] else { return false }
        if channels[Int(c)].node1 == node {
            channels[Int(c)].policy1 = policy
            densePolicies[2 * Int(c)] = DensePolicy(policy)
            usable[2 * Int(c)] = densePolicies[2 * Int(c)].usable
            return true
        }
        if channels[Int(c)].node2 == node {
            channels[Int(c)].policy2 = policy
            densePolicies[2 * Int(c) + 1] = DensePolicy(policy)
            usable[2 * Int(c) + 1] = densePolicies[2 * Int(c) + 1].usable
            return true
        }
        return false
    }

    /// Applies a BOLT 7 `channel_update` (e.g. one carried in a BOLT 4 failure) if it is for a
    /// known channel and not older than the stored policy. Returns whether it was applied.
    @discardableResult
    public mutating func apply(_ update: ChannelUpdate) -> Bool {
        guard let c = channelIndex[update.shortChannelID] else { return false }
        let edge = channels[Int(c)]
        let existing = update.direction == 0 ? edge.policy1 : edge.policy2
        if let existing, existing.lastUpdate > update.timestamp { return false }
        if update.direction == 0 { channels[Int(c)].policy1 = update.policy } else { channels[Int(c)].policy2 = update.policy }
        densePolicies[2 * Int(c) + Int(update.direction)] = DensePolicy(update.policy)
        usable[2 * Int(c) + Int(update.direction)] = densePolicies[2 * Int(c) + Int(update.direction)].usable
        return true
    }

    /// Removes a channel (closed or forgotten).
    public mutating func removeChannel(_ scid: ShortChannelID) {
        guard let c = channelIndex.removeValue(forKey: scid) else { return }
        hopMemo = HopCountMemo()
        let (a, b) = endpoints[Int(c)]
        let last = Int32(channels.count - 1)
        adjacency[Int(a)].removeAll { $0 >> 32 == UInt64(c) }
        adjacency[Int(b)].removeAll { $0 >> 32 == UInt64(c) }
        if c != last {
            // Move the last channel into the hole and renumber its references.
            let moved = channels[Int(last)]
            let (ma, mb) = endpoints[Int(last)]
            channels[Int(c)] = moved
            endpoints[Int(c)] = (ma, mb)
            densePolicies[2 * Int(c)] = densePolicies[2 * Int(last)]
            densePolicies[2 * Int(c) + 1] = densePolicies[2 * Int(last) + 1]
            usable[2 * Int(c)] = usable[2 * Int(last)]
            usable[2 * Int(c) + 1] = usable[2 * Int(last) + 1]
            capacitiesMsat[Int(c)] = capacitiesMsat[Int(last)]
            channelIndex[moved.shortChannelID] = c
            for n in [ma, mb] {
                if let k = adjacency[Int(n)].firstIndex(where: { $0 >> 32 == UInt64(last) }) {
                    adjacency[Int(n)][k] = UInt64(c) << 32 | (adjacency[Int(n)][k] & 0xFFFF_FFFF)
                }
            }
        }
        channels.removeLast()
        endpoints.removeLast()
        densePolicies.removeLast(2)
        usable.removeLast(2)
        capacitiesMsat.removeLast()
    }
}

/// A policy flattened for the search loop (no optionals, no references).
struct DensePolicy: Sendable {
    var feeBaseMsat: UInt64 = 0
    var feeRatePPM: UInt64 = 0
    var minHTLCMsat: UInt64 = 0
    var maxHTLCMsat: UInt64 = 0
    var timeLockDelta: UInt32 = 0
    /// Announced and not disabled.
    var usable: Bool = false

    init(_ p: RoutingPolicy?) {
        guard let p else { return }
        feeBaseMsat = p.feeBaseMsat
        feeRatePPM = p.feeRatePPM
        minHTLCMsat = p.minHTLCMsat
        maxHTLCMsat = p.maxHTLCMsat
        timeLockDelta = p.timeLockDelta
        usable = !p.disabled
    }

    @inline(__always)
    func fee(forwarding amount: UInt64) -> UInt64 {
        let (m, o) = amount.multipliedReportingOverflow(by: feeRatePPM)
        if !o {
            let (sum, o2) = feeBaseMsat.addingReportingOverflow(m / 1_000_000)
            return o2 ? .max : sum
        }
        return RoutingPolicy(feeBaseMsat: feeBaseMsat, feeRatePPM: feeRatePPM).fee(forwarding: amount)
    }
}
