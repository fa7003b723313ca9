import Crypto
import Routing
import Simnet
import XCTest

final class DefaultTopologyTests: XCTestCase {
    func testShape() throws {
        let net = SimulatedNetwork.makeDefault()
        XCTAssertGreaterThanOrEqual(net.nodeIDs.count, 8)
        for alias in ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"] {
            XCTAssertNotNil(net.nodeID(alias: alias), alias)
        }
        let graph = net.publicGraph()
        let mallory = net.nodeID(alias: "mallory")!
        // mallory has only a private channel: not in the public graph, reachable via a hint.
        XCTAssertFalse(graph.contains(mallory))
        let hints = net.routeHints(for: mallory)
        XCTAssertEqual(hints.count, 1)
        XCTAssertEqual(hints[0][0].nodeID, net.nodeID(alias: "judy"))
        // Several alice → bob routes: alice has ≥ 3 channels, bob ≥ 4.
        let alice = net.nodeID(alias: "alice")!, bob = net.nodeID(alias: "bob")!
        XCTAssertGreaterThanOrEqual(graph.channels(of: alice).count, 3)
        XCTAssertGreaterThanOrEqual(graph.channels(of: bob).count, 4)
        // Some channels too small for a 1M sat payment.
        XCTAssertTrue(graph.channels.contains { $0.capacitySat < 1_000_000 })
        // No single path can carry 4M sat to bob: needs MPP.
        let router = Router(graph: graph)
        var r = RouteRequest(source: alice, target: bob, amountMsat: 4_000_000_000, currentHeight: net.blockHeight)
        r.localBandwidthMsat = net.localBandwidth(of: alice)
        XCTAssertThrowsError(try router.findRoute(r)) {
            XCTAssertEqual($0 as? NoRouteReason, .insufficientLiquidity(amountMsat: 4_000_000_000))
        }
        // Different alice → bob routes have different fees.
        var feesSeen = Set<UInt64>()
        var small = RouteRequest(source: alice, target: bob, amountMsat: 100_000_000, currentHeight: net.blockHeight)
        for chan in graph.channels(of: alice) {
            small.outgoingChanIDs = [chan.shortChannelID]
            if let route = try? router.findRoute(small) { feesSeen.insert(route.totalFeesMsat) }
        }
        XCTAssertGreaterThanOrEqual(feesSeen.count, 3)
    }

    func testIdentitiesAreDeterministicAndSeeded() throws {
        let a = SimulatedNetwork.makeDefault(), b = SimulatedNetwork.makeDefault()
        XCTAssertEqual(a.nodeIDs, b.nodeIDs)
        let other = SimulatedNetwork.makeDefault(configuration: .init(seed: "other"))
        XCTAssertNotEqual(a.nodeID(alias: "alice"), other.nodeID(alias: "alice"))
        // The id is the compressed public key of the derived private key.
        let key = SimNodeKeys.derivePrivateKey(seed: "paytrack", alias: "alice")
        XCTAssertEqual(a.nodeID(alias: "alice")?.bytes, key.publicKey.compressed)
        XCTAssertEqual(a.privateKey(of: a.nodeID(alias: "alice")!), key)
    }

    func testBlockClock() async throws {
        let net = SimulatedNetwork.makeDefault()
        XCTAssertEqual(net.blockHeight, DefaultTopology.startHeight)
        net.mineBlocks(6)
        XCTAssertEqual(net.blockHeight, DefaultTopology.startHeight + 6)
        net.startBlockClock(intervalNanoseconds: 1_000_000)
        let deadline = Date().addingTimeInterval(5)
        while net.blockHeight < DefaultTopology.startHeight + 9 && Date() < deadline {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        net.stopBlockClock()
        XCTAssertGreaterThanOrEqual(net.blockHeight, DefaultTopology.startHeight + 9)
    }
}
