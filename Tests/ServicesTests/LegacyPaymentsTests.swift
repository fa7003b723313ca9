import XCTest
import BOLT11
import Crypto
import LightningRPC
import Payments
import PaymentStore
import Routing
import RPCCore
@testable import Services

/// LND v0.20's legacy payment semantics without a socket: SendRequest → intent (defaults, texts),
/// the v1 PaymentStatus conversion, route unmarshalling, and the forwarding-error texts.
final class LegacyPaymentsTests: XCTestCase {
    let me = PrivateKey.generate()
    let payee = PrivateKey.generate()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    var parser: LegacySendRequestParser {
        LegacySendRequestParser(v2: SendPaymentRequestParser(selfNode: NodeID(bytes: me.publicKey.compressed)!,
                                                             currency: .bitcoinTestnet, maxCLTVExpiry: 2016, now: { [now] in now }))
    }

    func invoice(amountMsat: UInt64?) throws -> String {
        let fields: [TaggedField] = [.paymentHash([UInt8](repeating: 1, count: 32)), .description("x"), .expiry(3600),
                                     .minFinalCLTVExpiry(40), .paymentSecret([UInt8](repeating: 7, count: 32)),
                                     .features(FeatureVector(bits: [8, 14, 17]))]
        return try UnsignedBolt11Invoice(currency: .bitcoinTestnet, amountMsat: amountMsat,
                                         timestamp: UInt64(now.timeIntervalSince1970) - 10, fields: fields).sign(with: payee).paymentRequest
    }

    func error(_ r: Lnrpc.SendRequest) -> String? {
        do { _ = try parser.parse(r); return nil } catch { return error.description }
    }

    func testInvoiceIntentTakesV020Defaults() throws {
        var r = Lnrpc.SendRequest()
        r.paymentRequest = try invoice(amountMsat: 5_000_000)
        r.amt = 99   // silently ignored when the invoice has an amount (v0.20)
        let intent = try parser.parse(r)
        XCTAssertEqual(intent.amountMsat, 5_000_000)
        XCTAssertEqual(intent.maxParts, 1, "no MPP on the legacy calls")
        XCTAssertEqual(intent.timeoutSeconds, 60)
        XCTAssertEqual(intent.feeLimitMsat, 250_000, "unset fee limit: 5% above 1,000 sat")
        XCTAssertEqual(intent.finalCLTVDelta, 40)
        XCTAssertEqual(intent.paymentAddr, [UInt8](repeating: 7, count: 32))
        r.feeLimit = { var l = Lnrpc.FeeLimit(); l.fixed = 3; return l }()
        XCTAssertEqual(try parser.parse(r).feeLimitMsat, 3000)
        r.feeLimit = { var l = Lnrpc.FeeLimit(); l.percent = 10; return l }()
        XCTAssertEqual(try parser.parse(r).feeLimitMsat, 500_000)
        r.outgoingChanId = 77
        XCTAssertEqual(try parser.parse(r).outgoingChanIDs, [77])
        XCTAssertEqual(LegacySendRequestParser.feeLimitMsat(nil, amountMsat: 1_000_000), 1_000_000, "100% up to 1,000 sat")
    }

    func testManualPaymentHexTwinsAndTexts() throws {
        var r = Lnrpc.SendRequest()
        r.destString = Hex.encode(payee.publicKey.compressed)
        r.amt = 10
        r.paymentHashString = String(repeating: "ab", count: 32)
        r.paymentHash = [1, 2, 3]   // the string wins
        let intent = try parser.parse(r)
        XCTAssertEqual(intent.paymentHash, [UInt8](repeating: 0xab, count: 32))
        XCTAssertEqual(intent.finalCLTVDelta, 80, "--bitcoin.timelockdelta")
        r.paymentHashString = ""
        XCTAssertEqual(try parser.parse(r).paymentHash, [1, 2, 3] + [UInt8](repeating: 0, count: 29), "zero-padded, no length check")
        var bad = r
        bad.destString = "0g"
        XCTAssertEqual(error(bad), "encoding/hex: invalid byte: U+0067 'g'")
        bad = r
        bad.dest = [2, 3]
        XCTAssertEqual(error(bad), "invalid key length")
        bad = r
        bad.destString = Hex.encode(me.publicKey.compressed)
        XCTAssertEqual(error(bad), "self-payments not allowed")
        bad = r
        bad.cltvLimit = 3000
        XCTAssertEqual(error(bad), "total time lock of 3000 exceeds max allowed 2016")
        bad = r
        bad.cltvLimit = 50
        XCTAssertEqual(error(bad), "cltv limit 50 should be greater than 83")
        bad = r
        bad.destCustomRecords = [5: [1]]
        XCTAssertEqual(error(bad), "no custom records with types below 65536 allowed")
        bad = r
        bad.lastHopPubkey = [1]
        XCTAssertEqual(error(bad), "invalid vertex length of 1, want 33")
        var zero = Lnrpc.SendRequest()
        zero.paymentRequest = try invoice(amountMsat: nil)
        XCTAssertEqual(error(zero), "amount must be specified when paying a zero amount invoice")
    }

    func snapshot(status attempts: [HTLCAttempt], reason: FailureReason?) -> PaymentSnapshot {
        PaymentSnapshot(info: PaymentCreationInfo(paymentIdentifier: PaymentHash([UInt8](repeating: 4, count: 32))!, valueMsat: 1000,
                                                  creationTimeNs: 1),
                        paymentIndex: 1, attempts: attempts, failureReason: reason, lastUpdateNs: 2)
    }

