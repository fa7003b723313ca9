import XCTest
import CNghttp2
@testable import Transport

/// Server sessions enforce RFC 9113 §8 request rules themselves (`HTTP2RequestRules`, nghttp2's
/// HTTP messaging is off for them): malformed requests must still be reset with PROTOCOL_ERROR
/// and bad regular fields dropped, exactly as nghttp2 did.
final class HTTP2RequestRulesTests: XCTestCase {
    static let good: [(String, String)] = [(":method", "POST"), (":scheme", "https"), (":path", "/a.B/C"),
                                           (":authority", "x:1"), ("content-type", "application/grpc"),
                                           ("te", "trailers")]

    /// Run every case twice: against our rules and against nghttp2's own HTTP messaging, which
    /// must agree (`send` compares the two outcomes).
    struct Outcome {
        let server: RecordingStream
        let client: RecordingStream
        var rejected: Bool { server.closedCode == 1 && client.closedCode == 1 }
    }

    /// Sends one request (`fields`, optional body and trailers) from a client session to a server
    /// session in memory and records both ends.
    func send(_ fields: [(String, String)], body: [UInt8] = Array("hi".utf8), trailers: [(String, String)]? = nil,
              connectProtocol: Bool = false, line: UInt = #line) -> Outcome {
        let ours = send(fields, body: body, trailers: trailers, library: false, connectProtocol: connectProtocol)
        let library = send(fields, body: body, trailers: trailers, library: true, connectProtocol: connectProtocol)
        XCTAssertEqual(ours.rejected, library.rejected, "our rules and nghttp2's disagree on \(fields)", line: line)
        XCTAssertEqual(ours.server.headers.map { $0.0 }, library.server.headers.map { $0.0 }, "fields passed on", line: line)
        XCTAssertEqual(ours.server.remoteEnded, library.server.remoteEnded, line: line)
        return ours
    }

    func send(_ fields: [(String, String)], body: [UInt8], trailers: [(String, String)]?, library: Bool,
              connectProtocol: Bool) -> Outcome {
        var configuration = HTTP2Configuration()
        configuration.enableConnectProtocol = connectProtocol
        let server = HTTP2Session(server: true, configuration: configuration, libraryHTTPMessaging: library)
        let rec = RecordingServer()
        server.delegate = rec
        rec.configure = { _, r in
            r.onRemoteEnded = { s in
                s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
                s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
            }
        }
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        // No-copy blocks: nghttp2 lowercases names it copies, and these must reach the server as
        // written (uppercase included). They stay alive until the frames are out.
        let block = HTTP2HeaderBlock(fields, isStatic: true)
        let trailerBlock = trailers.map { HTTP2HeaderBlock($0, isStatic: true) }
        let s = client.openStream(headers: block, delegate: resp)!
        s.write(body)
        s.finish(trailers: trailerBlock)
        pump(client, server)
        withExtendedLifetime((block, trailerBlock)) {}
        XCTAssertEqual(rec.streams.count, 1)
        XCTAssertTrue(server.isAlive, "a malformed request is a stream error, not a connection error")
        return Outcome(server: rec.streams[0].1, client: resp)
    }

    func replacing(_ name: String, with value: String?) -> [(String, String)] {
        var f = Self.good.filter { $0.0 != name }
        if let value { f.insert((name, value), at: name.hasPrefix(":") ? 0 : f.count) }
        return f
    }

    func assertRejected(_ fields: [(String, String)], body: [UInt8] = Array("hi".utf8),
                        trailers: [(String, String)]? = nil, connectProtocol: Bool = false, _ why: String, line: UInt = #line) {
        let o = send(fields, body: body, trailers: trailers, connectProtocol: connectProtocol, line: line)
        XCTAssertTrue(o.rejected, "\(why): expected RST_STREAM PROTOCOL_ERROR (server \(String(describing: o.server.closedCode)), client \(String(describing: o.client.closedCode)))", line: line)
        XCTAssertFalse(o.server.remoteEnded, "\(why): the handler must not see a complete request", line: line)
    }

