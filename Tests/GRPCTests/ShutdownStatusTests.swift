import Locks
import XCTest
import Glibc
import Transport
import GRPC
import RPCCore

/// Graceful shutdown ends each open server stream with its service's `shutdownStatus`.
final class ShutdownStatusTests: XCTestCase {
    struct CustomService: RPCService {
        let serviceName = "t.Custom"
        var methods: [String: RPCHandler] { ["Hang": .serverStreaming { _, _, w in _ = w.send([1]) }] }
        var shutdownStatus: GRPCStatus { GRPCStatus(.unavailable, "custom service shutting down") }
    }

    func testEachServiceStreamEndsWithItsShutdownStatus() throws {
        let tmp = try TemporaryCredentials()
        defer { tmp.remove() }
        let creds = tmp.creds
        let plain = ServiceDefinition(name: "t.Plain", methods: ["Hang": .serverStreaming { _, _, w in _ = w.send([1]) }])
        let server = GRPCServer(services: [plain, CustomService()], tls: try creds.makeServerContext())
        let port = try server.start(host: "127.0.0.1", port: 0)
        let client = try GRPCClient(host: "127.0.0.1", port: port, trustedCertificatePath: creds.certPath)

        let got = Latch<Bool>()
        final class Seen: @unchecked Sendable { let lock = Lock(); var n = 0 }
        let seen = Seen()
        let onMessage: @Sendable ([UInt8]) -> Void = { _ in
            if seen.lock.withLock({ seen.n += 1; return seen.n }) == 2 { got.fulfil(true) }
        }
        let custom = Latch<GRPCStatus>(), defaulted = Latch<GRPCStatus>()
        client.serverStreaming(path: "/t.Custom/Hang", request: [], onMessage: onMessage, onFinish: { custom.fulfil($0) })
        client.serverStreaming(path: "/t.Plain/Hang", request: [], onMessage: onMessage, onFinish: { defaulted.fulfil($0) })
        XCTAssertTrue(got.wait())   // both streams are open
        server.shutdown(gracePeriod: .seconds(2))
        let c = custom.wait(), d = defaulted.wait()
        XCTAssertEqual(c.code, .unavailable)
        XCTAssertEqual(c.message, "custom service shutting down")
        XCTAssertEqual(d.code, .unavailable)
        XCTAssertEqual(d.message, "server shutting down")
        client.close()
    }
}
