import XCTest
import BOLT11
import LightningRPC
import Routing
import RPCCore
import Simnet
@testable import Services

/// lnrpc's channel and graph calls over the simulated network (no socket): LND's sums, filters,
/// texts and codes, and DescribeGraph's JSON re-imported as a topology.
final class LightningGraphTests: XCTestCase {
    let net = SimulatedNetwork.makeDefault()
    var alice: NodeID { net.nodeID(alias: "alice")! }
    var graph: LightningGraph {
        LightningGraph(network: net, node: alice, features: FeatureVector(bits: [8, 14, 17]), work: BlockingWork())
    }

    func status(_ body: () throws -> Any) -> GRPCStatus? {
        do { _ = try body(); return nil } catch { return error as? GRPCStatus }
    }

    func testChannelBalanceSumsAlicesChannels() {
        let b = graph.channelBalance(Lnrpc.ChannelBalanceRequest())
        // Default topology: alice holds 4M + 1.5M + 0.8M sat of 8M sat capacity.
        XCTAssertEqual(b.localBalance?.sat, 6_300_000)
        XCTAssertEqual(b.localBalance?.msat, 6_300_000_000)
        XCTAssertEqual(b.remoteBalance?.sat, 1_700_000)
        XCTAssertEqual(b.balance, 6_300_000)
        XCTAssertEqual(b.unsettledLocalBalance?.msat, 0)
        XCTAssertEqual(b.pendingOpenLocalBalance?.msat, 0)
        XCTAssertEqual(b.customChannelData, [3, 0, 0, 0, 0])
        XCTAssertEqual(LightningGraph.varint(0xfd), [0xfd, 0xfd, 0x00])
    }

    func testListChannelsFiltersAndTexts() throws {
        let all = try graph.listChannels(Lnrpc.ListChannelsRequest()).channels
        XCTAssertEqual(all.count, 3)
        let carol = net.nodeID(alias: "carol")!
        let c = try XCTUnwrap(all.first { $0.remotePubkey == carol.hex })
        XCTAssertEqual([c.capacity, c.localBalance, c.remoteBalance], [5_000_000, 4_000_000, 1_000_000])
        XCTAssertTrue(c.active && c.initiator && !c.private)
        XCTAssertEqual(c.channelPoint, GraphChannel.channelPoint(of: ShortChannelID(rawValue: c.chanId)))
        XCTAssertEqual(c.localConstraints?.chanReserveSat, 50_000)
        var r = Lnrpc.ListChannelsRequest()
        r.peer = carol.bytes
        r.peerAliasLookup = true
        XCTAssertEqual(try graph.listChannels(r).channels.map(\.peerAlias), ["carol"])
        net.setOnline(carol, false)
        r = Lnrpc.ListChannelsRequest()
        r.inactiveOnly = true
        XCTAssertEqual(try graph.listChannels(r).channels.map(\.remotePubkey), [carol.hex])
        r.activeOnly = true
        XCTAssertEqual(status { try graph.listChannels(r) },
                       GRPCStatus(.unknown, "either `active_only` or `inactive_only` can be set, but not both"))
        r = Lnrpc.ListChannelsRequest()
        r.publicOnly = true
        r.privateOnly = true
        XCTAssertEqual(status { try graph.listChannels(r) },
                       GRPCStatus(.unknown, "either `public_only` or `private_only` can be set, but not both"))
        r = Lnrpc.ListChannelsRequest()
        r.peer = [2, 3]
        XCTAssertEqual(status { try graph.listChannels(r) },
                       GRPCStatus(.unknown, "invalid `peer` key: invalid vertex length of 2, want 33"))
    }

