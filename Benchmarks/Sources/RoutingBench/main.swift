// RoutingBench: pathfinding on a generated scale-free graph (preferential attachment), and
// end-to-end simulated payments per second through Simnet with zero latency.
// Run: Benchmarks/run routing   (release build)
import Crypto
import Foundation
import Routing

import Simnet

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

func nodeID(_ i: Int) -> NodeID {
    var b = [UInt8](repeating: 0, count: 33)
    b[0] = 2
    var v = UInt64(i) &* 0x9e37_79b9_7f4a_7c15 | 1
    for k in 1..<33 { b[k] = UInt8(truncatingIfNeeded: v); v = v >> 8 | v << 56; v &+= UInt64(k) }
    b[1] = UInt8(truncatingIfNeeded: i >> 8); b[2] = UInt8(truncatingIfNeeded: i)
    return NodeID(bytes: b)!
}

/// Barabási–Albert: each new node attaches `m` channels to existing nodes chosen with
/// probability proportional to degree (sampling from the endpoint list).
func scaleFreeGraph(nodes n: Int, perNode m: Int, minChannels: Int, rng: inout SplitMix) -> ChannelGraph {
    var g = ChannelGraph()
    var endpoints: [Int] = []
    var scid: UInt32 = 0
    let ids = (0..<n).map(nodeID)
    func policy() -> RoutingPolicy {
        RoutingPolicy(feeBaseMsat: [0, 100, 1000, 1000, 2000][Int.random(in: 0..<5, using: &rng)],
                      feeRatePPM: UInt64.random(in: 1...2000, using: &rng),
                      timeLockDelta: [18, 40, 40, 80, 144][Int.random(in: 0..<5, using: &rng)],
                      minHTLCMsat: 1000, maxHTLCMsat: .max, disabled: Int.random(in: 0..<50, using: &rng) == 0)
    }
    func connect(_ a: Int, _ b: Int) {
        scid += 1
        let cap = UInt64([100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 16_000_000][Int.random(in: 0..<6, using: &rng)])
        try? g.addChannel(ChannelEdge(shortChannelID: ShortChannelID(blockHeight: 500_000 + scid / 1000, txIndex: scid % 1000,
                                                                      outputIndex: 0)!,
                                      between: ids[a], and: ids[b], capacitySat: cap,
                                      policyAToB: policy(), policyBToA: policy()))
        endpoints.append(a); endpoints.append(b)
    }
    for a in 0...m { for b in 0..<a { connect(a, b) } }
    for v in (m + 1)..<n {
        var chosen = Set<Int>()
        while chosen.count < m { chosen.insert(endpoints[Int.random(in: 0..<endpoints.count, using: &rng)]) }
        for u in chosen.sorted() { connect(v, u) }
    }
    // Top up to the channel target with more preferential-attachment links.
    while g.channelCount < minChannels {
        let a = endpoints[Int.random(in: 0..<endpoints.count, using: &rng)], b = Int.random(in: 0..<n, using: &rng)
        if a != b { connect(a, b) }
    }
    return g
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

// MARK: Pathfinding

var rng = SplitMix(state: 42)
let nodeCount = 15_000, perNode = 4
var t0 = now()
let graph = scaleFreeGraph(nodes: nodeCount, perNode: perNode, minChannels: 60_000, rng: &rng)
let buildSeconds = now() - t0
let degrees = graph.nodes.map { graph.channels(of: $0.id).count }.sorted()
print("RoutingBench: graph \(graph.nodeCount) nodes, \(graph.channelCount) channels (scale-free, m=\(perNode)), built in \(String(format: "%.2f", buildSeconds)) s")
print("  degree: median \(degrees[degrees.count / 2]), p99 \(degrees[degrees.count * 99 / 100]), max \(degrees.last!)")

let missionControl = MissionControl(clock: { 0 })
let queries = Int(ProcessInfo.processInfo.environment["ROUTING_BENCH_QUERIES"] ?? "") ?? 2000
var times: [Double] = []
var found = 0, hops = 0
var reasons: [String: Int] = [:]
let nodes = graph.nodes.map(\.id)
// Warm-up
for _ in 0..<20 {
    let s = nodes[Int.random(in: 0..<nodeCount, using: &rng)], t = nodes[Int.random(in: 0..<nodeCount, using: &rng)]
    _ = try? PathFinder.findRoute(in: graph, request: RouteRequest(source: s, target: t, amountMsat: 10_000_000, currentHeight: 800_000))
}
for _ in 0..<queries {
    var s = nodes[Int.random(in: 0..<nodeCount, using: &rng)], t = nodes[Int.random(in: 0..<nodeCount, using: &rng)]
    while s == t { t = nodes[Int.random(in: 0..<nodeCount, using: &rng)]; s = nodes[Int.random(in: 0..<nodeCount, using: &rng)] }
    let amount = UInt64([10_000, 1_000_000, 50_000_000, 200_000_000][Int.random(in: 0..<4, using: &rng)])
    let request = RouteRequest(source: s, target: t, amountMsat: amount, currentHeight: 800_000)
    let snapshot = missionControl.snapshot()
    let start = now()
    do {
        let route = try PathFinder.findRoute(in: graph, request: request, missionControl: snapshot)
        times.append(now() - start)
        found += 1
        hops += route.hops.count
    } catch {
        times.append(now() - start)
        reasons["\(error)".components(separatedBy: "(").first!, default: 0] += 1
    }
}
times.sort()
print(String(format: "  findRoute x%d: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (goal p50 <= 2 ms, p99 <= 10 ms)",
             queries, percentile(times, 0.5) * 1e3, percentile(times, 0.9) * 1e3, percentile(times, 0.99) * 1e3,
             times.last! * 1e3))
print(String(format: "  found %d routes (mean %.2f hops); no route: %@", found, Double(hops) / Double(max(found, 1)),
             reasons.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", ")))

