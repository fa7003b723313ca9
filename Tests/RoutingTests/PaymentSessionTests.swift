import XCTest
@testable import Routing

final class PaymentSessionTests: XCTestCase {
    typealias G = TestGraphs

    /// S has two 1M-sat channels to A; A–T is 3M sat: 1.5M sat must go in two parts.
    private func splitGraph() -> ChannelGraph {
        var g = ChannelGraph()
        G.add(&g, 1, G.s, G.a, capacitySat: 1_000_000, forward: G.policy(0, 0, 40))
        G.add(&g, 2, G.s, G.a, capacitySat: 1_000_000, forward: G.policy(0, 0, 40))
        G.add(&g, 3, G.a, G.t, capacitySat: 3_000_000, forward: G.policy(1000, 1, 40))
        return g
    }

    private func mppRequest(_ amount: UInt64) -> RouteRequest {
        var r = G.request(amount)
        r.mppRecord = PaymentData(paymentAddr: [UInt8](repeating: 9, count: 32), totalAmountMsat: amount)
        r.localBandwidthMsat = [G.scid(1): 900_000_000, G.scid(2): 900_000_000]
        return r
    }

    func testSplitsWhenOnePathCannotCarryAmount() {
        let router = Router(graph: splitGraph(), missionControl: MissionControl(clock: { 0 }))
        let bandwidth = [G.scid(1): UInt64(900_000_000), G.scid(2): 900_000_000]
        var session = PaymentSession(request: mppRequest(1_500_000_000))
        guard case .send(let shards) = session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: bandwidth) else {
            return XCTFail("expected shards")
        }
        XCTAssertEqual(shards.count, 2)
        XCTAssertEqual(shards.map(\.route.receiverAmountMsat).reduce(0, +), 1_500_000_000)
        XCTAssertEqual(Set(shards.map { $0.route.hops[0].chanID }), [G.scid(1), G.scid(2)])
        for s in shards {
            XCTAssertEqual(s.route.hops.last?.mppRecord?.totalAmountMsat, 1_500_000_000)
            XCTAssertLessThanOrEqual(s.route.totalAmountMsat, 900_000_000)
        }
        XCTAssertEqual(session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: [:]), .wait)
        for s in shards { session.shardSucceeded(s.id, router: router) }
        XCTAssertEqual(session.nextStep(router: router, currentHeight: 100), .succeeded)
        XCTAssertEqual(session.settledAmountMsat, 1_500_000_000)
    }

    func testMaxPartsOneMeansNoSplit() {
        let router = Router(graph: splitGraph())
        var session = PaymentSession(request: mppRequest(1_500_000_000), maxParts: 1)
        let step = session.nextStep(router: router, currentHeight: 100,
                                    localBandwidthMsat: [G.scid(1): 900_000_000, G.scid(2): 900_000_000])
        XCTAssertEqual(step, .failed(.noRoute(.insufficientLiquidity(amountMsat: 1_500_000_000))))
        if case .failed(let f) = step { XCTAssertEqual(f.lndFailureReasonRawValue, 2) }
    }

    func testKeysendNeverSplits() {
        var r = mppRequest(1_500_000_000)
        r.destCustomRecords = [SourceRoute.keysendRecordType: [UInt8](repeating: 1, count: 32)]
        let session = PaymentSession(request: r, maxParts: 16)
        XCTAssertEqual(session.maxParts, 1)
    }

    func testMaxShardSizeCapsEachPart() {
        let router = Router(graph: splitGraph(), missionControl: MissionControl(clock: { 0 }))
        var session = PaymentSession(request: mppRequest(100_000_000), maxShardSizeMsat: 30_000_000,
                                     minShardAmountMsat: 1000)
        guard case .send(let shards) = session.nextStep(router: router, currentHeight: 100,
                                                         localBandwidthMsat: [G.scid(1): 900_000_000, G.scid(2): 900_000_000])
        else { return XCTFail("expected shards") }
        XCTAssertEqual(shards.count, 4)
        XCTAssertTrue(shards.allSatisfy { $0.route.receiverAmountMsat <= 30_000_000 })
        XCTAssertEqual(shards.map(\.route.receiverAmountMsat).reduce(0, +), 100_000_000)
    }

    func testRetryAfterFailureSplitsThenTerminalWaitsForInFlight() {
        let router = Router(graph: splitGraph(), missionControl: MissionControl(clock: { 0 }))
        var session = PaymentSession(request: mppRequest(100_000_000), minShardAmountMsat: 1000)
        let bw = [G.scid(1): UInt64(900_000_000), G.scid(2): 900_000_000]
        guard case .send(let first) = session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: bw),
              first.count == 1 else { return XCTFail() }
        // A cannot forward 100M msat to T: mission control rules A→T out at ≥ that amount,
        // so the session splits the payment into smaller shards.
        session.shardFailed(first[0].id, failure: HTLCFailure(message: .init(code: .temporaryChannelFailure),
                                                              failureSourceIndex: 1), router: router)
        guard case .send(let second) = session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: bw)
        else { return XCTFail() }
        XCTAssertEqual(second.count, 2)
        XCTAssertTrue(second.allSatisfy { $0.route.receiverAmountMsat < 100_000_000 })
        XCTAssertEqual(second.map(\.route.receiverAmountMsat).reduce(0, +), 100_000_000)
        // The payee rejects one part: terminal, but the other part is still in flight.
        session.shardFailed(second[0].id, failure: HTLCFailure(
            message: .incorrectDetails, failureSourceIndex: second[0].route.hops.count), router: router)
        XCTAssertEqual(session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: bw), .wait)
        session.shardFailed(second[1].id, failure: HTLCFailure(message: .init(code: .mppTimeout),
                                                               failureSourceIndex: second[1].route.hops.count), router: router)
        XCTAssertEqual(session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: bw),
                       .failed(.payee(.incorrectPaymentDetails)))
    }

    func testInsufficientBalanceFailsPayment() {
        let router = Router(graph: splitGraph())
        var session = PaymentSession(request: mppRequest(100_000_000))
        XCTAssertEqual(session.nextStep(router: router, currentHeight: 100, localBandwidthMsat: [G.scid(1): 10, G.scid(2): 10]),
                       .failed(.noRoute(.insufficientLocalBalance(availableMsat: 20, requiredMsat: 100_000_000))))
    }
}

extension FailureMessage {
    static var incorrectDetails: FailureMessage { FailureMessage(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 1, height: 1) }
}