    func testWellFormedRequestPassesWithAllFields() {
        let o = send(Self.good + [("macaroon", String(repeating: "0a1b", count: 160)), ("x-tab", "a\tb"), ("x-utf8", "é")])
        XCTAssertFalse(o.rejected)
        XCTAssertEqual(o.client.closedCode, 0)
        XCTAssertEqual(o.server.headers.count, Self.good.count + 3)
        XCTAssertEqual(String(decoding: o.server.data, as: UTF8.self), "hi")
        XCTAssertTrue(o.client.headers.contains { $0 == ("grpc-status", "0") })
    }

    func testMissingOrBadPseudoHeadersAreRejected() {
        assertRejected(replacing(":path", with: nil), "missing :path")
        assertRejected(replacing(":method", with: nil), "missing :method")
        assertRejected(replacing(":scheme", with: nil), "missing :scheme")
        assertRejected(replacing(":authority", with: nil), "no :authority and no host")
        assertRejected(replacing(":method", with: "PO ST"), "bad :method")
        assertRejected(replacing(":method", with: ""), "empty :method")
        assertRejected(replacing(":path", with: ""), "empty :path")
        assertRejected(replacing(":path", with: "a/b"), ":path not starting with /")
        assertRejected(replacing(":path", with: "/a b"), ":path with a space")
        assertRejected(replacing(":path", with: "*"), "* :path without OPTIONS")
        assertRejected(replacing(":scheme", with: "1http"), "bad :scheme")
        assertRejected(replacing(":authority", with: "a b"), "bad :authority")
        assertRejected(Self.good + [(":path", "/x/y")], "pseudo-header after regular fields")
        assertRejected([(":path", "/x/y")] + Self.good, "repeated :path")
        assertRejected([(":status", "200")] + Self.good, ":status in a request")
        assertRejected([(":protocol", "websocket")] + Self.good, ":protocol (extended CONNECT not enabled)")
        assertRejected([(":foo", "1")] + Self.good, "unknown pseudo-header")
    }

