import Crypto
import Routing
import Simnet
import XCTest

/// Payments driven the way the lead's lifecycle will: PaymentSession plans, Simnet forwards,
/// outcomes go back to the session (and so to mission control).
final class EndToEndTests: XCTestCase {
    struct Outcome { var step: PaymentSession.Step; var attempts: Int; var settled: [SourceRoute] }

    /// A minimal lifecycle loop: send planned shards concurrently and handle each result as it
    /// arrives (MPP parts are held by the payee until the set is complete, so a loop that
    /// waited for a whole batch would deadlock).
    func pay(_ net: SimulatedNetwork, router: Router, session: inout PaymentSession, hash: [UInt8],
             from source: NodeID) async -> Outcome {
        var attempts = 0
        var settled: [SourceRoute] = []
        var s = session
        let final: PaymentSession.Step = await withTaskGroup(of: (UInt64, HTLCResult).self) { group in
            var pending = 0
            while true {
                let step = s.nextStep(router: router, currentHeight: net.blockHeight,
                                      localBandwidthMsat: net.localBandwidth(of: source))
                switch step {
                case .send(let shards):
                    attempts += shards.count
                    for shard in shards {
                        let route = shard.route, id = shard.id
                        group.addTask { (id, await net.send(route: route, paymentHash: hash)) }
                    }
                    pending += shards.count
                    continue
                case .succeeded, .failed:
                    return step
                case .wait:
                    break
                }
                guard pending > 0, let (id, result) = await group.next() else { return step }
                pending -= 1
                switch result {
                case .settled:
                    settled.append(s.inFlight[id]!)
                    s.shardSucceeded(id, router: router)
                case .failed(let f):
                    s.shardFailed(id, failure: f, router: router)
                }
            }
        }
        session = s
        return Outcome(step: final, attempts: attempts, settled: settled)
    }

    func testLargePaymentSplitsAcrossPathsAndSettles() async throws {
        let net = SimulatedNetwork.makeDefault()
        let payee = TestPayee()
        let alice = net.nodeID(alias: "alice")!, bob = net.nodeID(alias: "bob")!
        net.setPayeeHandler(payee, for: bob)
        let preimage = [UInt8](repeating: 7, count: 32)
        let amount: UInt64 = 4_000_000_000  // 4M sat: more than any single path carries
        let hash = await payee.addInvoice(preimage: preimage, amountMsat: amount)
        let router = Router(graph: net.publicGraph(), missionControl: MissionControl(clock: { 0 }))
        let aliceBefore = net.channels(of: alice).reduce(0) { $0 + $1.localBalanceMsat }
        let bobBefore = net.channels(of: bob).reduce(0) { $0 + $1.localBalanceMsat }
        var r = RouteRequest(source: alice, target: bob, amountMsat: amount, currentHeight: net.blockHeight)
        r.mppRecord = PaymentData(paymentAddr: [UInt8](repeating: 3, count: 32), totalAmountMsat: amount)
        var session = PaymentSession(request: r, maxParts: 16)
        let outcome = await pay(net, router: router, session: &session, hash: hash, from: alice)
        XCTAssertEqual(outcome.step, .succeeded)
        XCTAssertGreaterThan(outcome.settled.count, 1)
        XCTAssertEqual(outcome.settled.reduce(0) { $0 + $1.receiverAmountMsat }, amount)
        let fees = outcome.settled.reduce(0) { $0 + $1.totalFeesMsat }
        let aliceAfter = net.channels(of: alice).reduce(0) { $0 + $1.localBalanceMsat }
        let bobAfter = net.channels(of: bob).reduce(0) { $0 + $1.localBalanceMsat }
        XCTAssertEqual(aliceBefore - aliceAfter, amount + fees)
        XCTAssertEqual(bobAfter - bobBefore, amount)
        for alias in DefaultTopology.aliases {
            XCTAssertTrue(net.channels(of: net.nodeID(alias: alias)!).allSatisfy { $0.localLockedMsat == 0 })
        }
    }

