import Locks
import XCTest
import Glibc
import Transport
import GRPC
import RPCCore

/// Our client against our server over real TLS on loopback.
final class LoopbackTests: XCTestCase {
    func testUnaryStreamingDeadlineCancelAndShutdown() throws {
        let tmp = try TemporaryCredentials()
        defer { tmp.remove() }
        let creds = tmp.creds
        final class Seen: @unchecked Sendable { let lock = Lock(); var cancelled = 0; var peer = "" }
        let seen = Seen()
        let svc = ServiceDefinition(name: "t.S", methods: [
            "Echo": .unary { ctx, req, r in
                seen.lock.withLock { seen.peer = ctx.peerAddress }
                r.respond(req)
            },
            "Many": .serverStreaming { _, req, w in
                let n = Int(req[0]) * 100
                final class I: @unchecked Sendable { var i = 0 }
                let i = I()
                let pump: @Sendable () -> Void = {
                    while i.i < n { if !w.send([UInt8](repeating: UInt8(i.i & 0xff), count: 10_000)) { return }; i.i += 1 }
                    w.finish()
                }
                w.onReady(pump)
                pump()
            },
            "Hang": .serverStreaming { ctx, _, w in
                w.send([1])
                ctx.onCancel { seen.lock.withLock { seen.cancelled += 1 } }
            },
        ])
        let server = GRPCServer(services: [svc], tls: try creds.makeServerContext())
        let port = try server.start(host: "127.0.0.1", port: 0)
        let client = try GRPCClient(host: "127.0.0.1", port: port, trustedCertificatePath: creds.certPath)

        XCTAssertEqual(try client.unarySync(path: "/t.S/Echo", request: [1, 2, 3]), [1, 2, 3])
        XCTAssertTrue(seen.lock.withLock { seen.peer.hasPrefix("127.0.0.1:") })

        final class Count: @unchecked Sendable { var n = 0; var bytes = 0 }
        let c = Count()
        let st = client.serverStreamingSync(path: "/t.S/Many", request: [3]) { m in c.n += 1; c.bytes += m.count }
        XCTAssertEqual(st.code, .ok)
        XCTAssertEqual(c.n, 300)
        XCTAssertEqual(c.bytes, 3_000_000)

        XCTAssertThrowsError(try client.unarySync(path: "/t.S/Nope", request: [])) { e in
            XCTAssertEqual((e as? GRPCStatus)?.code, .unimplemented)
        }
        let dl = client.serverStreamingSync(path: "/t.S/Hang", request: [], timeout: .milliseconds(100)) { _ in }
        XCTAssertEqual(dl.code, .deadlineExceeded)

        let latch = Latch<GRPCStatus>()
        let call = client.serverStreaming(path: "/t.S/Hang", request: [], onMessage: { _ in }, onFinish: { latch.fulfil($0) })
        usleep(50_000)
        call.cancel()
        XCTAssertEqual(latch.wait().code, .cancelled)
        for _ in 0..<100 where seen.lock.withLock({ seen.cancelled }) < 2 { usleep(10_000) }
        XCTAssertEqual(seen.lock.withLock { seen.cancelled }, 2, "deadline and cancel both reached the handler")

        // Graceful shutdown: an open server stream ends with UNAVAILABLE.
        let end = Latch<GRPCStatus>()
        client.serverStreaming(path: "/t.S/Hang", request: [], onMessage: { _ in }, onFinish: { end.fulfil($0) })
        usleep(50_000)
        server.shutdown(gracePeriod: .seconds(2))
        XCTAssertEqual(end.wait().code, .unavailable)
        client.close()
    }
}