    /// RFC 8441 with SETTINGS_ENABLE_CONNECT_PROTOCOL submitted: `:protocol` on a CONNECT that also
    /// carries `:scheme`, `:path` and `:authority` passes; the other shapes are rejected, as nghttp2
    /// rejects them.
    func testExtendedConnectRules() {
        let ws: [(String, String)] = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                      (":path", "/v2/router/track/x?method=GET"), (":authority", "x:1"),
                                      ("sec-websocket-version", "13")]
        let o = send(ws, connectProtocol: true)
        XCTAssertFalse(o.rejected)
        XCTAssertTrue(o.server.headers.contains { $0 == (":protocol", "websocket") })
        XCTAssertTrue(o.server.remoteEnded)
        // Pseudo-headers in another order pass too (the CONNECT checks wait for the end of the block).
        XCTAssertFalse(send([ws[2], ws[3], ws[4], ws[1], ws[0]], connectProtocol: true).rejected)
        func without(_ name: String) -> [(String, String)] { ws.filter { $0.0 != name } }
        assertRejected(without(":protocol") , connectProtocol: true, "classic CONNECT with :scheme and :path")
        assertRejected(without(":path"), connectProtocol: true, "extended CONNECT without :path")
        assertRejected(without(":scheme"), connectProtocol: true, "extended CONNECT without :scheme")
        assertRejected(without(":authority") + [("host", "x:1")], connectProtocol: true, "extended CONNECT with host, no :authority")
        assertRejected([(":method", "GET")] + without(":method"), connectProtocol: true, ":protocol without CONNECT")
        assertRejected([(":protocol", "websocket")] + ws, connectProtocol: true, "repeated :protocol")
        assertRejected([(":protocol", " ")] + without(":protocol"), connectProtocol: true, "blank :protocol")
        assertRejected(ws, "extended CONNECT while the setting is off")
        // A classic CONNECT (authority only) still passes with the setting on.
        XCTAssertFalse(send([(":method", "CONNECT"), (":authority", "x:1")], connectProtocol: true).rejected)
    }

    func testForbiddenRegularFieldsAreRejected() {
        assertRejected(Self.good + [("Macaroon", "00")], "uppercase name")
        for f in ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"] {
            assertRejected(Self.good + [(f, "x")], "connection-specific \(f)")
        }
        assertRejected(replacing("te", with: "gzip"), "te other than trailers")
        assertRejected(Self.good + [("host", "a"), ("host", "b")], "repeated host")
        assertRejected(Self.good + [("content-length", "1x")], "bad content-length")
        assertRejected(Self.good + [("content-length", "2"), ("content-length", "2")], "repeated content-length")
    }

    func testContentLengthMustMatchTheBody() {
        assertRejected(Self.good + [("content-length", "5")], body: Array("hi".utf8), "body shorter than content-length")
        assertRejected(Self.good + [("content-length", "1")], body: Array("hi".utf8), "body longer than content-length")
        let o = send(Self.good + [("content-length", "2")], body: Array("hi".utf8))
        XCTAssertFalse(o.rejected)
        XCTAssertTrue(o.server.remoteEnded)
    }

    func testTrailersMayNotCarryPseudoHeaders() {
        assertRejected(Self.good, trailers: [(":path", "/x/y")], "pseudo-header in trailers")
        let o = send(Self.good, trailers: [("x-trailer", "1")])
        XCTAssertFalse(o.rejected)
        XCTAssertEqual(o.server.headerBlocks, 2)
        XCTAssertTrue(o.server.remoteEnded)
    }

    func testBadRegularNamesAndValuesAreRejected() {
        for bad in ["a\rb", "a\nb", "a\u{0}b", "a\u{7f}b", " lead", "trail\t", "a\u{1}b",
                    String(repeating: "0123456789abcdef", count: 40) + "\n"] {
            assertRejected(Self.good + [("x-bad", bad), ("x-ok", "1")], "value \(bad.debugDescription)")
        }
        assertRejected(Self.good + [("x(bad", "1")], "name outside the token set")
        assertRejected(Self.good + [("", "1")], "empty name")
        let o = send(Self.good + [("x-empty", "")])
        XCTAssertFalse(o.rejected, "an empty value is valid")
    }

    /// A long value validated once is remembered per session (one memcmp next time); a value of the
    /// same length with one bad byte, on the same connection, must still be rejected.
    func testRememberedLongValuesDoNotLetBadOnesThrough() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let client = HTTP2Session(server: false)
        let long = String(repeating: "0a1b2c3d", count: 80)
        var bad = Array(long.utf8); bad[300] = 0x0A
        let values = [long, long, String(decoding: bad, as: UTF8.self), long + "e", long]
        var clients: [RecordingStream] = []
        for v in values {
            let r = RecordingStream()
            let s = client.openStream(headers: HTTP2HeaderBlock(Self.good + [("macaroon", v)]), delegate: r)!
            s.write(Array("hi".utf8))
            s.finish(trailers: nil)
            clients.append(r)
            pump(client, server)
        }
        XCTAssertEqual(rec.streams.map { $0.1.closedCode == 1 }, [false, false, true, false, false])
        XCTAssertEqual(rec.streams.map { $0.1.remoteEnded }, [true, true, false, true, true])
    }

    /// The sixteen-bytes-per-step value check agrees with nghttp2's own on every length and position.
    func testFieldValueCheckMatchesNghttp2() {
        var rng = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x01, 0x08, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x41, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        for len in 0..<40 {
            for _ in 0..<400 {
                var v = (0..<len).map { _ in UInt8(ascii: "a") + UInt8.random(in: 0..<26, using: &rng) }
                for _ in 0..<Int.random(in: 0...2, using: &rng) where len > 0 {
                    v[Int.random(in: 0..<len, using: &rng)] = interesting.randomElement(using: &rng)!
                }
                let ours = v.withUnsafeBytes { HTTP2RequestRules.isValidFieldValue($0) }
                let theirs = v.withUnsafeBufferPointer { nghttp2_check_header_value_rfc9113($0.baseAddress, $0.count) != 0 }
                XCTAssertEqual(ours, theirs, "value \(v)")
            }
        }
    }
}