    func tower() throws -> ControlTower {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-legacy-\(UUID().uuidString).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return ControlTower(store: try SQLitePaymentStore(path: path))
    }

    func testV1PaymentStatusConversion() throws {
        let service = LegacyRouterPayments(tower: try tower(), marshaller: PaymentMarshaller(useStatusInitiated: false),
                                           work: BlockingWork(), sender: NoSender())
        guard case .status(let initiated) = service.convert(snapshot(status: [], reason: nil)) else { return XCTFail() }
        XCTAssertEqual(initiated.state, .inFlight)
        XCTAssertEqual(initiated.preimage, [UInt8](repeating: 0, count: 32))
        let expect: [(FailureReason, Routerrpc.PaymentState)] = [
            (.timeout, .failedTimeout), (.noRoute, .failedNoRoute), (.error, .failedError),
            (.incorrectPaymentDetails, .failedIncorrectPaymentDetails), (.insufficientBalance, .failedInsufficientBalance)]
        for (reason, state) in expect {
            guard case .status(let s) = service.convert(snapshot(status: [], reason: reason)) else { return XCTFail("\(reason)") }
            XCTAssertEqual(s.state, state)
        }
        XCTAssertEqual(service.convert(snapshot(status: [], reason: .canceled)), .error("unknown failure reason FAILURE_REASON_CANCELED"))
        let strict = LegacyRouterPayments(tower: try tower(), marshaller: PaymentMarshaller(useStatusInitiated: true),
                                          work: BlockingWork(), sender: NoSender())
        XCTAssertEqual(strict.convert(snapshot(status: [], reason: nil)), .error("unknown state INITIATED"))
    }

    func testForwardingErrorTexts() {
        var f = Payments.HTLCFailInfo(failTimeNs: 1, reason: .message,
                                     message: Payments.StoredFailureMessage(code: .incorrectOrUnknownPaymentDetails, channelUpdate: nil,
                                                                      htlcMsat: 1000, cltvExpiry: 0, flags: 0, height: 800_000),
                                     failureSourceIndex: 2)
        XCTAssertEqual(LightningRoutes.forwardingError(f), "IncorrectOrUnknownPaymentDetails(amt=1000 mSAT, height=800000)@2")
        f.message?.code = .temporaryChannelFailure
        f.failureSourceIndex = 1
        XCTAssertEqual(LightningRoutes.forwardingError(f), "TemporaryChannelFailure@1")
        f.message?.code = .mppTimeout
        XCTAssertEqual(LightningRoutes.forwardingError(f), "MPPTimeout@1")
        f.message = nil
        XCTAssertEqual(LightningRoutes.forwardingError(f), "unreadable failure message")
        XCTAssertEqual(LegacyLightningPayments.reasonText(.noRoute), "no_route")
        XCTAssertEqual(LegacyLightningPayments.reasonText(.incorrectPaymentDetails), "incorrect_payment_details")
    }

    func testRouteUnmarshalling() throws {
        let a = NodeID(bytes: me.publicKey.compressed)!, b = NodeID(bytes: payee.publicKey.compressed)!
        var graph = ChannelGraph()
        graph.addNode(a)
        graph.addNode(b)
        try graph.addChannel(ChannelEdge(shortChannelID: ShortChannelID(rawValue: 9), between: a, and: b, capacitySat: 100_000,
                                             policyAToB: RoutingPolicy(), policyBToA: RoutingPolicy()))
        let u = RouteUnmarshaller(source: a, graph: graph)
        var hop = Lnrpc.Hop()
        hop.chanId = 9
        hop.amtToForwardMsat = 5000
        hop.expiry = 900
        var route = Lnrpc.Route()
        route.hops = [hop]
        route.totalAmtMsat = 5000
        route.totalTimeLock = 900
        let r = try u.route(route)
        XCTAssertEqual(r.hops.first?.pubKey, b, "pub_key resolved from the channel")
        XCTAssertEqual(r.totalAmountMsat, 5000)
        func text(_ rt: Lnrpc.Route) -> String? { do { _ = try u.route(rt); return nil } catch { return error.description } }
        XCTAssertEqual(text(Lnrpc.Route()), "empty route hops provided")
        var bad = route
        bad.hops[0].pubKey = "xyz"
        XCTAssertEqual(text(bad), "cannot decode pubkey xyz")
        bad = route
        bad.hops[0].mppRecord = Lnrpc.MPPRecord()
        XCTAssertEqual(text(bad), "missing total_msat and payment_addr")
        bad.hops[0].mppRecord?.paymentAddr = [1]
        bad.hops[0].mppRecord?.totalAmtMsat = 5
        XCTAssertEqual(text(bad), "unable to parse payment_addr: invalid hash length of 1, want 32")
        bad = route
        bad.hops[0].customRecords = [1: [0]]
        XCTAssertEqual(text(bad), "no custom records with types below 65536 allowed")
        bad = route
        bad.hops = [hop, hop]
        bad.hops[0].totalAmtMsat = 1
        XCTAssertEqual(text(bad), "blinded total amount can only be provided for the final hop")
        bad = route
        bad.hops[0].chanId = 10
        XCTAssertEqual(text(bad), "edge not found")
    }
}

struct NoSender: PaymentSending {
    func prepare(_ request: Routerrpc.SendPaymentRequest, context: ServerCallContext) throws -> PreparedPayment {
        throw GRPCStatus(.unimplemented, "no sender")
    }
}
