import XCTest
import Crypto
import Payments
import PaymentStore
import Routing
import Simnet
@testable import PaymentLifecycle

/// The payment lifecycle over a real SQLite store and the simulated network (no socket).
final class ChannelRouterTests: XCTestCase {
    /// Settles HTLCs whose hash it knows, after an optional delay; fails the others.
    final class Payee: PayeeHandler, @unchecked Sendable {
        let preimages: [[UInt8]: [UInt8]]
        let delayNs: UInt64
        init(preimages: [[UInt8]], delayNs: UInt64 = 0) {
            self.preimages = Dictionary(uniqueKeysWithValues: preimages.map { (SHA256.hash($0), $0) })
            self.delayNs = delayNs
        }
        func handle(_ htlc: Simnet.PayeeHTLC) async -> PayeeDecision {
            if delayNs > 0 { try? await Task.sleep(nanoseconds: delayNs) }
            if let p = preimages[htlc.paymentHash] { return .settle(preimage: p) }
            return .fail(.incorrectOrUnknownPaymentDetails(htlcMsat: htlc.amountMsat, height: htlc.currentHeight))
        }
    }

    var dir: String!

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-lifecycle-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func engine() throws -> (PaymentControl, SQLitePaymentStore) {
        let store = try SQLitePaymentStore(path: dir + "/payments.sqlite")
        let control = PaymentControl(store: store, tower: ControlTower(store: store))
        return (control, store)
    }

    func waitTerminal(_ control: PaymentControl, _ hash: PaymentHash, seconds: Double = 20) throws -> PaymentSnapshot {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let s = try control.fetchPayment(hash), s.status.isTerminal, s.inFlightAttempts.isEmpty { return s }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("payment \(hash) did not finish")
        return try XCTUnwrap(control.fetchPayment(hash))
    }

    func intent(to dest: NodeID, preimage: [UInt8], amountMsat: UInt64 = 50_000_000, timeout: UInt32 = 30) -> PaymentIntent {
        PaymentIntent(paymentHash: SHA256.hash(preimage), destination: dest, amountMsat: amountMsat, finalCLTVDelta: 40,
                      destCustomRecords: [5_482_373_484: preimage], maxParts: 1, timeoutSeconds: timeout,
                      creationTimeNs: Int64(Date().timeIntervalSince1970 * 1e9))
    }

