import Routing

/// The built-in network `paytrackd` simulates when given no topology file (docs/topology.md
/// draws it). Eleven nodes; `alice` is the usual local node, `bob` the usual payee:
///
/// - several alice → bob routes with different fees, CLTV and liquidity: via carol (big,
///   expensive), via dave (cheap fee, long CLTV delta), via erin → frank (cheap, 3 hops),
///   via carol → grace and dave → heidi (cheapest but small);
/// - small channels (grace, heidi: 200k–300k sat), and no single path carries more than
///   ~2.5M sat, so larger payments need MPP;
/// - `mallory` has only a private channel (to judy): paying her needs a route hint.
public enum DefaultTopology {
    public static let aliases = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                                 "ivan", "judy", "mallory"]
    public static let startHeight: UInt32 = 800_000

    public static func make() -> Topology {
        var channels: [Topology.Channel] = []
        func policy(_ base: UInt64, _ ppm: UInt64, _ delta: UInt32, capacity: UInt64) -> RoutingPolicy {
            RoutingPolicy(feeBaseMsat: base, feeRatePPM: ppm, timeLockDelta: delta, minHTLCMsat: 1000,
                          maxHTLCMsat: capacity * 990)
        }
        func add(_ a: String, _ b: String, capacity: UInt64, balanceA: UInt64, isPrivate: Bool = false,
                 feeA: (UInt64, UInt64, UInt32) = (1000, 1, 40), feeB: (UInt64, UInt64, UInt32) = (1000, 1, 40)) {
            let n = UInt32(channels.count + 1)
            channels.append(Topology.Channel(
                shortChannelID: ShortChannelID(blockHeight: 700_000 + n, txIndex: n, outputIndex: 0)!,
                nodeA: a, nodeB: b, capacitySat: capacity, balanceAMsat: balanceA * 1000, isPrivate: isPrivate,
                policyA: policy(feeA.0, feeA.1, feeA.2, capacity: capacity),
                policyB: policy(feeB.0, feeB.1, feeB.2, capacity: capacity)))
        }
        // alice's channels (alice charges nothing to herself; her policies matter for others).
        add("alice", "carol", capacity: 5_000_000, balanceA: 4_000_000, feeB: (1000, 100, 40))
        add("alice", "dave", capacity: 2_000_000, balanceA: 1_500_000, feeB: (0, 50, 144))
        add("alice", "erin", capacity: 1_000_000, balanceA: 800_000, feeB: (500, 10, 40))
        // Towards bob.
        add("carol", "bob", capacity: 3_000_000, balanceA: 2_500_000, feeA: (1000, 500, 40))
        add("dave", "bob", capacity: 2_000_000, balanceA: 1_200_000, feeA: (0, 50, 144))
        add("erin", "frank", capacity: 1_000_000, balanceA: 700_000, feeA: (500, 10, 40))
        add("frank", "bob", capacity: 1_000_000, balanceA: 600_000, feeA: (500, 10, 40))
        // Small, cheap channels.
        add("carol", "grace", capacity: 200_000, balanceA: 150_000, feeA: (100, 1, 18))
        add("grace", "bob", capacity: 200_000, balanceA: 150_000, feeA: (100, 1, 18))
        add("dave", "heidi", capacity: 300_000, balanceA: 200_000, feeA: (0, 50, 144))
        add("heidi", "bob", capacity: 300_000, balanceA: 250_000, feeA: (200, 5, 40))
        // Cross links.
        add("heidi", "grace", capacity: 1_000_000, balanceA: 500_000)
        add("frank", "carol", capacity: 1_000_000, balanceA: 500_000)
        add("erin", "grace", capacity: 500_000, balanceA: 250_000)
        // Beyond bob.
        add("bob", "ivan", capacity: 2_000_000, balanceA: 1_000_000)
        add("ivan", "judy", capacity: 1_000_000, balanceA: 500_000)
        // mallory: private only.
        add("judy", "mallory", capacity: 500_000, balanceA: 400_000, isPrivate: true, feeA: (1000, 100, 40))
        return Topology(nodes: aliases.map { Topology.Node(alias: $0) }, channels: channels, startHeight: startHeight)
    }
}

extension SimulatedNetwork {
    /// The built-in network (`DefaultTopology`) with node keys derived from `configuration.seed`.
    public static func makeDefault(configuration: Configuration = Configuration()) -> SimulatedNetwork {
        // The built-in topology is valid by construction.
        try! SimulatedNetwork(topology: DefaultTopology.make(), configuration: configuration)
    }
}