    func testPrivateNodeNeedsRouteHint() async throws {
        let net = SimulatedNetwork.makeDefault()
        let payee = TestPayee()
        let alice = net.nodeID(alias: "alice")!, mallory = net.nodeID(alias: "mallory")!
        net.setPayeeHandler(payee, for: mallory)
        let preimage = [UInt8](repeating: 8, count: 32)
        let hash = await payee.addInvoice(preimage: preimage, amountMsat: 50_000_000)
        let router = Router(graph: net.publicGraph())
        var r = RouteRequest(source: alice, target: mallory, amountMsat: 50_000_000, currentHeight: net.blockHeight)
        XCTAssertThrowsError(try router.findRoute(r)) { XCTAssertEqual($0 as? NoRouteReason, .targetUnknown) }
        r.routeHints = net.routeHints(for: mallory)
        var session = PaymentSession(request: r)
        let outcome = await pay(net, router: router, session: &session, hash: hash, from: alice)
        XCTAssertEqual(outcome.step, .succeeded)
        XCTAssertEqual(outcome.settled.first?.hops.last?.pubKey, mallory)
        XCTAssertEqual(outcome.settled.first?.hops.dropLast().last?.pubKey, net.nodeID(alias: "judy"))
    }

    func testRetriesAroundOfflineNodeAndLearns() async throws {
        let net = SimulatedNetwork.makeDefault()
        let payee = TestPayee()
        let alice = net.nodeID(alias: "alice")!, bob = net.nodeID(alias: "bob")!
        net.setPayeeHandler(payee, for: bob)
        let hash = await payee.addInvoice(preimage: [UInt8](repeating: 9, count: 32), amountMsat: 20_000_000)
        let router = Router(graph: net.publicGraph(), missionControl: MissionControl(clock: { 0 }))
        let r = RouteRequest(source: alice, target: bob, amountMsat: 20_000_000, currentHeight: net.blockHeight)
        // Take whichever node the first route uses after alice offline: the payment must go around it.
        let first = try router.findRoute(r)
        let relay = first.hops[first.hops.count - 2].pubKey
        net.setOnline(relay, false)
        // The router still believes the graph; its channels to the relay stay in the bandwidth
        // hints only if the relay is alice's peer, so drive it through the session.
        var session = PaymentSession(request: r)
        let outcome = await pay(net, router: router, session: &session, hash: hash, from: alice)
        XCTAssertEqual(outcome.step, .succeeded)
        XCTAssertGreaterThanOrEqual(outcome.attempts, 1)
        XCTAssertFalse(outcome.settled[0].hops.contains { $0.pubKey == relay })
    }

    func testUnknownPaymentHashIsTerminal() async throws {
        let net = SimulatedNetwork.makeDefault()
        let alice = net.nodeID(alias: "alice")!, bob = net.nodeID(alias: "bob")!
        net.setPayeeHandler(TestPayee(), for: bob)
        let router = Router(graph: net.publicGraph())
        var session = PaymentSession(request: RouteRequest(source: alice, target: bob, amountMsat: 1_000_000,
                                                           currentHeight: net.blockHeight))
        let outcome = await pay(net, router: router, session: &session, hash: [UInt8](repeating: 0, count: 32), from: alice)
        XCTAssertEqual(outcome.step, .failed(.payee(.incorrectPaymentDetails)))
        XCTAssertEqual(outcome.attempts, 1)
    }

    func testInsufficientBalance() async throws {
        let net = SimulatedNetwork.makeDefault()
        let alice = net.nodeID(alias: "alice")!, bob = net.nodeID(alias: "bob")!
        let router = Router(graph: net.publicGraph())
        var session = PaymentSession(request: RouteRequest(source: alice, target: bob, amountMsat: 7_000_000_000,
                                                           currentHeight: net.blockHeight))
        let outcome = await pay(net, router: router, session: &session, hash: [UInt8](repeating: 0, count: 32), from: alice)
        guard case .failed(.noRoute(let reason)) = outcome.step else { return XCTFail("\(outcome.step)") }
        XCTAssertEqual(reason, .insufficientLocalBalance(availableMsat: 6_300_000_000, requiredMsat: 7_000_000_000))
        XCTAssertEqual(reason.lndFailureReason, .insufficientBalance)
    }
}
