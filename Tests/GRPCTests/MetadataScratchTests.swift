import XCTest
import Transport
@testable import GRPC
import RPCCore

/// Request metadata is collected in a per-connection scratch buffer and copied to each call when
/// its header block ends: calls on one connection must each see exactly their own metadata.
final class MetadataScratchTests: XCTestCase {
    typealias Response = SocketlessServerTests.Response

    struct Seen: ServerInterceptor {
        let record: @Sendable (ServerCallContext) -> Void
        func intercept(_ c: ServerCallContext) -> GRPCStatus? { record(c); return nil }
    }

    final class Log: @unchecked Sendable {
        var entries: [(count: Int, first: String, all: [String], bin: [UInt8]?)] = []
    }

    func testEachCallSeesOnlyItsOwnMetadata() {
        let loop = EventLoop()
        loop.adoptCurrentThread()
        let log = Log()
        let echo = ServiceDefinition(name: "t.Echo", methods: ["Unary": .unary { _, req, r in r.respond(req) }])
        let server = GRPCServer(services: [echo], interceptors: [Seen { c in
            let (n, first) = c.metadata.withStringValues("x-k") { n, v in (n, String(decoding: v, as: UTF8.self)) }
            log.entries.append((n, first, c.metadata.stringValues("x-k"), c.metadata.binary("x-b-bin")))
        }], tls: nil, group: EventLoopGroup(loops: [loop]))
        let session = server.makeServerSession()
        let client = HTTP2Session(server: false)
        func pump() { pumpSessions(client, session, loop) }
        let base = [(":method", "POST"), (":scheme", "https"), (":path", "/t.Echo/Unary"), (":authority", "t"),
                    ("content-type", "application/grpc"), ("te", "trailers")]
        let big = String(repeating: "q", count: 9000)   // beyond the scratch's kept capacity
        let requests: [[(String, String)]] = [
            [("x-k", "one")],
            [],
            [("x-k", big), ("x-b-bin", "AQID")],
            [("x-k", "a"), ("x-k", "b")],
            [("x-other", "z")],
        ]
        var responses: [Response] = []
        // Opened together: their header blocks go out back to back before any response.
        for extra in requests {
            let r = Response()
            let s = client.openStream(headers: HTTP2HeaderBlock(base + extra), delegate: r)!
            s.write(MessageFraming.frame([9]))
            s.finish(trailers: nil)
            responses.append(r)
        }
        pump()
        XCTAssertEqual(log.entries.count, requests.count)
        XCTAssertEqual(log.entries.map { $0.count }, [1, 0, 1, 2, 0])
        XCTAssertEqual(log.entries.map { $0.first }, ["one", "", big, "a", ""])
        XCTAssertEqual(log.entries[3].all, ["a", "b"])
        XCTAssertEqual(log.entries[2].bin, [1, 2, 3])
        XCTAssertNil(log.entries[0].bin)
        XCTAssertEqual(responses.map { $0.headers["grpc-status"] }, Array(repeating: "0", count: requests.count))
        XCTAssertEqual(responses.map { $0.messages }, Array(repeating: [[9]], count: requests.count))
    }
}
