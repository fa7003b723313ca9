import XCTest
import Metrics
import Transport
@testable import GRPC
import RPCCore

/// The gRPC face's RPC metrics, driven through a socketless HTTP/2 session: every call counts
/// once with its code, unknown paths under `unknown`, streams in the gauge until they end.
final class CallMetricsTests: XCTestCase {
    final class Sink: HTTP2StreamDelegate {
        var headers: [String: String] = [:]
        func stream(_ s: HTTP2Stream, header n: UnsafeRawBufferPointer, value v: UnsafeRawBufferPointer) {
            headers[String(decoding: n, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
        }
        func streamHeadersEnded(_ s: HTTP2Stream, endStream: Bool) {}
        func stream(_ s: HTTP2Stream, data: UnsafeRawBufferPointer) {}
        func streamRemoteEnded(_ s: HTTP2Stream) {}
        func streamWritable(_ s: HTTP2Stream) {}
        func streamClosed(_ s: HTTP2Stream, errorCode: UInt32) {}
    }

    struct Gate: ServerInterceptor {
        func intercept(_ c: ServerCallContext) -> GRPCStatus? {
            c.metadata["auth"] == "yes" ? nil : GRPCStatus(.unknown, "expected 1 macaroon, got 0")
        }
    }

    final class Held: @unchecked Sendable { var writer: ServerStreamWriter? }

    var loop: EventLoop!
    var registry: MetricsRegistry!
    var server: GRPCServer!   // the sessions' handlers hold it unowned
    var session: HTTP2Session!
    var client: HTTP2Session!
    let held = Held()

    override func setUp() {
        loop = EventLoop()
        loop.adoptCurrentThread()
        registry = MetricsRegistry()
        let held = self.held
        let svc = ServiceDefinition(name: "t.S", methods: [
            "Ok": .unary { _, req, r in r.respond(req) },
            "Fail": .unary { _, _, r in r.fail(.notFound, "no") },
            "Watch": .serverStreaming { _, _, w in held.writer = w },
        ])
        server = GRPCServer(services: [svc], interceptors: [Gate()], tls: nil, group: EventLoopGroup(loops: [loop]),
                                metrics: try! RPCCallMetrics(registry: registry))
        session = server.makeServerSession()
        client = HTTP2Session(server: false)
    }

    func pump() { pumpSessions(client, session, loop) }

    @discardableResult
    func call(_ path: String, auth: Bool = true) -> (Sink, HTTP2Stream) {
        var h = [(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "t"),
                 ("content-type", "application/grpc"), ("te", "trailers")]
        if auth { h.append(("auth", "yes")) }
        let sink = Sink()
        let s = client.openStream(headers: HTTP2HeaderBlock(h), delegate: sink)!
        s.write(MessageFraming.frame([1]))
        s.finish(trailers: nil)
        pump()
        return (sink, s)
    }

    func value(_ line: String) -> Double {
        for l in registry.exposition().split(separator: "\n") where l.hasPrefix(line + " ") { return Double(l.dropFirst(line.count + 1))! }
        return 0
    }

    func requests(_ method: String, _ code: String) -> Double {
        value("paytrack_rpc_requests_total{api=\"grpc\",method=\"\(method)\",code=\"\(code)\"}")
    }

    func testEachCallCountsOnceWithItsCode() {
        call("/t.S/Ok"); call("/t.S/Ok")
        XCTAssertEqual(call("/t.S/Fail").0.headers["grpc-status"], "5")
        XCTAssertEqual(call("/t.S/Ok", auth: false).0.headers["grpc-status"], "2")
        XCTAssertEqual(call("/t.S/Nope").0.headers["grpc-status"], "12")
        XCTAssertEqual(call("/other.Svc/X").0.headers["grpc-status"], "12")
        XCTAssertEqual(requests("/t.S/Ok", "OK"), 2)
        XCTAssertEqual(requests("/t.S/Ok", "Unknown"), 1)
        XCTAssertEqual(requests("/t.S/Fail", "NotFound"), 1)
        XCTAssertEqual(requests("unknown", "Unimplemented"), 2)
        XCTAssertEqual(value("paytrack_rpc_duration_seconds_count{api=\"grpc\",method=\"/t.S/Ok\"}"), 3)
        XCTAssertFalse(registry.exposition().contains("/t.S/Nope"), "a client's path is never a label")
    }

    func testStreamGaugeUpUntilTheStreamEndsOrIsReset() {
        let gauge = "paytrack_rpc_open_streams{api=\"grpc\",method=\"/t.S/Watch\"}"
        let (_, first) = call("/t.S/Watch")
        call("/t.S/Watch")
        XCTAssertEqual(value(gauge), 2)
        held.writer!.finish()        // the second stream ends OK
        pump()
        XCTAssertEqual(value(gauge), 1)
        call("/t.S/Watch")
        XCTAssertEqual(value(gauge), 2)
        first.reset(errorCode: 8)   // the client cancels the first
        pump()
        XCTAssertEqual(value(gauge), 1)
        XCTAssertEqual(requests("/t.S/Watch", "OK"), 1)
        XCTAssertEqual(requests("/t.S/Watch", "Canceled"), 1)
    }
}
