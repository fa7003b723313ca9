import Locks
import Crypto
import Routing
import Simnet
import XCTest

/// The switch events the simulated network reports to each node on an HTLC's path (LND's
/// htlcswitch notifier): sends, forwards, receipts, link failures and final resolutions.
final class HTLCEventTests: XCTestCase {
    var net: SimulatedNetwork!
    var payee: TestPayee!
    let preimage = [UInt8](repeating: 0x51, count: 32)

    override func setUp() async throws {
        net = SimulatedNetwork.makeDefault()
        payee = TestPayee()
        net.setPayeeHandler(payee, for: id("bob"))
    }

    func id(_ alias: String) -> NodeID { net.nodeID(alias: alias)! }

    func route(_ path: [String], amount: UInt64) -> SourceRoute {
        var segments: [SourceRoute.Segment] = []
        for i in 1..<path.count {
            let c = net.channels(of: id(path[i - 1])).first { $0.remoteNode == self.id(path[i]) }!
            segments.append(SourceRoute.Segment(node: id(path[i]), chanID: c.shortChannelID, policy: c.localPolicy!, capacitySat: c.capacitySat))
        }
        return SourceRoute.build(source: id(path[0]), segments: segments, amountMsat: amount, finalCLTVDelta: 18,
                           currentHeight: net.blockHeight)!
    }

    final class Recorder: @unchecked Sendable {
        private let lock = Lock()
        private var events: [HTLCEvent] = []
        func add(_ e: HTLCEvent) { lock.lock(); events.append(e); lock.unlock() }
        var all: [HTLCEvent] { lock.lock(); defer { lock.unlock() }; return events }
    }

    func record(_ alias: String) -> Recorder {
        let r = Recorder()
        _ = net.subscribeHTLCEvents(node: id(alias)) { r.add($0) }
        return r
    }

    func testSettledPaymentEventsPerNode() async throws {
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 1_000_000)
        let alice = record("alice"), carol = record("carol"), bob = record("bob"), dave = record("dave")
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        let result = await net.send(route: r, paymentHash: SHA256.hash(preimage))
        XCTAssertEqual(result, .settled(preimage: preimage))
        XCTAssertEqual(alice.all.map(\.kind), [.forward, .settle(preimage: preimage)])
        XCTAssertEqual(alice.all.map(\.direction), [.send, .send])
        let send = alice.all[0]
        XCTAssertNil(send.incomingChannel)
        XCTAssertEqual(send.incomingHTLCID, 0)
        XCTAssertEqual(send.outgoingChannel, r.hops[0].chanID)
        XCTAssertEqual(send.outgoingAmountMsat, r.totalAmountMsat)
        XCTAssertEqual(send.outgoingTimelock, r.totalTimeLock)
        XCTAssertEqual(carol.all.map(\.kind), [.forward, .settle(preimage: preimage), .final(settled: true)])
        let fwd = carol.all[0]
        XCTAssertEqual(fwd.direction, .forward)
        XCTAssertEqual(fwd.incomingChannel, r.hops[0].chanID)
        XCTAssertEqual(fwd.outgoingChannel, r.hops[1].chanID)
        XCTAssertEqual(fwd.incomingAmountMsat - fwd.outgoingAmountMsat, r.hops[0].feeMsat)
        XCTAssertEqual(fwd.incomingHTLCID, fwd.outgoingHTLCID)
        XCTAssertEqual(bob.all.map(\.kind), [.settle(preimage: preimage), .final(settled: true)])
        XCTAssertEqual(bob.all.map(\.direction), [.receive, .receive])
        XCTAssertNil(bob.all[0].outgoingChannel)
        XCTAssertEqual(dave.all, [], "nodes off the path hear nothing")
    }

    func testFailuresAtALinkAndAtThePayee() async throws {
        let alice = record("alice"), carol = record("carol"), bob = record("bob")
        // Unknown hash: bob refuses it.
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        _ = await net.send(route: r, paymentHash: SHA256.hash([UInt8](repeating: 1, count: 32)))
        guard case .linkFail(let m, let detail) = bob.all.first?.kind else { return XCTFail("\(bob.all)") }
        XCTAssertEqual(m.code, .incorrectOrUnknownPaymentDetails)
        XCTAssertEqual(detail, .invoiceRefused)
        XCTAssertEqual(bob.all.last?.kind, .final(settled: false))
        XCTAssertEqual(carol.all.map(\.kind), [.forward, .forwardFail, .final(settled: false)])
        XCTAssertEqual(alice.all.map(\.kind), [.forward, .forwardFail])
        // Carol cannot forward more than her balance towards bob: her link fails it.
        let big = route(["alice", "carol", "bob"], amount: 2_600_000_000)
        let before = carol.all.count
        _ = await net.send(route: big, paymentHash: SHA256.hash(preimage))
        let carolNew = Array(carol.all.dropFirst(before))
        guard case .linkFail(let m2, let d2)? = carolNew.first?.kind else { return XCTFail("\(carolNew)") }
        XCTAssertEqual(m2.code, .temporaryChannelFailure)
        XCTAssertEqual(d2, .insufficientBalance)
        XCTAssertEqual(carolNew.last?.kind, .final(settled: false))
        XCTAssertEqual(alice.all.suffix(2).map(\.kind), [.forward, .forwardFail])
    }

    func testUnsubscribe() async {
        let r = Recorder()
        let token = net.subscribeHTLCEvents(node: id("alice")) { r.add($0) }
        XCTAssertEqual(net.htlcSubscriberCount, 1)
        net.unsubscribeHTLCEvents(token)
        XCTAssertEqual(net.htlcSubscriberCount, 0)
        _ = await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: SHA256.hash(preimage))
        XCTAssertEqual(r.all, [])
    }
}
