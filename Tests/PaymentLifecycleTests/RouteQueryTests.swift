import Locks
import XCTest
import Crypto
import Payments
import PaymentStore
import Routing
import Simnet
@testable import PaymentLifecycle

/// Route search, BuildRoute and SendToRoute on a node's router over the simulated network and a
/// real SQLite store (no socket).
final class RouteQueryTests: XCTestCase {
    var dir: String!
    var network: SimulatedNetwork!
    var control: PaymentControl!
    var router: ChannelRouter!
    var alice: NodeID { network.nodeID(alias: "alice")! }
    var bob: NodeID { network.nodeID(alias: "bob")! }
    func id(_ a: String) -> NodeID { network.nodeID(alias: a)! }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-routes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        network = SimulatedNetwork.makeDefault()
        let store = try SQLitePaymentStore(path: dir + "/payments.sqlite")
        control = PaymentControl(store: store, tower: ControlTower(store: store))
        router = ChannelRouter(source: alice, network: network, control: control,
                               intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testFindRouteWithAndWithoutMissionControl() throws {
        let request = RouteRequest(source: alice, target: bob, amountMsat: 10_000_000, finalCLTVDelta: 80,
                                   currentHeight: router.currentHeight, feeLimitMsat: 1_000_000, cltvLimit: 2016)
        let plain = try router.findRoute(request, useMissionControl: false)
        XCTAssertEqual(plain.probability, 1)
        XCTAssertEqual(plain.route.destination, bob)
        XCTAssertEqual(plain.route.receiverAmountMsat, 10_000_000)
        let withMC = try router.findRoute(request, useMissionControl: true)
        XCTAssertGreaterThan(withMC.probability, 0)
        XCTAssertLessThan(withMC.probability, 1, "apriori hop probability below 1 for the hops after the first")
        // A failure recorded on the pair lowers what mission control gives it.
        let r = withMC.route
        let pairFrom = r.node(atSourceIndex: 1)!, pairTo = r.hops[1].pubKey
        let snapshot = router.missionControl.snapshot()
        let before = ChannelRouter.pairProbability(from: pairFrom, to: pairTo, amountMsat: 10_000_000, capacityMsat: 1_000_000_000,
                                                   snapshot: snapshot)
        router.missionControl.reportFailure(route: r, failure: HTLCFailure(
            message: FailureMessage(code: .temporaryChannelFailure), failureSourceIndex: 1))
        let after = ChannelRouter.pairProbability(from: pairFrom, to: pairTo, amountMsat: 10_000_000, capacityMsat: 1_000_000_000,
                                                  snapshot: router.missionControl.snapshot())
        XCTAssertLessThan(after, before)
        XCTAssertNotNil(router.missionControl.snapshot().pairs[pairFrom]?[pairTo]?.failTime)
        router.missionControl.reset()
        XCTAssertTrue(router.missionControl.snapshot().pairs.isEmpty)
        // Outgoing channel restriction.
        var only = request
        let erinChan = network.channels(of: alice).first { $0.remoteNode == self.id("erin") }!.shortChannelID
        only.outgoingChanIDs = [erinChan]
        XCTAssertEqual(try router.findRoute(only, useMissionControl: false).route.hops.first?.chanID, erinChan)
    }

    func testBuildRouteThroughGivenHops() throws {
        let route = try router.buildRoute(hops: [id("carol"), bob], amountMsat: 1_000_000, finalCLTVDelta: 80,
                                          outgoingChanID: nil, paymentAddr: [UInt8](repeating: 7, count: 32))
        XCTAssertEqual(route.hops.map(\.pubKey), [id("carol"), bob])
        // carol charges 1000 + 1e6·500/1e6 = 1,500 msat; CLTV: height + 80 at bob, + carol's 40.
        XCTAssertEqual(route.totalAmountMsat, 1_001_500)
        XCTAssertEqual(route.totalTimeLock, router.currentHeight + 80 + 40)
        XCTAssertEqual(route.hops.last?.mppRecord, PaymentData(paymentAddr: [UInt8](repeating: 7, count: 32), totalAmountMsat: 1_000_000))
        // No amount: the smallest one every hop's minimum admits.
        let minimal = try router.buildRoute(hops: [id("carol"), bob], amountMsat: nil, finalCLTVDelta: 80, outgoingChanID: nil,
                                            paymentAddr: nil)
        XCTAssertEqual(minimal.receiverAmountMsat, 1000)
        XCTAssertThrowsError(try router.buildRoute(hops: [bob], amountMsat: 1000, finalCLTVDelta: 80, outgoingChanID: nil,
                                                   paymentAddr: nil)) { e in
            XCTAssertEqual("\(e)", "no matching outgoing channel available for node index 0")
        }
    }

    func testSendToRouteSettlesOrFailsTheAttemptAndThePayment() throws {
        let preimage = [UInt8](repeating: 9, count: 32)
        network.setPayeeHandler(ChannelRouterTests.Payee(preimages: [preimage]), for: bob)
        let route = try router.buildRoute(hops: [id("carol"), bob], amountMsat: 2_000_000, finalCLTVDelta: 80,
                                          outgoingChanID: nil, paymentAddr: nil)
        let hash = PaymentHash(SHA256.hash(preimage))!
        let done = expectation(description: "settled")
        let result = Box<Result<HTLCAttempt, PaymentError>>()
        router.sendToRoute(route, paymentHash: hash, skipTempErr: false) { result.value = $0; done.fulfill() }
        wait(for: [done], timeout: 20)
        let attempt = try XCTUnwrap(try? result.value?.get())
        XCTAssertEqual(attempt.settle?.preimage.bytes, preimage)
        XCTAssertEqual(try control.fetchPayment(hash)?.status, .succeeded)
        // The same hash again: InitPayment refuses it (LND: AlreadyExists).
        let again = expectation(description: "refused")
        router.sendToRoute(route, paymentHash: hash, skipTempErr: false) { result.value = $0; again.fulfill() }
        wait(for: [again], timeout: 20)
        XCTAssertEqual(result.value.flatMap { r -> PaymentError? in if case .failure(let e) = r { return e }; return nil }, .alreadyPaid)

        // An unknown hash: the HTLC fails at bob, the payment fails with reason ERROR.
        let unknown = PaymentHash(SHA256.hash([UInt8](repeating: 8, count: 32)))!
        let failed = expectation(description: "failed")
        router.sendToRoute(route, paymentHash: unknown, skipTempErr: false) { result.value = $0; failed.fulfill() }
        wait(for: [failed], timeout: 20)
        let f = try XCTUnwrap(try? result.value?.get())
        XCTAssertEqual(f.failure?.message?.code, .incorrectOrUnknownPaymentDetails)
        XCTAssertEqual(f.failure?.failureSourceIndex, 2)
        let s = try XCTUnwrap(control.fetchPayment(unknown))
        XCTAssertEqual(s.status, .failed)
        XCTAssertEqual(s.failureReason, .error)
    }
}

final class Box<T>: @unchecked Sendable {
    private let lock = Lock()
    private var _value: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }
}
