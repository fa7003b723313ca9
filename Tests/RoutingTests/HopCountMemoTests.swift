import XCTest
@testable import Routing

/// `ChannelGraph.hopCounts(from:)` (the A* bound): breadth-first counts, memoized per topology
/// and source; a copy that changes its topology gets fresh counts and leaves the original's.
final class HopCountMemoTests: XCTestCase {
    func counts(_ g: ChannelGraph, from n: NodeID, to targets: [NodeID]) -> [UInt8] {
        let hops = g.hopCounts(from: g.nodeIndex[n]!)
        return targets.map { hops[Int(g.nodeIndex[$0]!)] }
    }

    func testCountsAndMemoPerTopologyAndSource() {
        typealias G = TestGraphs
        var g = G.diamond()
        XCTAssertEqual(counts(g, from: G.s, to: [G.s, G.a, G.b, G.t, G.c, G.d]), [0, 1, 2, 2, 1, 1])
        XCTAssertEqual(counts(g, from: G.s, to: [G.b]), [2], "asked again: the memo's answer")
        XCTAssertEqual(counts(g, from: G.a, to: [G.s, G.t]), [1, 2], "another source")
        G.add(&g, 8, G.x, G.s, forward: G.policy(0, 0, 40))
        let snapshot = g
        G.add(&g, 9, G.s, G.b, forward: G.policy(0, 0, 40))     // a shortcut: the copy changes
        XCTAssertEqual(counts(g, from: G.s, to: [G.b, G.x]), [1, 1])
        XCTAssertEqual(counts(snapshot, from: G.s, to: [G.b, G.x]), [2, 1], "the snapshot keeps its own counts")
        g.removeChannel(G.scid(9))
        XCTAssertEqual(counts(g, from: G.s, to: [G.b]), [2])
        // Policies do not matter: a disabled direction still counts.
        g.setPolicy(G.policy(0, 0, 40, disabled: true), on: G.scid(1), from: G.s)
        XCTAssertEqual(counts(g, from: G.s, to: [G.a]), [1])
    }

    func testUnreachableIs255() {
        typealias G = TestGraphs
        var g = G.diamond()
        G.add(&g, 10, G.node(20), G.node(21), forward: G.policy(0, 0, 40))
        XCTAssertEqual(counts(g, from: G.s, to: [G.node(20), G.node(21)]), [255, 255])
    }
}
