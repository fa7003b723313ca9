import Locks
import Crypto
import Routing
import Simnet
import XCTest

final class ForwardingTests: XCTestCase {
    var net: SimulatedNetwork!
    var payee: TestPayee!
    let preimage = [UInt8](repeating: 0x42, count: 32)
    var hash: [UInt8] { SHA256.hash(preimage) }

    override func setUp() async throws {
        net = SimulatedNetwork.makeDefault()
        payee = TestPayee()
        net.setPayeeHandler(payee, for: id("bob"))
        net.setPayeeHandler(payee, for: id("mallory"))
    }

    func id(_ alias: String) -> NodeID { net.nodeID(alias: alias)! }

    func chan(_ a: String, _ b: String) -> SimulatedNetwork.ChannelBalance {
        net.channels(of: id(a)).first { $0.remoteNode == id(b) }!
    }

    /// A route through the given aliases using the network's current policies.
    func route(_ path: [String], amount: UInt64, mpp: PaymentData? = nil, records: [UInt64: [UInt8]] = [:]) -> SourceRoute {
        var segments: [SourceRoute.Segment] = []
        for i in 1..<path.count {
            let c = chan(path[i - 1], path[i])
            segments.append(SourceRoute.Segment(node: id(path[i]), chanID: c.shortChannelID, policy: c.localPolicy!,
                                          capacitySat: c.capacitySat))
        }
        return SourceRoute.build(source: id(path[0]), segments: segments, amountMsat: amount, finalCLTVDelta: 18,
                           currentHeight: net.blockHeight, mppRecord: mpp, customRecords: records)!
    }

    func failure(_ result: HTLCResult, file: StaticString = #filePath, line: UInt = #line) -> HTLCFailure? {
        guard case .failed(let f) = result else { XCTFail("expected failure, got \(result)", file: file, line: line); return nil }
        return f
    }

    func assertNothingLocked(file: StaticString = #filePath, line: UInt = #line) {
        for alias in DefaultTopology.aliases {
            for c in net.channels(of: id(alias)) { XCTAssertEqual(c.localLockedMsat, 0, "\(alias)", file: file, line: line) }
        }
    }

