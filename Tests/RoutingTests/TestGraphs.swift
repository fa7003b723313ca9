import Routing

/// Small hand-made graphs. Node ids are fake but well-formed 33-byte keys.
enum TestGraphs {
    static func node(_ i: UInt8) -> NodeID { NodeID(bytes: [2] + [UInt8](repeating: i, count: 32))! }
    static func scid(_ i: UInt32) -> ShortChannelID { ShortChannelID(blockHeight: 100 + i, txIndex: i, outputIndex: 0)! }

    static let s = node(1), a = node(2), b = node(3), t = node(4), c = node(5), d = node(6), x = node(9)

    static func policy(_ base: UInt64, _ ppm: UInt64, _ delta: UInt32, min: UInt64 = 1, max: UInt64 = .max,
                       disabled: Bool = false) -> RoutingPolicy {
        RoutingPolicy(feeBaseMsat: base, feeRatePPM: ppm, timeLockDelta: delta, minHTLCMsat: min, maxHTLCMsat: max,
                      disabled: disabled)
    }

    static func add(_ g: inout ChannelGraph, _ id: UInt32, _ from: NodeID, _ to: NodeID, capacitySat: UInt64 = 10_000_000,
                    forward: RoutingPolicy?, backward: RoutingPolicy? = policy(0, 0, 40)) {
        try! g.addChannel(ChannelEdge(shortChannelID: scid(id), between: from, and: to, capacitySat: capacitySat,
                                      policyAToB: forward, policyBToA: backward))
    }

    /// S–A–B–T (channels 1, 2, 3) plus a pricier S–C–T (4, 5) and a zero-fee S–D–T (6, 7) that
    /// has a long CLTV delta and small capacity.
    static func diamond() -> ChannelGraph {
        var g = ChannelGraph()
        add(&g, 1, s, a, forward: policy(0, 0, 40))
        add(&g, 2, a, b, forward: policy(1000, 1000, 40))
        add(&g, 3, b, t, forward: policy(2000, 2000, 30))
        add(&g, 4, s, c, forward: policy(0, 0, 40))
        add(&g, 5, c, t, forward: policy(50_000, 10_000, 40))
        add(&g, 6, s, d, capacitySat: 1000, forward: policy(0, 0, 40))
        add(&g, 7, d, t, capacitySat: 1000, forward: policy(0, 0, 500))
        return g
    }

    static func request(_ amount: UInt64, to target: NodeID = t) -> RouteRequest {
        RouteRequest(source: s, target: target, amountMsat: amount, finalCLTVDelta: 18, currentHeight: 100)
    }
}
