import XCTest
import Transport
@testable import GRPC
import RPCCore

/// The gRPC server driven through an HTTP/2 session with no socket: a client HTTP2Session produces
/// bytes, the server session consumes them on an adopted loop (this thread).
final class SocketlessServerTests: XCTestCase {
    final class Response: HTTP2StreamDelegate {
        var headers: [String: String] = [:]
        var data: [UInt8] = []
        var closed = false
        func stream(_ s: HTTP2Stream, header n: UnsafeRawBufferPointer, value v: UnsafeRawBufferPointer) {
            headers[String(decoding: n, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
        }
        func streamHeadersEnded(_ s: HTTP2Stream, endStream: Bool) {}
        func stream(_ s: HTTP2Stream, data: UnsafeRawBufferPointer) { self.data += data }
        func streamRemoteEnded(_ s: HTTP2Stream) {}
        func streamWritable(_ s: HTTP2Stream) {}
        func streamClosed(_ s: HTTP2Stream, errorCode: UInt32) { closed = true }
        var messages: [[UInt8]] {
            var d = MessageDeframer(maxMessageSize: 1 << 20)
            var out: [[UInt8]] = []
            try? data.withUnsafeBytes { b in try d.consume(b) { out.append($0) } }
            return out
        }
    }

    struct DenyAll: ServerInterceptor {
        func intercept(_ c: ServerCallContext) -> GRPCStatus? {
            c.metadata["auth"] == "yes" ? nil : GRPCStatus(.unauthenticated, "no auth")
        }
    }

    var loop: EventLoop!
    var server: GRPCServer!
    var session: HTTP2Session!
    var client: HTTP2Session!

    override func setUp() {
        loop = EventLoop()
        loop.adoptCurrentThread()
        let echo = ServiceDefinition(name: "t.Echo", methods: [
            "Unary": .unary { ctx, req, r in
                XCTAssertTrue(ctx.eventLoop.inEventLoop)   // handlers run on the connection's loop
                r.respond(req + Array((ctx.metadata["x-k"] ?? "").utf8))
            },
            "Stream": .serverStreaming { _, req, w in
                for i in 0..<Int(req.first ?? 0) { XCTAssertTrue(w.send([UInt8(i)])) }
                w.finish()
            },
            "Fail": .unary { _, _, r in r.fail(.notFound, "payment isn't initiated") },
        ])
        var cfg = GRPCServerConfiguration()
        cfg.maxReceiveMessageSize = 1000
        server = GRPCServer(services: [echo], interceptors: [DenyAll()], tls: nil, configuration: cfg,
                            group: EventLoopGroup(loops: [loop]))
        session = server.makeServerSession()
        client = HTTP2Session(server: false)
    }

    func pump() { pumpSessions(client, session, loop) }

    func call(_ path: String, _ body: [UInt8], contentType: String = "application/grpc", auth: Bool = true,
              extra: [(String, String)] = []) -> Response {
        var h = [(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "t"),
                 ("content-type", contentType), ("te", "trailers")]
        if auth { h.append(("auth", "yes")) }
        let r = Response()
        let s = client.openStream(headers: HTTP2HeaderBlock(h + extra), delegate: r)!
        s.write(body)
        s.finish(trailers: nil)
        pump()
        return r
    }

    func testUnaryFastPath() {
        let r = call("/t.Echo/Unary", MessageFraming.frame([1, 2, 3]), extra: [("x-k", "v")])
        XCTAssertEqual(r.headers[":status"], "200")
        XCTAssertEqual(r.headers["grpc-status"], "0")
        XCTAssertEqual(r.messages, [[1, 2, 3] + Array("v".utf8)])
        XCTAssertTrue(r.closed)
    }

    func testServerStreaming() {
        let r = call("/t.Echo/Stream", MessageFraming.frame([5]))
        XCTAssertEqual(r.messages, [[0], [1], [2], [3], [4]])
        XCTAssertEqual(r.headers["grpc-status"], "0")
    }

    func testErrorsInTrailers() {
        XCTAssertEqual(call("/t.Echo/Fail", MessageFraming.frame([])).headers["grpc-message"], "payment isn't initiated")
        XCTAssertEqual(call("/t.Echo/Nope", MessageFraming.frame([])).headers["grpc-status"], "12")
        XCTAssertEqual(call("/x.Y/Z", MessageFraming.frame([])).headers["grpc-message"], "unknown service x.Y")
        XCTAssertEqual(call("/t.Echo/Unary", MessageFraming.frame([]), auth: false).headers["grpc-status"], "16")
        let big = call("/t.Echo/Unary", MessageFraming.frame([UInt8](repeating: 0, count: 1001)))
        XCTAssertEqual(big.headers["grpc-status"], "8")
        let ct = call("/t.Echo/Unary", MessageFraming.frame([]), contentType: "application/json")
        XCTAssertEqual(ct.headers[":status"], "415")
        XCTAssertEqual(call("/t.Echo/Unary", [1, 0, 0, 0, 0]).headers["grpc-status"], "13")   // compressed, no encoding
        XCTAssertEqual(call("/t.Echo/Unary", MessageFraming.frame([]), extra: [("grpc-encoding", "gzip")]).headers["grpc-status"], "12")
        XCTAssertEqual(call("/t.Echo/Unary", []).headers["grpc-status"], "13")                // no message
        XCTAssertEqual(call("/t.Echo/Unary", MessageFraming.frame([]), extra: [("grpc-timeout", "bogus")]).headers["grpc-status"], "13")
        // The session is still healthy.
        XCTAssertEqual(call("/t.Echo/Unary", MessageFraming.frame([7])).messages, [[7]])
    }

    func testDeadlineTimerFires() {
        let slow = ServiceDefinition(name: "t.Slow", methods: ["Never": .unary { ctx, _, _ in
            ctx.onCancel { }   // never responds
        }])
        server = GRPCServer(services: [slow], tls: nil, group: EventLoopGroup(loops: [loop]))
        session = server.makeServerSession()
        client = HTTP2Session(server: false)
        let r = call("/t.Slow/Never", MessageFraming.frame([]), extra: [("grpc-timeout", "20m")])
        XCTAssertNil(r.headers["grpc-status"])
        usleep(40_000)
        loop.runPendingTasks()
        pump()
        XCTAssertEqual(r.headers["grpc-status"], "4")
    }

    func testStreamWriterHighWatermarkBackpressure() {
        final class Log: @unchecked Sendable { var refused = 0; var sent = 0; var readies = 0; var writableButRefused = 0 }
        let log = Log()
        let svc = ServiceDefinition(name: "t.Bp", methods: ["Pump": .serverStreaming { _, _, w in
            w.maxBufferedBytes = 20_000
            let total = 200
            let pump: @Sendable () -> Void = {
                while log.sent < total {
                    let writable = w.isWritable
                    if !w.send([UInt8](repeating: 1, count: 3000)) {
                        log.refused += 1
                        if writable { log.writableButRefused += 1 }
                        return
                    }
                    log.sent += 1
                }
                w.finish()
            }
            w.onReady { log.readies += 1; pump() }
            pump()
        }])
        var h2 = HTTP2Configuration()
        h2.initialWindowSize = 16_384   // a slow reader: small windows keep the writer full
        var cfg = GRPCServerConfiguration()
        cfg.http2 = h2
        server = GRPCServer(services: [svc], tls: nil, configuration: cfg, group: EventLoopGroup(loops: [loop]))
        session = server.makeServerSession()
        client = HTTP2Session(server: false, configuration: h2)
        let r = call("/t.Bp/Pump", MessageFraming.frame([]))
        for _ in 0..<200 where !r.closed { pump() }
        XCTAssertEqual(r.messages.count, 200)
        XCTAssertEqual(r.headers["grpc-status"], "0")
        XCTAssertGreaterThan(log.refused, 0, "the writer must report full")
        XCTAssertEqual(log.readies, log.refused, "every refusal is followed by onReady")
        XCTAssertEqual(log.writableButRefused, 0, "isWritable on the loop guarantees send")
    }
}