    func testPaymentSucceedsWithFeesOfItsRoute() throws {
        let network = SimulatedNetwork.makeDefault()
        let alice = network.nodeID(alias: "alice")!, bob = network.nodeID(alias: "bob")!
        let preimage = SecureRandom.bytes(32)
        network.setPayeeHandler(Payee(preimages: [preimage]), for: bob)
        let (control, store) = try engine()
        defer { store.close() }
        let router = ChannelRouter(source: alice, network: network, control: control,
                                   intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
        let i = intent(to: bob, preimage: preimage)
        let hash = try router.initiate(i)
        XCTAssertEqual(try control.fetchPayment(hash)?.status, .initiated)
        router.launch(i)
        let s = try waitTerminal(control, hash)
        XCTAssertEqual(s.status, .succeeded)
        XCTAssertEqual(s.settledPreimage?.bytes, preimage)
        let settled = try XCTUnwrap(s.attempts.first { $0.settle != nil })
        XCTAssertEqual(settled.route.receiverAmtMsat, 50_000_000)
        XCTAssertEqual(s.feesMsat, settled.route.totalAmtMsat - 50_000_000)
        XCTAssertEqual(settled.route.hops.last?.customRecords[5_482_373_484], preimage)
        // The run removes its intent just after the terminal commit: poll briefly for it.
        let intents = try SQLiteIntentStore(path: dir + "/intents.sqlite")
        let deadline = Date().addingTimeInterval(5)
        while try intents.intent(for: hash) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertNil(try intents.intent(for: hash), "intent removed once finished")
    }

    func testDuplicateInitiateIsRefusedWithLNDsError() throws {
        let network = SimulatedNetwork.makeDefault()
        let (control, store) = try engine()
        defer { store.close() }
        let router = ChannelRouter(source: network.nodeID(alias: "alice")!, network: network, control: control,
                                   intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
        let i = intent(to: network.nodeID(alias: "bob")!, preimage: SecureRandom.bytes(32))
        _ = try router.initiate(i)
        XCTAssertThrowsError(try router.initiate(i)) { XCTAssertEqual("\($0)", "payment already exists") }
    }

    func testUnknownDestinationFailsWithNoRoute() throws {
        let network = SimulatedNetwork.makeDefault()
        let (control, store) = try engine()
        defer { store.close() }
        let router = ChannelRouter(source: network.nodeID(alias: "alice")!, network: network, control: control,
                                   intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
        let stranger = NodeID(bytes: PrivateKey.generate().publicKey.compressed)!
        let i = intent(to: stranger, preimage: SecureRandom.bytes(32))
        let hash = try router.initiate(i)
        router.launch(i)
        let s = try waitTerminal(control, hash)
        XCTAssertEqual(s.status, .failed)
        XCTAssertEqual(s.failureReason, .noRoute)
        XCTAssertTrue(s.attempts.isEmpty)
    }

    func testTimeoutStopsNewAttemptsButWaitsForTheOneInFlight() throws {
        let network = SimulatedNetwork.makeDefault()
        let alice = network.nodeID(alias: "alice")!, bob = network.nodeID(alias: "bob")!
        // The payee answers after 1.5 s and does not know the hash: the attempt fails after the
        // 1 s timeout passed, so no retry may follow.
        network.setPayeeHandler(Payee(preimages: [], delayNs: 1_500_000_000), for: bob)
        let (control, store) = try engine()
        defer { store.close() }
        let router = ChannelRouter(source: alice, network: network, control: control,
                                   intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
        let i = intent(to: bob, preimage: SecureRandom.bytes(32), timeout: 1)
        let hash = try router.initiate(i)
        router.launch(i)
        Thread.sleep(forTimeInterval: 1.2)
        let during = try XCTUnwrap(control.fetchPayment(hash))
        XCTAssertEqual(during.failureReason, .timeout, "the reason is recorded at the deadline")
        XCTAssertEqual(during.status, .inFlight, "but the payment stays in flight while its HTLC is out")
        let s = try waitTerminal(control, hash)
        XCTAssertEqual(s.status, .failed)
        XCTAssertEqual(s.failureReason, .timeout)
        XCTAssertEqual(s.attempts.count, 1)
    }

    func testResumeAfterRestartFailsLostAttemptsAndFinishesThePayment() throws {
        let network = SimulatedNetwork.makeDefault()
        let alice = network.nodeID(alias: "alice")!, bob = network.nodeID(alias: "bob")!
        let preimage = SecureRandom.bytes(32)
        network.setPayeeHandler(Payee(preimages: [preimage]), for: bob)
        let i = intent(to: bob, preimage: preimage)
        let hash: PaymentHash
        do {
            // "Before the crash": initiated, intent recorded, one attempt registered whose HTLC
            // then died with the process.
            let (control, store) = try engine()
            let router = ChannelRouter(source: alice, network: network, control: control,
                                       intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
            hash = try router.initiate(i)
            let route = Payments.Route(totalTimeLock: 800_100, totalAmtMsat: 50_001_000,
                                       hops: [Payments.Hop(chanID: 1, pubKey: bob.bytes, amtToForwardMsat: 50_000_000, expiry: 800_040)])
            _ = try control.registerAttempt(hash, HTLCAttemptInfo(attemptID: 1, route: route, attemptTimeNs: 1))
            store.close()
        }
        let (control, store) = try engine()
        defer { store.close() }
        XCTAssertEqual(try control.inFlightPayments().map(\.paymentHash), [hash])
        let router = ChannelRouter(source: alice, network: network, control: control,
                                   intents: try SQLiteIntentStore(path: dir + "/intents.sqlite"))
        try router.resumePayments()
        let s = try waitTerminal(control, hash)
        XCTAssertEqual(s.status, .succeeded)
        XCTAssertEqual(s.attempts.first?.failure?.code, .unknownFailure, "the lost attempt fails as LND's stale attempts do")
        XCTAssertEqual(s.attempts.filter { $0.settle != nil }.count, 1)
    }
}
