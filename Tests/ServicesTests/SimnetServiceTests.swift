import LightningRPC
import Routing
import Simnet
import XCTest
@testable import Services

/// `paytrackrpc.Simnet/DescribeNetwork` over the default network: served nodes marked, private
/// channels only on request, balances and policies as the simulation holds them.
final class SimnetServiceTests: XCTestCase {
    func testDescribeNetworkMarksServedNodesAndHidesPrivateChannelsByDefault() throws {
        let net = SimulatedNetwork.makeDefault()
        let service = SimnetService(network: net, servedAliases: ["alice", "bob"])
        let all = service.describeNetwork(Paytrackrpc.DescribeNetworkRequest())
        XCTAssertEqual(all.nodes.map(\.alias), DefaultTopology.aliases)
        XCTAssertEqual(all.nodes.filter(\.served).map(\.alias), ["alice", "bob"])
        XCTAssertEqual(all.nodes.first { $0.alias == "carol" }?.pubKey, net.nodeID(alias: "carol")!.hex)
        XCTAssertEqual(all.channels.count, net.channelCount - 1, "judy-mallory is private")
        var request = Paytrackrpc.DescribeNetworkRequest()
        request.includeUnannounced = true
        let withPrivate = service.describeNetwork(request)
        XCTAssertEqual(withPrivate.channels.count, net.channelCount)
        XCTAssertEqual(withPrivate.channels.filter(\.`private`).count, 1)
        XCTAssertEqual(withPrivate.blockHeight, net.blockHeight)
        for c in withPrivate.channels {
            let view = net.channel(ShortChannelID(rawValue: c.chanId), from: NodeID(hex: c.node1Pub)!)!
            XCTAssertEqual(c.node1BalanceMsat, view.localBalanceMsat)
            XCTAssertEqual(c.node2BalanceMsat, view.remoteBalanceMsat)
            XCTAssertEqual(UInt64(c.capacity), view.capacitySat)
            XCTAssertEqual(c.node1Policy?.feeBaseMsat, view.localPolicy.map { Int64($0.feeBaseMsat) })
            XCTAssertEqual(c.node2Policy?.timeLockDelta, view.remotePolicy?.timeLockDelta)
            XCTAssertEqual(c.node1Policy?.maxHtlcMsat, view.localPolicy?.maxHTLCMsat)
        }
    }
}
