import XCTest
@testable import Routing

/// A settable clock for mission control.
final class TestClock: @unchecked Sendable {
    private var value: Double = 1_000_000
    var now: Double { value }
    func advance(_ seconds: Double) { value += seconds }
}

final class MissionControlTests: XCTestCase {
    typealias G = TestGraphs

    func testEstimatorFormulas() {
        let e = ProbabilityEstimator()
        XCTAssertEqual(e.weight(age: 0), 1)
        XCTAssertEqual(e.weight(age: 3600), 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.capacityFactor(amountMsat: 1, capacityMsat: 1_000_000), 0.99945, accuracy: 1e-5)
        XCTAssertEqual(e.capacityFactor(amountMsat: 750_000, capacityMsat: 1_000_000), 0.5, accuracy: 1e-9)
        XCTAssertEqual(e.capacityFactor(amountMsat: 1_000_001, capacityMsat: 1_000_000), 0)
        var fail = ProbabilityEstimator.PairResult()
        fail.failTime = 0
        fail.failAmtMsat = 1000
        // Fresh failure at ≤ amount: probability 0; half a recovery after one half-life.
        XCTAssertEqual(e.pairProbability(nodeProbability: 0.6, result: fail, amountMsat: 5000, now: 0), 0)
        XCTAssertEqual(e.pairProbability(nodeProbability: 0.6, result: fail, amountMsat: 5000, now: 3600), 0.3, accuracy: 1e-12)
        // Below the failed amount the failure says nothing.
        XCTAssertEqual(e.pairProbability(nodeProbability: 0.6, result: fail, amountMsat: 999, now: 0), 0.6)
        var ok = ProbabilityEstimator.PairResult()
        ok.successTime = 0
        ok.successAmtMsat = 10_000
        XCTAssertEqual(e.pairProbability(nodeProbability: 0.6, result: ok, amountMsat: 10_000, now: 0), 0.95)
        // A node whose other pair just failed is less trusted (weights 1:1 with apriori).
        XCTAssertEqual(e.nodeProbability(results: [7: fail], amountMsat: 5000, capacityMsat: 0, now: 0), 0.3, accuracy: 1e-12)
    }

    func testRouterAvoidsPairAfterTemporaryChannelFailure() throws {
        let clock = TestClock()
        let mc = MissionControl(clock: { [clock] in clock.now })
        var g = G.diamond()
        g.removeChannel(G.scid(7))  // leave S-A-B-T and S-C-T
        let router = Router(graph: g, missionControl: mc)
        var r = G.request(1_000_000)
        r.feeLimitMsat = .max
        let first = try router.findRoute(r)
        XCTAssertEqual(first.hops.map(\.pubKey), [G.c, G.t])
        // C fails its C→T hop (failure source index 1 = hops[0] = C).
        let outcome = router.reportFailure(route: first, failure: HTLCFailure(
            message: FailureMessage(code: .temporaryChannelFailure), failureSourceIndex: 1))
        XCTAssertEqual(outcome, .retry)
        XCTAssertEqual(mc.result(from: G.c, to: G.t)?.failAmtMsat, 1_000_000)
        XCTAssertEqual(mc.result(from: G.s, to: G.c)?.successAmtMsat, first.totalAmountMsat)
        let second = try router.findRoute(r)
        XCTAssertEqual(second.hops.map(\.pubKey), [G.a, G.b, G.t])
        // Smaller amounts than the failed one may still use C→T.
        XCTAssertEqual(try router.findRoute(G.request(100_000)).hops.map(\.pubKey), [G.c, G.t])
        // After many half-lives the penalty has decayed away.
        clock.advance(3600 * 20)
        XCTAssertEqual(try router.findRoute(r).hops.map(\.pubKey), [G.c, G.t])
    }

    func testAllPathsPenalizedIsNoPath() throws {
        let mc = MissionControl(clock: { 0 })
        var g = ChannelGraph()
        G.add(&g, 1, G.s, G.a, forward: G.policy(0, 0, 40))
        G.add(&g, 2, G.a, G.t, forward: G.policy(0, 0, 40))
        let router = Router(graph: g, missionControl: mc)
        let route = try router.findRoute(G.request(10_000))
        router.reportFailure(route: route, failure: HTLCFailure(message: FailureMessage(code: .unknownNextPeer),
                                                                failureSourceIndex: 1))
        XCTAssertThrowsError(try router.findRoute(G.request(1))) { XCTAssertEqual($0 as? NoRouteReason, .noPath) }
    }

    func testFinalFailuresAreTerminalAndUpdatesApplied() throws {
        let mc = MissionControl(clock: { 0 })
        let router = Router(graph: G.diamond(), missionControl: mc)
        let route = try router.findRoute(G.request(1_000_000))
        let n = route.hops.count
        XCTAssertEqual(router.reportFailure(route: route, failure: HTLCFailure(
            message: .init(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 1, height: 1), failureSourceIndex: n)),
            .terminal(.incorrectPaymentDetails))
        XCTAssertEqual(router.reportFailure(route: route, failure: HTLCFailure(
            message: .init(code: .mppTimeout), failureSourceIndex: n)), .retry)
        // A FEE_INSUFFICIENT with a channel update corrects the graph.
        let edge = router.graph.channel(G.scid(5))!
        let update = ChannelUpdate(chainHash: [UInt8](repeating: 0, count: 32), shortChannelID: G.scid(5),
                                   timestamp: 99, direction: edge.direction(from: G.c)!,
                                   policy: G.policy(90_000, 10_000, 40))
        XCTAssertEqual(router.reportFailure(route: route, failure: HTLCFailure(
            message: .init(code: .feeInsufficient, htlcMsat: 1, channelUpdate: update), failureSourceIndex: 1)), .retry)
        XCTAssertEqual(router.graph.channel(G.scid(5))?.policy(from: G.c)?.feeBaseMsat, 90_000)
        // Temporary node failure penalizes every pair out of the node.
        router.reportFailure(route: route, failure: HTLCFailure(message: .init(code: .temporaryNodeFailure),
                                                                failureSourceIndex: 1))
        XCTAssertNotNil(mc.result(from: G.c, to: G.t)?.failTime)
        XCTAssertEqual(mc.result(from: G.c, to: G.t)?.failAmtMsat, 0)
    }
}
