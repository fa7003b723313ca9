import XCTest
@testable import Transport

/// The WebSocket upgrade through `HTTP1Session`, then frames through `WebSocketSession`.
final class WebSocketSessionTests: XCTestCase {
    static let upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

    /// A driver whose session has completed the handshake (with `extra` request fields).
    func upgraded(_ extra: String = "", configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                  file: StaticString = #filePath, line: UInt = #line) -> HTTP1Driver {
        let d = HTTP1Driver(configuration: configuration)
        d.send(WebSocketSessionTests.upgrade + extra + "\r\n")
        let out = d.take()
        XCTAssertTrue(out.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), out, file: file, line: line)
        return d
    }

    func frames(_ d: HTTP1Driver) -> [WSFrame.Parsed] {
        d.drain()
        defer { d.output = [] }
        return WSFrame.parse(d.output)
    }

    func testHandshakeAcceptValueAndSubprotocolEcho() {
        // RFC 6455 §1.3's example key and accept value.
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertNil(WebSocketHandshake.acceptValue(forKey: "short=="))
        let d = HTTP1Driver()
        d.send(WebSocketSessionTests.upgrade + "Sec-WebSocket-Protocol: Grpc-Metadata-Macaroon+0201, other\r\n\r\n")
        let out = d.take()
        XCTAssertTrue(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), out)
        XCTAssertTrue(out.contains("Sec-WebSocket-Protocol: Grpc-Metadata-Macaroon+0201\r\n"))
        XCTAssertTrue(out.contains("Upgrade: websocket\r\n"))
        XCTAssertFalse(out.contains("Content-Length"))
    }

    /// The refusals both HTTP versions share (`WebSocketHandshake.refusal`): not WebSocket → 400,
    /// a version other than 13 → 426 naming 13, a chosen subprotocol the client did not offer → 400;
    /// an offered one (in any of several header lines, with spaces) → accepted.
    func testHandshakeRefusalsSharedByBothHTTPVersions() {
        let ok = HTTPHeaders([("Sec-WebSocket-Version", " 13 "), ("Sec-WebSocket-Protocol", "a, b"),
                              ("Sec-WebSocket-Protocol", "Grpc-Metadata-Macaroon+0201")])
        XCTAssertNil(WebSocketHandshake.refusal(isWebSocketRequest: true, headers: ok, subprotocol: nil))
        XCTAssertNil(WebSocketHandshake.refusal(isWebSocketRequest: true, headers: ok, subprotocol: "b"))
        XCTAssertNil(WebSocketHandshake.refusal(isWebSocketRequest: true, headers: ok, subprotocol: "Grpc-Metadata-Macaroon+0201"))
        let notOffered = WebSocketHandshake.refusal(isWebSocketRequest: true, headers: ok, subprotocol: "c")
        XCTAssertEqual(notOffered?.status, 400)
        XCTAssertEqual(notOffered.map { String(decoding: $0.body, as: UTF8.self) }, "subprotocol not offered\n")
        XCTAssertEqual(WebSocketHandshake.refusal(isWebSocketRequest: false, headers: ok, subprotocol: nil)?.status, 400)
        let v8 = WebSocketHandshake.refusal(isWebSocketRequest: true, headers: HTTPHeaders([("Sec-WebSocket-Version", "8")]),
                                            subprotocol: nil)
        XCTAssertEqual(v8?.status, 426)
        XCTAssertEqual(v8?.headers["Sec-WebSocket-Version"], "13")
        XCTAssertEqual(v8?.body, [])
        XCTAssertEqual(WebSocketHandshake.refusal(isWebSocketRequest: true, headers: HTTPHeaders(), subprotocol: nil)?.status, 426)
    }

    func testBadVersionIs426AndBadKeyIs400() {
        let d = HTTP1Driver()
        d.send(WebSocketSessionTests.upgrade.replacingOccurrences13() + "\r\n")
        let out = d.take()
        XCTAssertEqual(statusCodes(out), [426])
        XCTAssertTrue(out.contains("Sec-WebSocket-Version: 13"))
        XCTAssertFalse(d.session.isAlive, "a refused upgrade ends the connection")
        let k = HTTP1Driver()
        k.send("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n")
        XCTAssertEqual(statusCodes(k.take()), [400])
    }

    func testTextEchoAndBytesSentWithTheHandshake() {
        let d = HTTP1Driver()
        // The first frame arrives in the same packet as the upgrade request.
        d.send(Array((WebSocketSessionTests.upgrade + "\r\n").utf8) + WSFrame.text("hello"))
        let out = d.output
        d.output = []
        let headEnd = String(decoding: out, as: UTF8.self).range(of: "\r\n\r\n")!.upperBound.utf16Offset(in: String(decoding: out, as: UTF8.self))
        let fs = WSFrame.parse(Array(out[headEnd...]))
        XCTAssertEqual(fs.map(\.text), ["hello"])
        XCTAssertEqual(fs.first?.masked, false, "server frames are not masked")
        XCTAssertEqual(d.app.wsMessages, ["hello"])
    }

    func testFragmentedMessageIsReassembled() {
        let d = upgraded()
        d.send(WSFrame.text("hel", fin: false) + WSFrame.client(opcode: 9, Array("ping!".utf8))   // a ping between fragments
               + WSFrame.client(opcode: 0, Array("lo".utf8), fin: false) + WSFrame.client(opcode: 0, Array(" you".utf8)))
        let fs = frames(d)
        XCTAssertEqual(d.app.wsMessages, ["hello you"])
        XCTAssertTrue(fs.contains { $0.opcode == 0xa && $0.text == "ping!" }, "the ping is answered with a pong")
        XCTAssertTrue(fs.contains { $0.opcode == 1 && $0.text == "hello you" })
    }

    func testBinaryEcho() {
        let d = upgraded()
        d.send(WSFrame.client(opcode: 2, [0, 1, 2, 255]))
        XCTAssertEqual(frames(d).first, WSFrame.Parsed(fin: true, opcode: 2, masked: false, payload: [0, 1, 2, 255]))
    }

    func testUnmaskedClientFrameIsProtocolError1002() {
        let d = upgraded()
        d.send(WSFrame.client(opcode: 1, Array("x".utf8), masked: false))
        let fs = frames(d)
        XCTAssertEqual(fs.last?.closeCode, 1002)
        XCTAssertTrue(d.app.wsMessages.isEmpty)
        XCTAssertEqual(d.app.wsClosed.first?.0, 1002)
    }

    func testInvalidUTF8Is1007() {
        let d = upgraded()
        d.send(WSFrame.client(opcode: 1, [0x68, 0xc3, 0x28]))
        XCTAssertEqual(frames(d).last?.closeCode, 1007)
        XCTAssertTrue(d.app.wsMessages.isEmpty)
        XCTAssertEqual(d.app.wsClosed.first?.0, 1007)
    }

    func testOversizeMessageIs1009() {
        var cfg = HTTPServerConfiguration()
        cfg.webSocket.maxMessageBytes = 1000
        let d = upgraded(configuration: cfg)
        // Two fragments of 600 bytes: each under the limit, together over it.
        d.send(WSFrame.client(opcode: 2, [UInt8](repeating: 1, count: 600), fin: false)
               + WSFrame.client(opcode: 0, [UInt8](repeating: 1, count: 600)))
        XCTAssertEqual(frames(d).last?.closeCode, 1009)
        XCTAssertTrue(d.app.wsMessages.isEmpty)
    }

    func testDefaultMessageLimitIs4MiB() {
        XCTAssertEqual(WebSocketConfiguration().maxMessageBytes, 4 * 1024 * 1024)
        let d = upgraded()
        d.send(WSFrame.client(opcode: 2, [UInt8](repeating: 7, count: 4 * 1024 * 1024)))
        XCTAssertEqual(d.app.wsMessages, ["binary 4194304"])
        _ = frames(d)
        d.send(WSFrame.client(opcode: 2, [UInt8](repeating: 7, count: 4 * 1024 * 1024 + 1)))
        XCTAssertEqual(frames(d).last?.closeCode, 1009)
    }

    func testClientCloseIsAnsweredAndReported() {
        let d = upgraded()
        d.send(WSFrame.close(1000, "bye"))
        let fs = frames(d)
        XCTAssertEqual(fs.last?.closeCode, 1000)
        XCTAssertEqual(d.app.wsClosed.first?.0, 1000)
        XCTAssertFalse(d.session.isAlive, "closing handshake done: the server closes TCP")
    }

    func testServerCloseWith1000WaitsForThePeer() {
        let d = upgraded()
        d.send(WSFrame.text("bye"))
        let fs = frames(d)
        XCTAssertEqual(fs.last?.closeCode, 1000)
        XCTAssertEqual(fs.last.map { String(decoding: $0.payload.dropFirst(2), as: UTF8.self) }, "done")
        XCTAssertTrue(d.session.isAlive, "waits for the peer's close frame")
        d.send(WSFrame.close(1000))
        XCTAssertFalse(d.session.isAlive)
        XCTAssertEqual(d.app.wsClosed.count, 1, "closed is reported once")
    }

    func testServerCloseGivesUpAfterCloseWait() {
        var cfg = HTTPServerConfiguration()
        cfg.webSocket.closeWaitNanos = 1000
        let d = upgraded(configuration: cfg)
        d.send(WSFrame.text("bye"))
        _ = frames(d)
        guard let deadline = d.session.nextDeadline else { return XCTFail() }
        d.session.deadlineReached(now: deadline)
        XCTAssertFalse(d.session.isAlive)
    }

    func testPingEveryIntervalAndCloseWithoutPong() {
        var cfg = HTTPServerConfiguration()
        cfg.webSocket.pingIntervalNanos = 1_000_000
        cfg.webSocket.pongWaitNanos = 500_000
        let d = upgraded(configuration: cfg)
        guard let pingAt = d.session.nextDeadline else { return XCTFail("a ping is scheduled") }
        d.session.deadlineReached(now: pingAt)
        var fs = frames(d)
        XCTAssertEqual(fs.map(\.opcode), [9])
        XCTAssertEqual(fs.first?.text, "are you there?")
        // A pong in time keeps the connection.
        d.send(WSFrame.client(opcode: 0xa, Array("are you there?".utf8)))
        d.session.deadlineReached(now: pingAt + 600_000)
        XCTAssertTrue(d.session.isAlive)
        XCTAssertTrue(frames(d).isEmpty)
        // The next ping goes unanswered: the connection ends.
        guard let next = d.session.nextDeadline else { return XCTFail() }
        d.session.deadlineReached(now: next)
        fs = frames(d)
        XCTAssertEqual(fs.map(\.opcode), [9])
        guard let due = d.session.nextDeadline else { return XCTFail("a pong deadline") }
        d.session.deadlineReached(now: due)
        fs = frames(d)
        XCTAssertEqual(fs.last?.closeCode, 1011)
        XCTAssertEqual(d.app.wsClosed.first?.1, "pong timeout")
        // The peer gets `closeWait` to answer the close frame, then the connection ends.
        guard let end = d.session.nextDeadline else { return XCTFail("a close wait") }
        d.session.deadlineReached(now: end)
        XCTAssertFalse(d.session.isAlive)
    }

    func testCloseAfterQueuedMessagesSendsThemFirst() {
        let d = upgraded()
        let ch = d.app.channels[0]
        for i in 0..<5 { ch.send(text: "m\(i)") }
        ch.close(code: 1000, reason: "end")
        XCTAssertFalse(ch.send(text: "late"), "nothing after close")
        let fs = frames(d)
        XCTAssertEqual(fs.map(\.opcode), [1, 1, 1, 1, 1, 8])
        XCTAssertEqual(fs.prefix(5).map(\.text), ["m0", "m1", "m2", "m3", "m4"])
        XCTAssertEqual(fs.last?.closeCode, 1000)
    }

    func testBoundedOutgoingQueueAndWritability() {
        var cfg = HTTPServerConfiguration()
        cfg.responseBufferLimit = 1000
        let d = upgraded(configuration: cfg)
        let ch = d.app.channels[0]
        var writable = 0
        ch.onWritable = { writable += 1 }
        XCTAssertTrue(ch.send(text: String(repeating: "a", count: 400)))
        XCTAssertTrue(ch.send(text: String(repeating: "b", count: 400)))
        XCTAssertFalse(ch.send(text: String(repeating: "c", count: 400)), "over the limit")
        XCTAssertFalse(ch.isWritable)
        d.drain()
        XCTAssertEqual(writable, 1)
        XCTAssertTrue(ch.isWritable)
        XCTAssertEqual(WSFrame.parse(d.output).count, 3, "nothing was dropped")
    }

    func testConnectionLostReports1006() {
        let d = upgraded()
        d.session.connectionClosed()
        XCTAssertEqual(d.app.wsClosed.first?.0, 1006)
        XCTAssertFalse(d.app.channels[0].send(text: "late"))
    }

    func testGarbageAfterUpgradeNeverCrashes() {
        for seed in 0..<50 {
            let d = upgraded()
            var rng = SplitMix(seed: UInt64(seed))
            let junk = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            d.send(junk, chunk: 1 + Int(rng.next() % 17))
            _ = frames(d)
            d.session.connectionClosed()
        }
    }
}

/// A deterministic generator for the garbage tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

extension String {
    /// The upgrade request with version 8 instead of 13.
    func replacingOccurrences13() -> String {
        var s = self
        if let r = s.range(of: "Sec-WebSocket-Version: 13") { s.replaceSubrange(r, with: "Sec-WebSocket-Version: 8") }
        return s
    }
}
