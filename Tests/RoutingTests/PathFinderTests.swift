import XCTest
@testable import Routing

final class PathFinderTests: XCTestCase {
    typealias G = TestGraphs

    private func reason(_ g: ChannelGraph, _ r: RouteRequest, mc: MissionControl.Snapshot = .empty) -> NoRouteReason? {
        do {
            _ = try PathFinder.findRoute(in: g, request: r, missionControl: mc)
            return nil
        } catch {
            return error
        }
    }

    func testPicksCheapestByFeeAndProbability() throws {
        // S-A-B-T costs 6004 msat fee but two forwarding hops; S-C-T 60,000 msat and one hop.
        // With LND's cost (fee + 101,000 / probability) the one-hop path wins at 1e6 msat...
        let big = try PathFinder.findRoute(in: G.diamond(), request: G.request(1_000_000))
        XCTAssertEqual(big.hops.map(\.pubKey), [G.c, G.t])
        // ...and the zero-fee S-D-T wins for a small amount (far below its capacity).
        let small = try PathFinder.findRoute(in: G.diamond(), request: G.request(10_000))
        XCTAssertEqual(small.hops.map(\.pubKey), [G.d, G.t])
        XCTAssertEqual(small.totalFeesMsat, 0)
    }

    func testZeroFeeLimitOnlyAllowsZeroFeeRoutes() throws {
        var r = G.request(10_000)
        r.feeLimitMsat = 0
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.totalFeesMsat, 0)
        // Above S-D-T's capacity no zero-fee route exists: the reason names the fee limit.
        var big = G.request(2_000_000)
        big.feeLimitMsat = 0
        guard case let .feeLimitExceeded(required, limit)? = reason(G.diamond(), big) else {
            return XCTFail("expected fee limit")
        }
        XCTAssertEqual(limit, 0)
        XCTAssertGreaterThan(required, 0)
        XCTAssertEqual(NoRouteReason.feeLimitExceeded(requiredFeeMsat: 1, feeLimitMsat: 0).lndFailureReason, .noRoute)
    }

    func testFeeLimitSelectsCheaperPath() throws {
        var r = G.request(1_000_000)
        r.feeLimitMsat = 10_000  // excludes S-C-T (60,000) but allows S-A-B-T (6004)
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.hops.map(\.pubKey), [G.a, G.b, G.t])
        XCTAssertLessThanOrEqual(route.totalFeesMsat, 10_000)
        r.feeLimitMsat = 6003
        r.amountMsat = 1_000_001  // above S-D-T's capacity
        XCTAssertEqual(reason(G.diamond(), r), .feeLimitExceeded(requiredFeeMsat: 6004, feeLimitMsat: 6003))
    }

    func testCLTVLimit() throws {
        var r = G.request(10_000)
        r.cltvLimit = 100  // S-D-T needs 518 blocks; S-A-B-T 88; S-C-T 58
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertLessThanOrEqual(route.totalTimeLock - 100, 100)
        XCTAssertNotEqual(route.hops.first?.pubKey, G.d)
        r.cltvLimit = 50
        XCTAssertEqual(reason(G.diamond(), r), .cltvLimitExceeded(requiredBlocks: 58, cltvLimit: 50))
        r.cltvLimit = 18
        XCTAssertEqual(reason(G.diamond(), r), .cltvLimitBelowFinalDelta(cltvLimit: 18, finalCLTVDelta: 18))
        XCTAssertEqual(reason(G.diamond(), r)?.ldkMessage,
                       "Can't find a route where the maximum total CLTV expiry delta is below the final CLTV expiry.")
    }

    func testOutgoingChannelRestriction() throws {
        var r = G.request(10_000)
        r.outgoingChanIDs = [G.scid(1)]
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.hops.first?.chanID, G.scid(1))
        r.outgoingChanIDs = [G.scid(99)]
        XCTAssertEqual(reason(G.diamond(), r), .noOutboundChannels)
    }

    func testLastHopRestriction() throws {
        var r = G.request(10_000)
        r.lastHopPubKey = G.b
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.hops.dropLast().last?.pubKey, G.b)
        r.lastHopPubKey = G.x
        XCTAssertEqual(reason(G.diamond(), r), .noPath)
    }

    func testDisabledAndHTLCBoundsArePruned() throws {
        var g = G.diamond()
        // Disable D→T: the small payment can no longer take the zero-fee path.
        g.setPolicy(G.policy(0, 0, 500, disabled: true), on: G.scid(7), from: G.d)
        XCTAssertNotEqual(try PathFinder.findRoute(in: g, request: G.request(10_000)).hops.first?.pubKey, G.d)
        // min HTLC above the amount prunes too.
        var g2 = G.diamond()
        g2.setPolicy(G.policy(0, 0, 500, min: 20_000), on: G.scid(7), from: G.d)
        XCTAssertNotEqual(try PathFinder.findRoute(in: g2, request: G.request(10_000)).hops.first?.pubKey, G.d)
        // max HTLC on C→T below the amount sends 1e6 msat over A-B instead.
        var g3 = G.diamond()
        g3.setPolicy(G.policy(50_000, 10_000, 40, max: 500_000), on: G.scid(5), from: G.c)
        XCTAssertEqual(try PathFinder.findRoute(in: g3, request: G.request(1_000_000)).hops.map(\.pubKey), [G.a, G.b, G.t])
    }

    func testRouteHintsReachPrivateNode() throws {
        let hint = RouteHintHop(nodeID: G.b, chanID: G.scid(50), feeBaseMsat: 100, feeProportionalMillionths: 1000,
                           cltvExpiryDelta: 20)
        var r = G.request(100_000, to: G.x)
        XCTAssertEqual(reason(G.diamond(), r), .targetUnknown)
        XCTAssertEqual(NoRouteReason.targetUnknown.ldkMessage, "Failed to find a path to the given destination")
        r.routeHints = [[hint]]
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.hops.last?.pubKey, G.x)
        XCTAssertEqual(route.hops.last?.chanID, G.scid(50))
        XCTAssertEqual(route.hops.dropLast().last?.pubKey, G.b)
        // B charges the hint's fee: 100 + 100,000·1000/1e6 = 200 msat, and its delta 20.
        XCTAssertEqual(route.hops[route.hops.count - 2].feeMsat, 200)
        XCTAssertEqual(route.hops[route.hops.count - 2].expiry, 118)
        // A hint starting at the payee is refused the way LDK refuses it.
        r.routeHints = [[RouteHintHop(nodeID: G.x, chanID: G.scid(51), feeBaseMsat: 0, feeProportionalMillionths: 0,
                                 cltvExpiryDelta: 1)]]
        XCTAssertEqual(reason(G.diamond(), r)?.ldkMessage, "Route hint cannot have the payee as the source.")
    }

    func testMultiHopRouteHint() throws {
        let y = G.node(10)
        let hint: RouteHint = [
            RouteHintHop(nodeID: G.b, chanID: G.scid(60), feeBaseMsat: 10, feeProportionalMillionths: 0, cltvExpiryDelta: 10),
            RouteHintHop(nodeID: y, chanID: G.scid(61), feeBaseMsat: 20, feeProportionalMillionths: 0, cltvExpiryDelta: 12),
        ]
        var r = G.request(100_000, to: G.x)
        r.routeHints = [hint]
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(Array(route.hops.suffix(3).map(\.pubKey)), [G.b, y, G.x])
        XCTAssertEqual(Array(route.hops.suffix(2).map(\.chanID)), [G.scid(60), G.scid(61)])
        XCTAssertEqual(route.hops[route.hops.count - 2].feeMsat, 20)  // y's fee
        XCTAssertEqual(route.hops[route.hops.count - 3].feeMsat, 10)  // b's fee
    }

    func testLDKPrecheckOrderAndMessages() {
        let g = G.diamond()
        var r = G.request(1000, to: G.s)
        XCTAssertEqual(reason(g, r)?.ldkMessage, "Cannot generate a route to ourselves")
        r = G.request(RouteRequest.maxValueMsat + 1)
        XCTAssertEqual(reason(g, r)?.ldkMessage, "Cannot generate a route of more value than all existing satoshis")
        r = G.request(0)
        XCTAssertEqual(reason(g, r)?.ldkMessage, "Cannot send a payment of 0 msat")
        var lonely = ChannelGraph()
        lonely.addNode(G.s)
        G.add(&lonely, 1, G.a, G.t, forward: G.policy(0, 0, 40))
        XCTAssertEqual(reason(lonely, G.request(1000))?.ldkMessage,
                       "Cannot route when there are no outbound routes away from us")
        XCTAssertEqual(reason(lonely, G.request(1000))?.lndFailureReason, .insufficientBalance)
    }

    func testInsufficientLocalBalanceVersusNoRoute() {
        var r = G.request(5_000_000)
        r.localBandwidthMsat = [G.scid(1): 1_000_000, G.scid(4): 2_000_000, G.scid(6): 1_000_000]
        XCTAssertEqual(reason(G.diamond(), r), .insufficientLocalBalance(availableMsat: 4_000_000, requiredMsat: 5_000_000))
        XCTAssertEqual(reason(G.diamond(), r)?.lndFailureReason, .insufficientBalance)
        XCTAssertEqual(reason(G.diamond(), r)?.ldkMessage, "Failed to find a sufficient route to the given destination")
        // Enough in total but no single channel: no single route (the payment session splits).
        r.amountMsat = 3_000_000
        XCTAssertEqual(reason(G.diamond(), r), .insufficientLiquidity(amountMsat: 3_000_000))
        XCTAssertEqual(reason(G.diamond(), r)?.lndFailureReason, .noRoute)
    }

    func testCapacityTooSmallIsInsufficientLiquidity() {
        var g = ChannelGraph()
        G.add(&g, 1, G.s, G.a, capacitySat: 10_000, forward: G.policy(0, 0, 40))
        G.add(&g, 2, G.a, G.t, capacitySat: 1_000, forward: G.policy(0, 0, 40))
        XCTAssertEqual(reason(g, G.request(2_000_000)), .insufficientLiquidity(amountMsat: 2_000_000))
        // Unreachable payee: no path at all.
        var g2 = ChannelGraph()
        G.add(&g2, 1, G.s, G.a, forward: G.policy(0, 0, 40))
        G.add(&g2, 2, G.b, G.t, forward: G.policy(0, 0, 40))
        XCTAssertEqual(reason(g2, G.request(1000)), .noPath)
    }

    func testHopLimit() {
        var g = ChannelGraph()
        var prev = G.s
        for i in 0..<25 {
            let n = i == 24 ? G.t : G.node(UInt8(100 + i))
            G.add(&g, UInt32(i + 1), prev, n, forward: G.policy(0, 0, 1))
            prev = n
        }
        var r = G.request(1000)
        r.cltvLimit = 2016
        XCTAssertEqual(reason(g, r), .noPath)
        r.maxHops = 30
        var mcFree = PathfindingConfig()
        mcFree.minProbability = 0
        XCTAssertEqual(try PathFinder.findRoute(in: g, request: r, config: mcFree).hops.count, 25)
    }

    func testExcludedChannels() throws {
        var r = G.request(10_000)
        r.excludedChannels = [G.scid(7)]
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertFalse(route.hops.contains { $0.chanID == G.scid(7) })
    }
}

