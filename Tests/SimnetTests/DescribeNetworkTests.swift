import Crypto
import Routing
import Simnet
import XCTest

/// `SimulatedNetwork.describe`: every channel with both sides' balances, consistent with each
/// node's own view, moving as HTLCs settle.
final class DescribeNetworkTests: XCTestCase {
    func testEveryChannelBothSidesAgreeWithEachNodesView() {
        let net = SimulatedNetwork.makeDefault()
        let d = net.describe()
        XCTAssertEqual(d.nodes.map(\.alias), DefaultTopology.aliases)
        XCTAssertEqual(d.channels.count, net.channelCount)
        XCTAssertEqual(d.blockHeight, net.blockHeight)
        for c in d.channels {
            XCTAssertLessThan(c.node1, c.node2, "node1 is the lesser key")
            XCTAssertEqual(c.balanceMsat.0 + c.balanceMsat.1, c.capacitySat * 1000)
            let fromNode1 = net.channel(c.shortChannelID, from: c.node1)!
            XCTAssertEqual(fromNode1.localBalanceMsat, c.balanceMsat.0)
            XCTAssertEqual(fromNode1.remoteBalanceMsat, c.balanceMsat.1)
            XCTAssertEqual(fromNode1.localPolicy, c.policy1)
            XCTAssertEqual(fromNode1.remotePolicy, c.policy2)
            XCTAssertEqual(fromNode1.isPrivate, c.isPrivate)
        }
        XCTAssertEqual(d.channels.filter(\.isPrivate).count, 1, "judy-mallory")
    }

    func testBalancesMoveWhenAPaymentSettles() async throws {
        let net = SimulatedNetwork.makeDefault()
        let payee = TestPayee()
        let id = { (a: String) in net.nodeID(alias: a)! }
        net.setPayeeHandler(payee, for: id("bob"))
        let preimage = [UInt8](repeating: 7, count: 32)
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 50_000_000)
        let before = net.describe().channels
        let c1 = net.channels(of: id("alice")).first { $0.remoteNode == id("carol") }!
        let c2 = net.channels(of: id("carol")).first { $0.remoteNode == id("bob") }!
        let route = SourceRoute.build(source: id("alice"), segments: [
            SourceRoute.Segment(node: id("carol"), chanID: c1.shortChannelID, policy: c1.localPolicy!, capacitySat: c1.capacitySat),
            SourceRoute.Segment(node: id("bob"), chanID: c2.shortChannelID, policy: c2.localPolicy!, capacitySat: c2.capacitySat),
        ], amountMsat: 50_000_000, finalCLTVDelta: 18, currentHeight: net.blockHeight, mppRecord: nil, customRecords: [:])!
        let result = await net.send(route: route, paymentHash: SHA256.hash(preimage))
        XCTAssertEqual(result, .settled(preimage: preimage))
        let after = net.describe().channels
        func side(_ cs: [SimulatedNetwork.ChannelDescription], _ scid: ShortChannelID, _ node: NodeID) -> UInt64 {
            let c = cs.first { $0.shortChannelID == scid }!
            return c.node1 == node ? c.balanceMsat.0 : c.balanceMsat.1
        }
        XCTAssertEqual(side(after, c2.shortChannelID, id("bob")) - side(before, c2.shortChannelID, id("bob")), 50_000_000)
        XCTAssertEqual(side(before, c1.shortChannelID, id("alice")) - side(after, c1.shortChannelID, id("alice")), route.totalAmountMsat)
        let untouched = before.filter { $0.shortChannelID != c1.shortChannelID && $0.shortChannelID != c2.shortChannelID }
        XCTAssertEqual(untouched, after.filter { $0.shortChannelID != c1.shortChannelID && $0.shortChannelID != c2.shortChannelID })
        XCTAssertTrue(after.allSatisfy { $0.lockedMsat == (0, 0) })
    }
}