    func testGetNodeInfoAndGetChanInfo() throws {
        var r = Lnrpc.NodeInfoRequest()
        r.pubKey = net.nodeID(alias: "judy")!.hex
        var info = try graph.getNodeInfo(r)
        XCTAssertEqual(info.node?.alias, "judy")
        XCTAssertEqual(info.numChannels, 2, "private channels count")
        XCTAssertEqual(info.totalCapacity, 1_500_000)
        XCTAssertEqual(info.channels, [])
        r.includeChannels = true
        info = try graph.getNodeInfo(r)
        XCTAssertEqual(info.channels.count, 1, "only announced channels are listed")
        r.includeChannels = false
        r.includeAuthProof = true
        XCTAssertEqual(status { try graph.getNodeInfo(r) }, GRPCStatus(.unknown, "include_auth_proof depends on include_channels"))
        r = Lnrpc.NodeInfoRequest()
        r.pubKey = "02ab"
        XCTAssertEqual(status { try graph.getNodeInfo(r) }, GRPCStatus(.unknown, "invalid vertex string length of 4, want 66"))
        r.pubKey = "02" + String(repeating: "z", count: 64)
        XCTAssertEqual(status { try graph.getNodeInfo(r) }, GRPCStatus(.unknown, "encoding/hex: invalid byte: U+007A 'z'"))
        r.pubKey = "02" + String(repeating: "11", count: 32)
        XCTAssertEqual(status { try graph.getNodeInfo(r) }, GRPCStatus(.notFound, "unable to find node"))

        let ch = net.graphChannels(includePrivate: true).last!
        var q = Lnrpc.ChanInfoRequest()
        q.chanId = ch.shortChannelID.rawValue
        let e = try graph.getChanInfo(q)
        XCTAssertEqual([e.node1Pub, e.node2Pub], [ch.node1.hex, ch.node2.hex])
        XCTAssertEqual(e.capacity, Int64(ch.capacitySat))
        XCTAssertEqual(e.node1Policy?.feeBaseMsat, Int64(ch.policy1!.feeBaseMsat))
        q = Lnrpc.ChanInfoRequest()
        q.chanPoint = ch.channelPoint
        XCTAssertEqual(try graph.getChanInfo(q), e)
        q.chanPoint = "nocolon"
        XCTAssertEqual(status { try graph.getChanInfo(q) }, GRPCStatus(.unknown, "outpoint should be of the form txid:index"))
        q = Lnrpc.ChanInfoRequest()
        XCTAssertEqual(status { try graph.getChanInfo(q) }, GRPCStatus(.unknown, "specify either chan_id or chan_point"))
        q.chanId = 1
        XCTAssertEqual(status { try graph.getChanInfo(q) }, GRPCStatus(.notFound, "edge not found"))
    }

    /// DescribeGraph's REST/lncli JSON imports back (`--describegraph`) as the same network: same
    /// nodes (still servable: their keys derive from the same seed), channels and policies.
    func testDescribeGraphReimports() throws {
        var r = Lnrpc.ChannelGraphRequest()
        XCTAssertEqual(graph.describeGraph(r).edges.count, net.channelCount - 1)
        r.includeUnannounced = true
        let g = graph.describeGraph(r)
        XCTAssertEqual(g.nodes.count, net.aliases.count)
        XCTAssertEqual(g.edges.count, net.channelCount)
        let json = Array(g.gatewayJSONString().utf8)
        let topology = try DescribeGraphImport.decode(json, seed: "paytrack")
        let again = try SimulatedNetwork(topology: topology)
        XCTAssertEqual(Set(again.aliases), Set(net.aliases))
        for alias in net.aliases {
            XCTAssertEqual(again.nodeID(alias: alias), net.nodeID(alias: alias), alias)
            XCTAssertNotNil(again.privateKey(of: again.nodeID(alias: alias)!), "\(alias) can be served again")
        }
        let before = net.graphChannels(includePrivate: true)
        let after = again.graphChannels(includePrivate: true)
        XCTAssertEqual(after.map(\.shortChannelID), before.map(\.shortChannelID))
        for (a, b) in zip(before, after) {
            XCTAssertEqual(a.capacitySat, b.capacitySat)
            XCTAssertEqual(a.policy1?.feeBaseMsat, b.policy1?.feeBaseMsat)
            XCTAssertEqual(a.policy2?.feeRatePPM, b.policy2?.feeRatePPM)
            XCTAssertEqual(a.policy1?.timeLockDelta, b.policy1?.timeLockDelta)
        }
    }
}
