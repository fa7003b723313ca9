import XCTest
@testable import KomodoRPC
@testable import Node

/// The mmrpc dispatcher's metrics: each request counted by served method (others `unknown`) and
/// HTTP status, each userpass refusal by reason.
final class MMRPCMetricsTests: XCTestCase {
    func value(_ m: NodeMetrics, _ line: String) -> Double {
        for l in m.registry.exposition().split(separator: "\n") where l.hasPrefix(line + " ") { return Double(l.dropFirst(line.count + 1))! }
        return 0
    }

    func testRequestsByMethodAndStatusAndRefusalsByReason() throws {
        let metrics = try NodeMetrics()
        let n = try KDFTestNode(metrics: metrics)
        let gpd = "lightning::payments::get_payment_details"
        let hash = String(repeating: "cd", count: 32)
        XCTAssertEqual(n.call(gpd, #"{"coin":"tBTC-lightning","payment_hash":"\#(hash)"}"#).0, 404)
        XCTAssertEqual(n.call("lightning::payments::list_payments_by_filter", #"{"coin":"tBTC-lightning"}"#).0, 200)
        XCTAssertEqual(n.post(#"{"mmrpc":"2.0","method":"\#(gpd)","params":{}}"#).0, 403)                      // no userpass
        XCTAssertEqual(n.post(#"{"mmrpc":"2.0","userpass":"nope","method":"made::up","params":{}}"#, ip: "127.0.0.9").0, 403)
        XCTAssertEqual(n.post(#"{"method":"\#(gpd)","userpass":"wrong"}"#).0, 500)                               // legacy path
        for _ in 0..<9 { _ = n.post(#"{"mmrpc":"2.0","userpass":"nope","method":"x","params":{}}"#, ip: "127.0.0.9") }
        _ = n.call(gpd, "{}", ip: "127.0.0.9")   // banned now, even with the right one
        let rq = "paytrack_rpc_requests_total"
        XCTAssertEqual(value(metrics, #"\#(rq){api="mmrpc",method="\#(gpd)",code="404"}"#), 1)
        XCTAssertEqual(value(metrics, #"\#(rq){api="mmrpc",method="lightning::payments::list_payments_by_filter",code="200"}"#), 1)
        XCTAssertEqual(value(metrics, #"\#(rq){api="mmrpc",method="\#(gpd)",code="403"}"#), 2)
        XCTAssertEqual(value(metrics, #"\#(rq){api="mmrpc",method="\#(gpd)",code="500"}"#), 1)
        XCTAssertEqual(value(metrics, #"\#(rq){api="mmrpc",method="unknown",code="403"}"#), 10)
        XCTAssertFalse(metrics.registry.exposition().contains("made::up"))
        let up = "paytrack_userpass_refusals_total"
        XCTAssertEqual(value(metrics, #"\#(up){reason="not_set"}"#), 1)
        XCTAssertEqual(value(metrics, #"\#(up){reason="invalid"}"#), 11)   // 1 legacy + 10 counted by the limiter
        XCTAssertEqual(value(metrics, #"\#(up){reason="banned"}"#), 1)
    }
}