// Plain Dijkstra (no A* ordering) on a sample of the same queries: same routes, slower.
var plainConfig = PathfindingConfig()
plainConfig.useAStar = false
var plainTimes: [Double] = []
var mismatches = 0
var cmpRng = SplitMix(state: 7)
for _ in 0..<200 {
    let s = nodes[Int.random(in: 0..<nodeCount, using: &cmpRng)], t = nodes[Int.random(in: 0..<nodeCount, using: &cmpRng)]
    if s == t { continue }
    let request = RouteRequest(source: s, target: t, amountMsat: 1_000_000, currentHeight: 800_000)
    let astar = try? PathFinder.findRoute(in: graph, request: request)
    let start = now()
    let plain = try? PathFinder.findRoute(in: graph, request: request, config: plainConfig)
    plainTimes.append(now() - start)
    if astar != plain { mismatches += 1 }
}
plainTimes.sort()
print(String(format: "  plain Dijkstra x%d: p50 %.3f ms, p99 %.3f ms; routes differing from A*: %d",
             plainTimes.count, percentile(plainTimes, 0.5) * 1e3, percentile(plainTimes, 0.99) * 1e3, mismatches))

// MARK: Simulated payments end to end (zero latency)

final class Payee: PayeeHandler {
    func handle(_ htlc: PayeeHTLC) async -> PayeeDecision {
        // Keysend: the preimage travels in the payload.
        if let p = htlc.payload.customRecords[SourceRoute.keysendRecordType] { return .settle(preimage: p) }
        return .fail(.incorrectOrUnknownPaymentDetails(htlcMsat: htlc.amountMsat, height: htlc.currentHeight))
    }
}

let net = SimulatedNetwork.makeDefault()
let payee = Payee()
let alice = net.nodeID(alias: "alice")!
let targets = ["bob", "carol", "dave", "frank", "grace", "ivan"].map { net.nodeID(alias: $0)! }
for t in targets { net.setPayeeHandler(payee, for: t) }
let router = Router(graph: net.publicGraph(), missionControl: MissionControl(clock: { 0 }))
let payments = 20_000
let preimage = [UInt8](repeating: 5, count: 32)
let hash = SHA256.hash(preimage)

let done = DispatchSemaphore(value: 0)
nonisolated(unsafe) var settledCount = 0
nonisolated(unsafe) var failedCount = 0
nonisolated(unsafe) var elapsed = 0.0
Task.detached {
    let start = now()
    for i in 0..<payments {
        // Alternate directions so balances do not drain.
        let target = targets[i % targets.count]
        let (src, dst) = (i / targets.count) % 2 == 0 ? (alice, target) : (target, alice)
        var request = RouteRequest(source: src, target: dst, amountMsat: 10_000_000, currentHeight: net.blockHeight)
        request.localBandwidthMsat = net.localBandwidth(of: src)
        request.destCustomRecords = [SourceRoute.keysendRecordType: preimage]
        net.setPayeeHandler(payee, for: dst)
        guard let route = try? router.findRoute(request) else { failedCount += 1; continue }
        switch await net.send(route: route, paymentHash: hash) {
        case .settled: settledCount += 1; router.reportSuccess(route: route)
        case .failed(let f): failedCount += 1; router.reportFailure(route: route, failure: f)
        }
    }
    elapsed = now() - start
    done.signal()
}
done.wait()
print(String(format: "  simnet keysend payments (route + send + settle, zero latency): %d settled, %d failed, %.0f payments/s",
             settledCount, failedCount, Double(payments) / elapsed))