    func testSettlementMovesBalancesAndPaysFees() async throws {
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 100_000_000)
        let r = route(["alice", "carol", "bob"], amount: 100_000_000)
        let aliceBefore = chan("alice", "carol"), carolBefore = chan("carol", "bob")
        let result = await net.send(route: r, paymentHash: hash)
        XCTAssertEqual(result, .settled(preimage: preimage))
        let aliceAfter = chan("alice", "carol"), carolAfter = chan("carol", "bob")
        XCTAssertEqual(aliceBefore.localBalanceMsat - aliceAfter.localBalanceMsat, r.totalAmountMsat)
        XCTAssertEqual(carolBefore.localBalanceMsat - carolAfter.localBalanceMsat, 100_000_000)
        XCTAssertEqual(carolAfter.remoteBalanceMsat - carolBefore.remoteBalanceMsat, 100_000_000)
        // carol earned 1000 + 1e8·500/1e6 = 51,000 msat.
        XCTAssertEqual(r.totalFeesMsat, 51_000)
        assertNothingLocked()
        let htlcs = await payee.received
        XCTAssertEqual(htlcs.last?.amountMsat, 100_000_000)
        XCTAssertEqual(htlcs.last?.cltvExpiry, net.blockHeight + 18)
    }

    func testLiquidityLockedWhileInFlightThenReleasedOnFailure() async throws {
        await payee.setHoldAll(true)
        let r = route(["alice", "carol", "bob"], amount: 200_000_000)  // unknown hash: fails at payee
        let before = net.localBandwidth(of: id("alice"))[r.hops[0].chanID]!
        let network: SimulatedNetwork = net, h = hash
        let task = Task { await network.send(route: r, paymentHash: h) }
        while await payee.heldCount() == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        XCTAssertEqual(chan("alice", "carol").localLockedMsat, r.totalAmountMsat)
        XCTAssertEqual(chan("carol", "bob").localLockedMsat, 200_000_000)
        XCTAssertEqual(net.localBandwidth(of: id("alice"))[r.hops[0].chanID], before - r.totalAmountMsat)
        await payee.releaseHeld()
        let f = failure(await task.value)
        XCTAssertEqual(f?.message.code, .incorrectOrUnknownPaymentDetails)
        XCTAssertEqual(f?.failureSourceIndex, 2)
        XCTAssertEqual(f?.message.htlcMsat, 200_000_000)
        XCTAssertEqual(f?.message.height, net.blockHeight)
        assertNothingLocked()
        XCTAssertEqual(net.localBandwidth(of: id("alice"))[r.hops[0].chanID], before)
    }

    func testUnknownNextPeerWhenOffline() async {
        net.setOnline(id("bob"), false)
        let f = failure(await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash))
        XCTAssertEqual(f?.message.code, .unknownNextPeer)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertNil(f?.message.channelUpdate)
        net.setOnline(id("carol"), false)
        let local = failure(await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash))
        XCTAssertEqual(local?.message.code, .unknownNextPeer)
        XCTAssertEqual(local?.failureSourceIndex, 0)
        // An offline peer's channel is not in the sender's bandwidth hints.
        XCTAssertNil(net.localBandwidth(of: id("alice"))[chan("alice", "carol").shortChannelID])
        assertNothingLocked()
    }

    func testUnknownChannel() async {
        var r = route(["alice", "carol", "bob"], amount: 1_000_000)
        r.hops[1].chanID = ShortChannelID(rawValue: 12345)
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .unknownNextPeer)
        XCTAssertEqual(f?.failureSourceIndex, 1)
    }

    func testChannelDisabled() async {
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        net.setChannelDisabled(chan("carol", "bob").shortChannelID, from: id("carol"), true)
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .channelDisabled)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertEqual(f?.message.disabledFlags, 0)
        XCTAssertEqual(f?.message.channelUpdate?.isDisabled, true)
        XCTAssertEqual(f?.message.channelUpdate?.shortChannelID, r.hops[1].chanID)
    }

    func testFeeInsufficientCarriesSignedUpdateThatFixesTheGraph() async throws {
        let r = route(["alice", "carol", "bob"], amount: 10_000_000)
        let scid = chan("carol", "bob").shortChannelID
        var p = chan("carol", "bob").localPolicy!
        p.feeBaseMsat = 5000
        net.setPolicy(p, on: scid, from: id("carol"))
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .feeInsufficient)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertEqual(f?.message.htlcMsat, r.incomingAmountMsat(ofHop: 0))
        let update = try XCTUnwrap(f?.message.channelUpdate)
        XCTAssertEqual(update.feeBaseMsat, 5000)
        // The update is signed by carol (BOLT 7: double-SHA256 of the bytes after the signature).
        let carolKey = try PublicKey(serialized: id("carol").bytes)
        XCTAssertTrue(carolKey.verify(signature: update.signature, hash: SHA256.hash(SHA256.hash(update.signedBytes))))
        // The router applies it; the next route pays the new fee and settles.
        let router = Router(graph: net.publicGraph())
        router.updateGraph { $0.setPolicy(chan("carol", "bob").localPolicy.map { var o = $0; o.feeBaseMsat = 1000; o.lastUpdate = 0; return o },
                                          on: scid, from: id("carol")) }
        XCTAssertEqual(router.reportFailure(route: r, failure: f!), .retry)
        XCTAssertEqual(router.graph.channel(scid)?.policy(from: id("carol"))?.feeBaseMsat, 5000)
    }

    func testIncorrectCLTVExpiry() async {
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        var p = chan("carol", "bob").localPolicy!
        p.timeLockDelta = 100
        net.setPolicy(p, on: chan("carol", "bob").shortChannelID, from: id("carol"))
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .incorrectCltvExpiry)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertEqual(f?.message.cltvExpiry, r.incomingExpiry(ofHop: 0))
        XCTAssertEqual(f?.message.channelUpdate?.cltvExpiryDelta, 100)
    }

    func testAmountBelowMinimum() async {
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        var p = chan("carol", "bob").localPolicy!
        p.minHTLCMsat = 5_000_000
        net.setPolicy(p, on: chan("carol", "bob").shortChannelID, from: id("carol"))
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .amountBelowMinimum)
        XCTAssertEqual(f?.message.htlcMsat, 1_000_000)
        XCTAssertEqual(f?.message.channelUpdate?.htlcMinimumMsat, 5_000_000)
    }

    func testTemporaryChannelFailureOnInsufficientBalance() async {
        // carol has 2.5M sat towards bob; 2.8M sat cannot pass.
        let r = route(["alice", "carol", "bob"], amount: 2_800_000_000)
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .temporaryChannelFailure)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertNotNil(f?.message.channelUpdate)
        assertNothingLocked()
    }

    func testExpiryTooSoon() async {
        let r = route(["alice", "carol", "bob"], amount: 1_000_000)
        net.mineBlocks(50)  // carol's outgoing expiry (start + 18) is now in the past
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .expiryTooSoon)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        XCTAssertNotNil(f?.message.channelUpdate)
    }

    func testFinalIncorrectHTLCAmountAndCLTV() async {
        var r = route(["alice", "carol", "bob"], amount: 1_000_000)
        r.hops[1].amtToForwardMsat = 2_000_000  // the onion claims more than carol forwards
        let f = failure(await net.send(route: r, paymentHash: hash))
        XCTAssertEqual(f?.message.code, .finalIncorrectHtlcAmount)
        XCTAssertEqual(f?.failureSourceIndex, 2)
        XCTAssertEqual(f?.message.htlcMsat, 1_000_000)
        var c = route(["alice", "carol", "bob"], amount: 1_000_000)
        c.hops[1].expiry += 5
        let g = failure(await net.send(route: c, paymentHash: hash))
        XCTAssertEqual(g?.message.code, .finalIncorrectCltvExpiry)
        XCTAssertEqual(g?.message.cltvExpiry, c.hops[0].expiry)
    }

    func testRandomTemporaryFailuresAtConfiguredRate() async {
        net.temporaryFailureRate = 1
        let f = failure(await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash))
        XCTAssertEqual(f?.message.code, .temporaryChannelFailure)
        XCTAssertEqual(f?.failureSourceIndex, 1)
        net.temporaryFailureRate = 0
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 1_000_000)
        let ok = await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash)
        XCTAssertEqual(ok, .settled(preimage: preimage))
    }

    func testMPPTimeout() async throws {
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 3_000_000)
        let mpp = PaymentData(paymentAddr: [UInt8](repeating: 1, count: 32), totalAmountMsat: 3_000_000)
        let r = route(["alice", "carol", "bob"], amount: 1_000_000, mpp: mpp)
        let network: SimulatedNetwork = net, h = hash
        let task = Task { await network.send(route: r, paymentHash: h) }
        while await payee.received.isEmpty { try await Task.sleep(nanoseconds: 1_000_000) }
        XCTAssertEqual(chan("carol", "bob").localLockedMsat, 1_000_000)
        await payee.timeOutHeldParts()
        let f = failure(await task.value)
        XCTAssertEqual(f?.message.code, .mppTimeout)
        XCTAssertEqual(f?.failureSourceIndex, 2)
        let htlc = await payee.received[0]
        XCTAssertEqual(htlc.payload.totalAmountMsat, 3_000_000)
        XCTAssertEqual(htlc.payload.paymentAddr, mpp.paymentAddr)
        assertNothingLocked()
    }

    func testKeysendRecordReachesPayee() async {
        let r = route(["alice", "dave", "bob"], amount: 5_000_000, records: [SourceRoute.keysendRecordType: preimage])
        let result = await net.send(route: r, paymentHash: hash)
        XCTAssertEqual(result, .settled(preimage: preimage))
    }

    func testLatencyIsApplied() async {
        let sleeper = RecordingSleeper()
        let slow = SimulatedNetwork.makeDefault(configuration: .init(latency: LatencyModel(baseNanoseconds: 1000, jitterNanoseconds: 10),
                                                                   sleeper: sleeper))
        net = slow
        _ = await net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash)
        let total = sleeper.total
        // Two forwards and two hops back, each 1000–1010 ns.
        XCTAssertGreaterThanOrEqual(total, 4000)
        XCTAssertLessThanOrEqual(total, 4040)
    }

    func testCallbackSend() async {
        _ = await payee.addInvoice(preimage: preimage, amountMsat: 1_000_000)
        let result: HTLCResult = await withCheckedContinuation { c in
            net.send(route: route(["alice", "carol", "bob"], amount: 1_000_000), paymentHash: hash) { c.resume(returning: $0) }
        }
        XCTAssertEqual(result, .settled(preimage: preimage))
    }
}

final class RecordingSleeper: SimulationSleeper, @unchecked Sendable {
    private let lock = Lock()
    private var sum: UInt64 = 0
    var total: UInt64 { lock.lock(); defer { lock.unlock() }; return sum }
    func sleep(nanoseconds: UInt64) async { lock.withLock { sum += nanoseconds } }
}
