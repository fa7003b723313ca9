import Locks
import Crypto
import Routing
import Simnet
import XCTest

/// The simulated network as LND's graph and channel calls describe it: channels in BOLT 7 order
/// with both policies, stable channel points, private channels only on request, HTLCs in flight
/// per channel while a payee holds them, and block observers.
final class GraphViewTests: XCTestCase {
    var net: SimulatedNetwork!
    var payee: TestPayee!

    override func setUp() async throws {
        net = SimulatedNetwork.makeDefault()
        payee = TestPayee()
        net.setPayeeHandler(payee, for: id("bob"))
    }

    func id(_ alias: String) -> NodeID { net.nodeID(alias: alias)! }

    func testGraphChannelsAndNodes() throws {
        let all = net.graphChannels(includePrivate: true)
        let announced = net.graphChannels(includePrivate: false)
        XCTAssertEqual(all.count, net.channelCount)
        XCTAssertEqual(all.filter(\.isPrivate).count, 1, "judy–mallory is private")
        XCTAssertEqual(announced.count, all.count - 1)
        XCTAssertEqual(net.graphNodes().map(\.alias), net.aliases)
        for c in all {
            XCTAssertLessThan(c.node1, c.node2, "BOLT 7 order")
            XCTAssertEqual(net.graphChannel(c.shortChannelID), c)
            XCTAssertEqual(net.graphChannel(channelPoint: c.channelPoint), c)
            // The policy node1 applies is what node1 sees as its local policy.
            let fromNode1 = net.channel(c.shortChannelID, from: c.node1)
            XCTAssertEqual(fromNode1?.localPolicy, c.policy1)
            XCTAssertEqual(fromNode1?.remotePolicy, c.policy2)
        }
        XCTAssertEqual(Set(all.map(\.channelPoint)).count, all.count, "channel points are unique")
        let point = all[0].channelPoint
        XCTAssertEqual(point.split(separator: ":").first?.count, 64)
        XCTAssertEqual(point.split(separator: ":").last.map(String.init), "\(all[0].shortChannelID.outputIndex)")
        XCTAssertNil(net.graphChannel(ShortChannelID(rawValue: 12345)))
        XCTAssertEqual(net.graphChannels(of: id("alice")).count, 3)
        // The topology's first named node opened the channel.
        XCTAssertEqual(net.channels(of: id("alice")).map(\.isInitiator), [true, true, true])
        XCTAssertEqual(net.channels(of: id("carol")).first { $0.remoteNode == self.id("alice") }?.isInitiator, false)
    }

    func testPendingHTLCsWhileHeldThenGone() async throws {
        await payee.setHoldAll(true)
        let carolBob = net.channels(of: id("carol")).first { $0.remoteNode == self.id("bob") }!
        let aliceCarol = net.channels(of: id("alice")).first { $0.remoteNode == self.id("carol") }!
        let r = SourceRoute.build(source: id("alice"), segments: [
            SourceRoute.Segment(node: id("carol"), chanID: aliceCarol.shortChannelID, policy: aliceCarol.localPolicy!, capacitySat: 0),
            SourceRoute.Segment(node: id("bob"), chanID: carolBob.shortChannelID, policy: carolBob.localPolicy!, capacitySat: 0),
        ], amountMsat: 5_000_000, finalCLTVDelta: 18, currentHeight: net.blockHeight)!
        let hash = SHA256.hash([UInt8](repeating: 1, count: 32))
        let network: SimulatedNetwork = net
        let task = Task { await network.send(route: r, paymentHash: hash) }
        while await payee.heldCount() == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        let out = net.pendingHTLCs(on: aliceCarol.shortChannelID, of: id("alice"))
        XCTAssertEqual(out.map(\.incoming), [false])
        XCTAssertEqual(out.first?.amountMsat, r.totalAmountMsat)
        XCTAssertEqual(out.first?.paymentHash, hash)
        XCTAssertEqual(out.first?.expirationHeight, r.totalTimeLock)
        XCTAssertEqual(net.pendingHTLCs(on: aliceCarol.shortChannelID, of: id("carol")).map(\.incoming), [true])
        let atBob = net.pendingHTLCs(on: carolBob.shortChannelID, of: id("bob"))
        XCTAssertEqual(atBob.map(\.incoming), [true])
        XCTAssertEqual(atBob.first?.amountMsat, 5_000_000)
        XCTAssertEqual(net.channels(of: id("bob")).first { $0.shortChannelID == carolBob.shortChannelID }?.remoteLockedMsat, 5_000_000)
        XCTAssertEqual(net.pendingHTLCCount, 1)
        await payee.releaseHeld()
        _ = await task.value
        XCTAssertEqual(net.pendingHTLCCount, 0)
        XCTAssertEqual(net.pendingHTLCs(on: aliceCarol.shortChannelID, of: id("alice")), [])
    }

    /// The public graph is built once per policy change: a policy change is seen at once.
    func testPublicGraphFollowsPolicyChanges() {
        let scid = net.channels(of: id("alice")).first!.shortChannelID
        let before = net.publicGraph()
        XCTAssertEqual(net.publicGraph().channel(scid), before.channel(scid))
        var p = net.channel(scid, from: id("alice"))!.localPolicy!
        p.feeBaseMsat = 4321
        XCTAssertTrue(net.setPolicy(p, on: scid, from: id("alice")))
        XCTAssertEqual(net.publicGraph().channel(scid)?.policy(from: id("alice"))?.feeBaseMsat, 4321)
        XCTAssertNotEqual(before.channel(scid)?.policy(from: id("alice"))?.feeBaseMsat, 4321, "an earlier copy is unchanged")
    }

    func testBlockObserversHearEveryNewHeight() {
        let seen = Heights()
        net.onNewBlock { seen.add($0) }
        let start = net.blockHeight
        net.mineBlocks(2)
        net.mineBlocks()
        XCTAssertEqual(seen.all, [start + 2, start + 3])
    }
}

final class Heights: @unchecked Sendable {
    private let lock = Lock()
    private var values: [UInt32] = []
    func add(_ h: UInt32) { lock.lock(); values.append(h); lock.unlock() }
    var all: [UInt32] { lock.lock(); defer { lock.unlock() }; return values }
}