final class AStarEquivalenceTests: XCTestCase {
    /// A* ordering must find the same routes as plain Dijkstra on LND's cost.
    func testAStarMatchesDijkstraOnRandomGraphs() throws {
        var state: UInt64 = 7
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var g = ChannelGraph()
        let nodes = (0..<300).map { i in NodeID(bytes: [3, UInt8(i >> 8), UInt8(i & 0xff)] + [UInt8](repeating: 1, count: 30))! }
        var id: UInt32 = 0
        for i in 1..<nodes.count {
            for _ in 0..<2 {
                let j = next(i)
                id += 1
                func p() -> RoutingPolicy {
                    RoutingPolicy(feeBaseMsat: UInt64(next(3) * 1000), feeRatePPM: UInt64(next(2000)),
                                  timeLockDelta: UInt32([18, 40, 144][next(3)]), minHTLCMsat: 1000,
                                  disabled: next(30) == 0)
                }
                try? g.addChannel(ChannelEdge(shortChannelID: ShortChannelID(rawValue: UInt64(id)), between: nodes[i],
                                              and: nodes[j], capacitySat: UInt64([100_000, 1_000_000, 5_000_000][next(3)]),
                                              policyAToB: p(), policyBToA: p()))
            }
        }
        let mc = MissionControl(clock: { 0 })
        var plain = PathfindingConfig()
        plain.useAStar = false
        var compared = 0
        for q in 0..<200 {
            let s = nodes[next(300)], t = nodes[next(300)]
            guard s != t else { continue }
            let r = RouteRequest(source: s, target: t, amountMsat: UInt64([10_000, 5_000_000, 200_000_000][q % 3]),
                                 currentHeight: 1000)
            let a = try? PathFinder.findRoute(in: g, request: r, missionControl: mc.snapshot())
            let b = try? PathFinder.findRoute(in: g, request: r, missionControl: mc.snapshot(), config: plain)
            XCTAssertEqual(a, b, "query \(q)")
            if a != nil { compared += 1 }
            // Teach mission control something so later queries use history too.
            if let route = a, q % 4 == 0 {
                mc.reportFailure(route: route, failure: HTLCFailure(message: .init(code: .temporaryChannelFailure),
                                                                    failureSourceIndex: route.hops.count / 2))
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }
}
