import BOLT11
import Crypto
import JSON
import Payments
import Simnet
import XCTest
@testable import KomodoRPC
@testable import Node

/// The four methods against a real node: invoices in the registry, payments in the engine.
final class LightningPaymentsTests: XCTestCase {
    let gi = "lightning::payments::generate_invoice", sp = "lightning::payments::send_payment"
    let gpd = "lightning::payments::get_payment_details", lp = "lightning::payments::list_payments_by_filter"

    func testGenerateInvoiceIsKDFsLayoutAndTheNodesInvoice() throws {
        let n = try KDFTestNode()
        let (status, v, _) = n.call(gi, #"{"coin":"tBTC-lightning","description":"For the burger on Tuesday","amount_in_msat":10000,"expiry":600}"#)
        XCTAssertEqual(status, 200)
        guard case .object(let result)? = v["result"] else { return XCTFail("\(v)") }
        XCTAssertEqual(result.map(\.key), ["payment_hash", "invoice"])
        let text = try XCTUnwrap(v["result"]?["invoice"]?.string)
        XCTAssertTrue(text.hasPrefix("lntb100n1"), text)
        let inv = try Bolt11Invoice.decode(text)
        XCTAssertEqual(inv.fields.map(\.tag), ["d", "n", "p", "s", "9", "c", "x"])
        XCTAssertEqual(inv.features, FeatureVector(bits: [8, 14, 17]))
        XCTAssertEqual(inv.minFinalCLTVExpiry, 24)
        XCTAssertEqual(inv.expiry, 600)
        XCTAssertEqual(inv.payee.compressed, n.node.nodeID.bytes)
        XCTAssertEqual(Hex.encode(inv.paymentHash), v["result"]?["payment_hash"]?.string)
        // The node's own invoice: LND's LookupInvoice finds it.
        let stored = try n.node.invoices.lookupInvoice(rHash: inv.paymentHash)
        XCTAssertEqual(stored.paymentRequest, text)
        XCTAssertEqual(stored.memo, "For the burger on Tuesday")
        // A Pending inbound record at once, in KDF's key order.
        let d = n.call(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(Hex.encode(inv.paymentHash))"}"#)
        guard case .object(let details)? = d.1["result"]?["payment_details"] else { return XCTFail(d.2) }
        XCTAssertEqual(details.map(\.key), ["payment_hash", "payment_type", "description", "amount_in_msat", "status", "created_at", "last_updated"])
        XCTAssertEqual(details[1].value, .object([JSONMember("type", .string("Inbound Payment"))]))
        XCTAssertEqual(d.1["result"]?["payment_details"]?["status"], .string("pending"))
    }

    func testGenerateInvoiceDefaultsAndErrors() throws {
        let n = try KDFTestNode()
        let any = n.call(gi, #"{"coin":"tBTC-lightning","description":"any"}"#)
        let inv = try Bolt11Invoice.decode(try XCTUnwrap(any.1["result"]?["invoice"]?.string))
        XCTAssertNil(inv.amountMsat)
        XCTAssertEqual(inv.expiry, 3600)
        XCTAssertTrue(inv.hasExplicitExpiry)
        let hash = Hex.encode(inv.paymentHash)
        let d = n.call(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(hash)"}"#).2
        XCTAssertFalse(d.contains("amount_in_msat"), d)
        XCTAssertFalse(d.contains("preimage"), d)
        let long = String(repeating: "é", count: 320)  // 640 bytes
        let (status, v, _) = n.call(gi, #"{"coin":"tBTC-lightning","description":"\#(long)"}"#)
        XCTAssertEqual(status, 500)
        XCTAssertEqual(v["error_type"], .string("SignOrCreationError"))
        XCTAssertEqual(v["error"], .string("Invoice signing or creation error: The supplied description string was longer than 639 bytes"))
        let big = n.call(gi, #"{"coin":"tBTC-lightning","description":"x","amount_in_msat":2100000000000000001}"#)
        XCTAssertEqual(big.1["error_data"], .string("The supplied millisatoshi amount was greater than the total bitcoin supply"))
    }

    func testSendPaymentRoutingErrorsAreLDKsAndNothingIsStored() throws {
        let n = try KDFTestNode()
        let own = try XCTUnwrap(n.call(gi, #"{"coin":"tBTC-lightning","description":"self","amount_in_msat":1000}"#).1["result"]?["invoice"]?.string)
        let (status, v, _) = n.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"invoice","invoice":"\#(own)"}}"#)
        XCTAssertEqual(status, 500)
        XCTAssertEqual(v["error"], .string(#"Payment error: Error paying invoice: Routing(LightningError { err: "Cannot generate a route to ourselves", action: IgnoreError })"#))
        XCTAssertEqual(v["error_path"], .string("send_payment.lightning"))
        XCTAssertEqual(v["error_type"], .string("PaymentError"))
        let zero = n.call(gi, #"{"coin":"tBTC-lightning","description":"zero"}"#).1["result"]?["invoice"]?.string ?? ""
        XCTAssertEqual(n.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"invoice","invoice":"\#(zero)"}}"#).1["error_data"],
                       .string(#"Error paying invoice: Invoice("amount missing")"#))
        let low = n.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","destination":"\#(n.node.nodeID.hex)","amount_in_msat":1000,"expiry":10}}"#)
        XCTAssertEqual(low.1["error_data"], .string("Final cltv expiry delta 10 is below the required minimum of 24"))
        let far = n.network.nodeID(alias: "bob")!.hex
        let high = n.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","destination":"\#(far)","amount_in_msat":1000,"expiry":1008}}"#)
        XCTAssertEqual(high.1["error_data"], .string(#"Keysend error: Routing(LightningError { err: "Can't find a route where the maximum total CLTV expiry delta is below the final CLTV expiry.", action: IgnoreError })"#))
        let none = n.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","destination":"\#(far)","amount_in_msat":0,"expiry":24}}"#)
        XCTAssertEqual(none.1["error_data"], .string(#"Keysend error: Routing(LightningError { err: "Cannot send a payment of 0 msat", action: IgnoreError })"#))
        // Only the two generated invoices are recorded.
        XCTAssertEqual(n.call(lp, #"{"coin":"tBTC-lightning"}"#).1["result"]?["total"], .integer(2))
    }

    func testPaymentOverMMRPCIsAnEnginePaymentAndRecordsFollow() throws {
        let network = SimulatedNetwork.makeDefault()
        let alice = try KDFTestNode(name: "alice", network: network)
        let bob = try KDFTestNode(name: "bob", network: network)
        let invoice = try XCTUnwrap(bob.call(gi, #"{"coin":"tBTC-lightning","description":"1 Blokaccino","amount_in_msat":1000000}"#)
            .1["result"]?["invoice"]?.string)
        let (status, v, text) = alice.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"invoice","invoice":"\#(invoice)"}}"#, id: 6)
        XCTAssertEqual(status, 200, text)
        guard case .object(let result)? = v["result"] else { return XCTFail(text) }
        XCTAssertEqual(result.map(\.key), ["payment_hash"])
        let hash = try XCTUnwrap(result[0].value.string)
        let details = "{\"coin\":\"tBTC-lightning\",\"payment_hash\":\"\(hash)\"}"
        eventually("outbound succeeded") { alice.call(gpd, details).1["result"]?["payment_details"]?["status"] == .string("succeeded") }
        eventually("inbound succeeded") { bob.call(gpd, details).1["result"]?["payment_details"]?["status"] == .string("succeeded") }
        let out = try XCTUnwrap(alice.call(gpd, details).1["result"]?["payment_details"])
        XCTAssertEqual(out["payment_type"], .object([JSONMember("type", .string("Outbound Payment")),
                                                     JSONMember("destination", .string(bob.node.nodeID.hex))]))
        XCTAssertEqual(out["description"], .string("1 Blokaccino"))
        XCTAssertEqual(out["amount_in_msat"], .integer(1_000_000))
        // The engine has it (what TrackPaymentV2/ListPayments read), with the same fee.
        let snapshot = try XCTUnwrap(try alice.node.tower.fetchPayment(PaymentHash(Hex.decode(hash)!)!))
        XCTAssertEqual(snapshot.status, .succeeded)
        XCTAssertEqual(out["fee_paid_msat"], .integer(snapshot.feesMsat))
        XCTAssertEqual(String(decoding: snapshot.info.paymentRequest, as: UTF8.self), invoice)
        // Paying it again: already paid.
        let again = alice.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"invoice","invoice":"\#(invoice)"}}"#)
        XCTAssertEqual(again.1["error_data"], .string("Error paying invoice: Invoice with payment hash \(hash) is already paid!"))
        // Keysend: outbound "" on alice, inbound "keysend" on bob.
        let ks = alice.call(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","destination":"\#(bob.node.nodeID.hex)","amount_in_msat":1000,"expiry":24}}"#)
        let ksHash = try XCTUnwrap(ks.1["result"]?["payment_hash"]?.string, ks.2)
        let ksDetails = "{\"coin\":\"tBTC-lightning\",\"payment_hash\":\"\(ksHash)\"}"
        eventually("keysend succeeded") { alice.call(gpd, ksDetails).1["result"]?["payment_details"]?["status"] == .string("succeeded") }
        eventually("keysend received") { bob.call(gpd, ksDetails).1["result"]?["payment_details"]?["status"] == .string("succeeded") }
        XCTAssertEqual(alice.call(gpd, ksDetails).1["result"]?["payment_details"]?["description"], .string(""))
        XCTAssertEqual(bob.call(gpd, ksDetails).1["result"]?["payment_details"]?["description"], .string("keysend"))
    }

    /// BOLT 11's example payee key.
    static let peer = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"

    func record(_ i: Int, outbound: Bool, status: KDFPaymentRecord.Status, amount: UInt64?, fee: UInt64? = nil,
                description: String, created: Int64, updated: Int64) -> KDFPaymentRecord {
        KDFPaymentRecord(paymentHash: String(format: "%064x", i), direction: outbound ? .outbound(destination: Self.peer) : .inbound,
                         description: description, amountMsat: amount, feePaidMsat: fee, status: status, createdAt: created, lastUpdated: updated)
    }

    func testListFiltersPagingAndTotals() throws {
        let n = try KDFTestNode()
        let store = n.kdf.lightning.store
        try store.insertBatch([
            record(1, outbound: false, status: .pending, amount: 10000, description: "For the burger on Tuesday", created: 1683916900, updated: 1683916900),
            record(2, outbound: false, status: .succeeded, amount: 56005000, description: "14 pallets of frozen spinach", created: 1683815625, updated: 1683815721),
            record(3, outbound: true, status: .succeeded, amount: 88000, fee: 12, description: "A 1:24 scale model of a 1981 DeLorean DMC-12", created: 1683815625, updated: 1683815721),
            record(4, outbound: true, status: .succeeded, amount: 1000000000, fee: 1803, description: "Grays Sports Almanac, 1950-2000", created: 1681998480, updated: 1682008491),
            record(5, outbound: false, status: .pending, amount: nil, description: "100% BURGER_x", created: 1683900000, updated: 1683900001),
            record(6, outbound: false, status: .claimable, amount: 40000, description: "keysend", created: 1683000000, updated: 1683000000),
            record(7, outbound: false, status: .failed, amount: 40001, description: "x", created: 1683000000, updated: 1683000002),
        ])
        func list(_ params: String) -> JSONValue { n.call(lp, #"{"coin":"tBTC-lightning",\#(params)}"#).1["result"] ?? .null }
        func hashes(_ v: JSONValue) -> [String] {
            guard case .array(let a)? = v["payments"] else { return [] }
            return a.compactMap { $0["payment_hash"]?.string.map { String($0.suffix(1)) } }
        }
        var r = list(#""limit":10"#)
        XCTAssertEqual(hashes(r), ["1", "5", "3", "2", "7", "6", "4"])   // newest last_updated first, then newest row
        XCTAssertEqual(r["total"], .integer(7))
        r = list(#""filter":{"payment_type":{"type":"Inbound Payment"}},"limit":2,"paging_options":{"PageNumber":2}"#)
        XCTAssertEqual(hashes(r), ["2", "7"])
        XCTAssertEqual(r["skipped"], .integer(2))
        XCTAssertEqual(r["total"], .integer(5))
        XCTAssertEqual(r["total_pages"], .integer(3))
        XCTAssertEqual(r["paging_options"], .object([JSONMember("PageNumber", .integer(2))]))
        r = list(#""filter":{"status":"pending","from_amount_msat":10000,"to_amount_msat":40000}"#)
        XCTAssertEqual(hashes(r), ["1"])   // inclusive; the amount-less row drops out
        XCTAssertEqual(r["skipped"], .integer(0))
        XCTAssertEqual(r["total"], .integer(1))
        r = list(#""filter":{"status":"succeeded","from_timestamp":1681948800,"to_timestamp":1682035199}"#)
        XCTAssertEqual(hashes(r), ["4"])
        r = list(#""filter":{"description":"burger"}"#)   // case-insensitive substring
        XCTAssertEqual(hashes(r), ["1", "5"])
        r = list(#""filter":{"description":"100%"}"#)   // % is literal, not a wildcard
        XCTAssertEqual(hashes(r), ["5"])
        r = list(#""filter":{"description":"r_x"}"#)   // _ is literal
        XCTAssertEqual(hashes(r), ["5"])
        r = list(#""filter":{"description":"'; DROP TABLE kdf_payments; --"}"#)
        XCTAssertEqual(hashes(r), [])
        r = list(#""filter":{"from_fee_paid_msat":13,"to_fee_paid_msat":1803}"#)
        XCTAssertEqual(hashes(r), ["4"])
        r = list(#""filter":{"payment_type":{"type":"Outbound Payment","destination":"\#(Self.peer)"}}"#)
        XCTAssertEqual(hashes(r), ["3", "4"])
        r = list(#""limit":0"#)
        XCTAssertEqual(hashes(r), [])
        XCTAssertEqual(r["total_pages"], .integer(0))
        XCTAssertEqual(r["total"], .integer(7))
        let from = String(format: "%064x", 2)
        r = list(#""limit":2,"paging_options":{"FromId":"\#(from)"}"#)
        XCTAssertEqual(hashes(r), ["7", "6"])
        XCTAssertEqual(r["skipped"], .integer(4))
        r = list(#""paging_options":{"FromId":"\#(String(repeating: "f", count: 64))"}"#)
        XCTAssertEqual(hashes(r), [])
        XCTAssertEqual(r["skipped"], .integer(0))
        XCTAssertEqual(r["total"], .integer(7))
        XCTAssertEqual(n.call(lp, #"{"coin":"tBTC-lightning"}"#).1["result"]?["limit"], .integer(10))
    }

    /// What the listener may answer on its event loop: get_payment_details (one read on the
    /// store's own read connection, which sees what the writer committed just before) and every
    /// error before a method runs; the other methods and batches come back as work for the pool,
    /// and finishing that work gives what `handle` gives.
    func testGetPaymentDetailsIsAnsweredInlineOtherMethodsAreWork() throws {
        let n = try KDFTestNode()
        XCTAssertTrue(n.kdf.lightning.store.hasReadConnection)
        func route(_ method: String, _ params: String, password: String = KDFTestNode.password) -> MMRPCRouting {
            n.kdf.dispatcher.route(MMRPCHTTPRequest(method: "POST", body: Array(
                "{\"userpass\":\"\(password)\",\"mmrpc\":\"2.0\",\"method\":\"\(method)\",\"params\":\(params),\"id\":3}".utf8),
                peerIP: "127.0.0.1"))
        }
        func answered(_ r: MMRPCRouting, file: StaticString = #filePath, line: UInt = #line) -> MMRPCHTTPResponse? {
            guard case .answered(let response) = r else { XCTFail("not answered at once", file: file, line: line); return nil }
            return response
        }
        guard case .blocking(let makeInvoice) = route(gi, #"{"coin":"tBTC-lightning","description":"inline","amount_in_msat":1000}"#) else {
            return XCTFail("generate_invoice writes: it must be pool work")
        }
        let made = try JSONParser().parse(makeInvoice().body)
        let hash = try XCTUnwrap(made["result"]?["payment_hash"]?.string)
        let details = try XCTUnwrap(answered(route(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(hash)"}"#)))
        XCTAssertEqual(details.status, 200, details.bodyText)
        XCTAssertEqual(try JSONParser().parse(details.body)["result"]?["payment_details"]?["description"]?.string, "inline")
        XCTAssertEqual(details, n.kdf.dispatcher.handle(MMRPCHTTPRequest(method: "POST", body: Array(
            "{\"userpass\":\"\(KDFTestNode.password)\",\"mmrpc\":\"2.0\",\"method\":\"\(gpd)\",\"params\":{\"coin\":\"tBTC-lightning\",\"payment_hash\":\"\(hash)\"},\"id\":3}".utf8),
            peerIP: "127.0.0.1")))
        XCTAssertEqual(answered(route(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(String(repeating: "0", count: 64))"}"#))?.status, 404)
        XCTAssertEqual(answered(route(gpd, #"{"coin":"BTC","payment_hash":"\#(hash)"}"#))?.status, 404)
        XCTAssertEqual(answered(route(gpd, #"{"coin":"tBTC-lightning"}"#))?.status, 400)
        XCTAssertEqual(answered(route(lp, "{}", password: "wrong"))?.status, 403)
        XCTAssertEqual(answered(route("nope", "{}"))?.status, 400)     // NoSuchMethod
        guard case .blocking(let unknown) = route("lightning::nope", "{}") else { return XCTFail("unknown to the dispatcher") }
        XCTAssertEqual(try JSONParser().parse(unknown().body)["error_type"]?.string, "NoSuchMethod")
        guard case .blocking(let list) = route(lp, #"{"coin":"tBTC-lightning"}"#) else { return XCTFail("list is pool work") }
        XCTAssertEqual(try JSONParser().parse(list().body)["result"]?["total"], .integer(1))
        let batch = n.kdf.dispatcher.route(MMRPCHTTPRequest(method: "POST", body: Array("[1]".utf8), peerIP: "127.0.0.1"))
        guard case .blocking = batch else { return XCTFail("a batch is pool work") }
    }
}
