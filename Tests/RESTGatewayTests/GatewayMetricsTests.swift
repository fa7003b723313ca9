import XCTest
import Metrics
import RPCCore
import Transport
@testable import RESTGateway

/// The REST face's RPC metrics, driven through the gateway as an `HTTPApplication` with a
/// recording writer (no socket): each call counts once with its code under api `rest`, unknown
/// paths under `unknown`, streams in the gauge until they end or the client goes away.
final class GatewayMetricsTests: XCTestCase {
    final class Writer: HTTPResponseWriter {
        let eventLoop: EventLoop
        var peerAddress = "127.0.0.1:1"
        var protocolName = "http/1.1"
        var connectionStorage: AnyObject?
        var status: Int?
        var ended = false
        init(_ loop: EventLoop) { eventLoop = loop }
        func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) { self.status = status; ended = true }
        func writeHead(status: Int, headers: HTTPHeaders) { self.status = status }
        func writeBody(_ bytes: [UInt8]) -> Bool { true }
        func end() { ended = true }
        var isWritable: Bool { true }
        var onWritable: (() -> Void)?
        func acceptWebSocket(subprotocol: String?, handler: WebSocketHandler) -> WebSocketChannel? { nil }
    }

    final class Held: @unchecked Sendable { var writer: ServerStreamWriter? }

    struct Stub: RPCService {
        let serviceName = "routerrpc.Router"
        let held: Held
        var methods: [String: RPCHandler] {
            ["TrackPaymentV2": .serverStreaming { [held] _, _, w in held.writer = w },
             "SendPaymentV2": .serverStreaming { _, _, w in w.finish(GRPCStatus(.invalidArgument, "no")) }]
        }
    }

    func testCallsStreamsAndUnknownPaths() throws {
        let loop = EventLoop()
        loop.adoptCurrentThread()
        let registry = MetricsRegistry()
        let held = Held()
        let gateway = RESTGateway(services: [Stub(held: held)], interceptors: [], metrics: try RPCCallMetrics(registry: registry))
        func get(_ target: String, _ verb: String = "GET", body: [UInt8] = []) -> (Writer, HTTPRequestHandler) {
            let w = Writer(loop)
            let h = gateway.request(HTTPRequestHead(method: verb, target: target, version: (1, 1), headers: HTTPHeaders()), w)
            if !body.isEmpty { h.body(body) }
            h.end()
            return (w, h)
        }
        func value(_ line: String) -> Double {
            for l in registry.exposition().split(separator: "\n") where l.hasPrefix(line + " ") { return Double(l.dropFirst(line.count + 1))! }
            return 0
        }
        let track = "/routerrpc.Router/TrackPaymentV2"
        let hash = String(repeating: "ab", count: 32)
        let (first, firstHandler) = get("/v2/router/track/\(hash)")
        _ = get("/v2/router/track/\(hash)")
        XCTAssertEqual(value(#"paytrack_rpc_open_streams{api="rest",method="\#(track)"}"#), 2)
        held.writer!.finish()                          // the second stream ends OK
        XCTAssertEqual(value(#"paytrack_rpc_open_streams{api="rest",method="\#(track)"}"#), 1)
        firstHandler.cancelled()                       // the first client goes away
        XCTAssertFalse(first.ended)
        XCTAssertEqual(value(#"paytrack_rpc_open_streams{api="rest",method="\#(track)"}"#), 0)
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="\#(track)",code="OK"}"#), 1)
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="\#(track)",code="Canceled"}"#), 1)
        XCTAssertEqual(get("/v2/router/send", "POST", body: Array("{}".utf8)).0.status, 400)
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="/routerrpc.Router/SendPaymentV2",code="InvalidArgument"}"#), 1)
        XCTAssertEqual(get("/v2/router/track/abc").0.status, 400)     // undecodable: refused, counted, not timed
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="\#(track)",code="InvalidArgument"}"#), 1)
        XCTAssertEqual(value(#"paytrack_rpc_duration_seconds_count{api="rest",method="\#(track)"}"#), 2)
        XCTAssertEqual(get("/v1/nothing/here").0.status, 404)
        XCTAssertEqual(get("/v2/router/track/\(hash)", "DELETE").0.status, 501)
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="unknown",code="NotFound"}"#), 1)
        XCTAssertEqual(value(#"paytrack_rpc_requests_total{api="rest",method="unknown",code="Unimplemented"}"#), 1)
        XCTAssertFalse(registry.exposition().contains("nothing/here"))
    }
}
