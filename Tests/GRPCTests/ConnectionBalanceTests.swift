import XCTest
import Glibc
import Transport
import GRPC
import RPCCore

/// `HTTP2Server` puts each accepted connection on the loop with the fewest live connections,
/// whichever loop's SO_REUSEPORT listener the kernel picked.
final class ConnectionBalanceTests: XCTestCase {
    func testConnectionsAreSpreadEvenlyOverTheLoops() throws {
        let tmp = try TemporaryCredentials()
        defer { tmp.remove() }
        let creds = tmp.creds
        // The handler answers with the index of the loop its connection lives on.
        let svc = ServiceDefinition(name: "t.B", methods: [
            "Loop": .unary { ctx, _, r in r.respond([UInt8(ctx.eventLoop.index)]) },
        ])
        var cfg = GRPCServerConfiguration()
        cfg.loopCount = 3
        let server = GRPCServer(services: [svc], tls: try creds.makeServerContext(), configuration: cfg)
        let port = try server.start(host: "127.0.0.1", port: 0)
        defer { server.shutdown(gracePeriod: .milliseconds(100)) }

        // One at a time, so every accept sees the counts left by the previous one.
        var clients: [GRPCClient] = []
        var perLoop = [Int](repeating: 0, count: 3)
        for _ in 0..<12 {
            let c = try GRPCClient(host: "127.0.0.1", port: port, trustedCertificatePath: creds.certPath)
            clients.append(c)
            let answer = try c.unarySync(path: "/t.B/Loop", request: [])
            perLoop[Int(answer[0])] += 1
        }
        XCTAssertEqual(perLoop, [4, 4, 4], "12 connections over 3 loops")

        // A closed connection frees its slot: the next one goes to that loop.
        let lastLoop = Int(try clients[0].unarySync(path: "/t.B/Loop", request: [])[0])
        clients[0].close()
        clients.removeFirst()
        usleep(200_000)   // the server sees the close
        let c = try GRPCClient(host: "127.0.0.1", port: port, trustedCertificatePath: creds.certPath)
        clients.append(c)
        XCTAssertEqual(Int(try c.unarySync(path: "/t.B/Loop", request: [])[0]), lastLoop)
        for c in clients { c.close() }
    }
}
