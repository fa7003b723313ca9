import JSON
import XCTest
@testable import KomodoRPC

/// KDF's envelope, processing order, auth and ban, transport rows (komodo §1).
final class MMRPCDispatcherTests: XCTestCase {
    let gpd = "lightning::payments::get_payment_details"
    let hash = String(repeating: "ab", count: 32)

    func testVersionErrorAndEnvelopeKeyOrder() throws {
        let n = try KDFTestNode()
        let (status, _, text) = n.post(#"{"mmrpc":"1.0","method":"x","params":{},"id":7}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(text, #"{"mmrpc":"2.0","error":"Error parsing mmrpc version: unknown variant `1.0`, expected `2.0`","error_path":"rpc","error_trace":"rpc:139]","error_type":"InvalidMmRpcVersion","error_data":"unknown variant `1.0`, expected `2.0`","id":7}"#)
    }

    func testUnknownTopLevelKeyAndStringID() throws {
        let n = try KDFTestNode()
        var (status, v, _) = n.post(#"{"mmrpc":"2.0","method":"x","x":1,"id":3}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(v["error_type"], .string("InvalidRequest"))
        XCTAssertEqual(v["error"], .string("Error parsing request: unknown field `x`, expected one of `mmrpc`, `userpass`, `method`, `params`, `id`"))
        XCTAssertEqual(v["id"], .null)
        (status, v, _) = n.post(#"{"mmrpc":"2.0","method":"x","id":"abc"}"#)
        XCTAssertEqual(v["error_data"], .string(#"invalid type: string "abc", expected usize"#))
        XCTAssertEqual(v["id"], .null)
        (status, v, _) = n.post(#"{"mmrpc":"2.0","userpass":"x"}"#)
        XCTAssertEqual(v["error_data"], .string("missing field `method`"))
    }

    func testLocalOnlyBeforeAuth() throws {
        let n = try KDFTestNode()
        let (status, v, text) = n.call(gpd, "{}", ip: "10.1.2.3")
        XCTAssertEqual(status, 403)
        XCTAssertEqual(v["error_type"], .string("LocalHostOnly"))
        XCTAssertEqual(v["error"], .string("Selected method can be called from localhost only!"))
        XCTAssertFalse(text.contains("error_data"))
        let open = try KDFTestNode(localOnly: false)
        XCTAssertEqual(open.call(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(hash)"}"#, ip: "10.1.2.3").0, 404)
    }

    func testUserpassMissingWrongThenBannedEvenWithTheRightOne() throws {
        let n = try KDFTestNode()
        var (status, v, text) = n.post(#"{"mmrpc":"2.0","method":"\#(gpd)","params":{}}"#)
        XCTAssertEqual(status, 403)
        XCTAssertEqual(v["error_type"], .string("UserpassIsNotSet"))
        XCTAssertFalse(text.contains("error_data"))
        for left in stride(from: 9, through: 0, by: -1) {
            (status, v, text) = n.post(#"{"mmrpc":"2.0","userpass":"nope","method":"no::such","params":{}}"#, ip: "127.0.0.5")
            XCTAssertEqual(status, 403)
            XCTAssertEqual(v["error"], .string("Userpass is invalid! - Rate Limit attempts left: \(left)"))
            XCTAssertEqual(v["error_data"], .object([JSONMember("error_type", .string("NbAttemptsLeft")),
                                                     JSONMember("error_data", .integer(left))]))
        }
        (status, v, _) = n.call(gpd, "{}", ip: "127.0.0.5")
        XCTAssertEqual(status, 403)
        XCTAssertEqual(v["error_type"], .string("Banned"))
        XCTAssertEqual(v["error"], .string("Your ip is banned."))
        // Another IP is not affected; a success never resets a count.
        XCTAssertEqual(n.call("lightning::nope", "{}", ip: "127.0.0.6").1["error_type"], .string("NoSuchMethod"))
    }

    func testNoSuchMethodIsAUnitVariant() throws {
        let n = try KDFTestNode()
        let (status, v, text) = n.call("lightning::payments::nope", "{}", id: 9)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(text, #"{"mmrpc":"2.0","error":"No such method","error_path":"dispatcher","error_trace":"dispatcher:133]","error_type":"NoSuchMethod","id":9}"#)
        XCTAssertEqual(v["id"], .integer(9))
        XCTAssertEqual(n.call("task::enable_lightning::init", "{}").1["error_type"], .string("NoSuchMethod"))
    }

    func testTransportRows() throws {
        let n = try KDFTestNode()
        let options = n.kdf.dispatcher.handle(MMRPCHTTPRequest(method: "OPTIONS", body: [], peerIP: "127.0.0.1"))
        XCTAssertEqual(options.status, 200)
        XCTAssertTrue(options.headers.contains { $0 == ("Access-Control-Allow-Methods", "POST, OPTIONS") })
        XCTAssertTrue(options.headers.contains { $0 == ("Access-Control-Allow-Origin", "http://localhost:3000") })
        XCTAssertTrue(options.headers.contains { $0 == ("Access-Control-Max-Age", "3600") })
        let get = n.post("", method: "GET")
        XCTAssertEqual(get.0, 500)
        XCTAssertTrue(get.2.hasSuffix(#"] Only POST requests are supported!"}"#), get.2)
        let bad = n.post("{nope")
        XCTAssertEqual(bad.0, 500)
        XCTAssertEqual(bad.1["error"], .string("key must be a string at line 1 column 2"))
        XCTAssertEqual(n.post("[1,}").1["error"], .string("expected value at line 1 column 4"))
        XCTAssertEqual(n.post("").1["error"], .string("EOF while parsing a value at line 1 column 0"))
        // No mmrpc: the legacy auth, then v2.
        let legacy = n.post(#"{"method":"\#(gpd)","params":{}}"#)
        XCTAssertEqual(legacy.0, 500)
        XCTAssertTrue(legacy.1["error"]?.string?.hasSuffix("RPC call failed: Userpass is not set!") == true)
        let upgraded = n.post(#"{"userpass":"\#(KDFTestNode.password)","method":"\#(gpd)","params":{"coin":"x","payment_hash":"\#(hash)"},"id":4}"#)
        XCTAssertEqual(upgraded.0, 404)
        XCTAssertEqual(upgraded.1["mmrpc"], .string("2.0"))
        XCTAssertEqual(upgraded.1["error_type"], .string("NoSuchCoin"))
        // A batch: HTTP 200 and one reply per element.
        let batch = n.post(#"[{"userpass":"\#(KDFTestNode.password)","mmrpc":"2.0","method":"lightning::x","id":1},{"method":"x"}]"#)
        XCTAssertEqual(batch.0, 200)
        guard case .array(let replies) = batch.1 else { return XCTFail(batch.2) }
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies[0]["error_type"], .string("NoSuchMethod"))
        XCTAssertNotNil(replies[1]["error"])
        XCTAssertNil(replies[1]["mmrpc"])
    }

    func testParamsErrorsAreSerdeTexts() throws {
        let n = try KDFTestNode()
        func data(_ method: String, _ params: String) -> String? {
            let (status, v, _) = n.call(method, params)
            XCTAssertEqual(status, 400)
            XCTAssertEqual(v["error_path"], .string("dispatcher"))
            XCTAssertEqual(v["error_type"], .string("InvalidRequest"))
            return v["error_data"]?.string
        }
        let gi = "lightning::payments::generate_invoice", sp = "lightning::payments::send_payment"
        let lp = "lightning::payments::list_payments_by_filter"
        XCTAssertEqual(data(gi, #"{"coin":"tBTC-lightning","description":"x","amount_in_msat":"56"}"#), #"invalid type: string "56", expected u64"#)
        XCTAssertEqual(data(gi, #"{"coin":"tBTC-lightning"}"#), "missing field `description`")
        XCTAssertEqual(data(gi, #"{"coin":"tBTC-lightning","description":"x","expiry":-1}"#), "invalid value: integer `-1`, expected u32")
        XCTAssertEqual(data(gi, #"{"coin":"tBTC-lightning","description":"x","expiry":1.5}"#), "invalid type: floating point `1.5`, expected u32")
        XCTAssertEqual(data(gi, "null"), "invalid type: null, expected struct GenerateInvoiceRequest")
        XCTAssertEqual(data(sp, #"{"coin":"tBTC-lightning"}"#), "missing field `payment`")
        XCTAssertEqual(data(sp, #"{"coin":"tBTC-lightning","payment":{"type":"foo"}}"#), "unknown variant `foo`, expected `invoice` or `keysend`")
        XCTAssertEqual(data(sp, #"{"coin":"tBTC-lightning","payment":{"type":"invoice","invoice":"nope"}}"#), "ParseError(Bech32Error(MissingSeparator))")
        XCTAssertEqual(data(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","destination":"02zz","amount_in_msat":1,"expiry":24}}"#),
                       "Could not parse public key from str 02zz, err malformed public key")
        XCTAssertEqual(data(sp, #"{"coin":"tBTC-lightning","payment":{"type":"keysend","amount_in_msat":1,"expiry":24}}"#), "missing field `destination`")
        XCTAssertEqual(data(gpd, #"{"coin":"tBTC-lightning","payment_hash":""}"#), #"invalid value: string "", expected a hash string"#)
        XCTAssertEqual(data(lp, #"{"coin":"tBTC-lightning","paging_options":{"PageNumber":0}}"#), "invalid value: integer `0`, expected a nonzero usize")
        XCTAssertEqual(data(lp, #"{"coin":"tBTC-lightning","paging_options":{"x":1}}"#), "unknown variant `x`, expected `FromId` or `PageNumber`")
        XCTAssertEqual(data(lp, #"{"coin":"tBTC-lightning","filter":{"status":"x"}}"#), "unknown variant `x`, expected one of `pending`, `claimable`, `succeeded`, `failed`")
        XCTAssertEqual(data(lp, #"{"coin":"tBTC-lightning","filter":{"payment_type":{"type":"x"}}}"#), "unknown variant `x`, expected `Outbound Payment` or `Inbound Payment`")
        XCTAssertEqual(data(lp, #"{"coin":"tBTC-lightning","filter":{"payment_type":{"type":"Outbound Payment"}}}"#), "missing field `destination`")
        // Unknown keys inside params are ignored.
        XCTAssertEqual(n.call(lp, #"{"coin":"tBTC-lightning","whatever":1}"#).0, 200)
    }

    func testNoSuchCoin() throws {
        let n = try KDFTestNode()
        let (status, v, _) = n.call("lightning::payments::generate_invoice", #"{"coin":"KMD","description":"x"}"#)
        XCTAssertEqual(status, 404)
        XCTAssertEqual(v["error"], .string("No such coin KMD"))
        XCTAssertEqual(v["error_data"], .string("KMD"))
        XCTAssertEqual(v["error_path"], .string("generate_invoice.lp_coins"))
        XCTAssertEqual(v["error_trace"], .string("generate_invoice:78] lp_coins:5070]"))
    }

    func testNoSuchPayment() throws {
        let n = try KDFTestNode()
        let (status, v, _) = n.call(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(hash.uppercased())"}"#)
        XCTAssertEqual(status, 404)
        XCTAssertEqual(v["error"], .string("Payment with hash: \(hash) is not found"))
        XCTAssertEqual(v["error_path"], .string("get_payment_details"))
        XCTAssertEqual(v["error_data"], .string(hash))
    }
}
