import XCTest
@testable import Transport

/// The same `HTTPApplication` on HTTP/2 streams (an h2 connection of an HTTP listener).
final class HTTP2ApplicationAdapterTests: XCTestCase {
    let loop = EventLoop()
    let app = HTTPTestApplication()

    func pair(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration()) -> (client: HTTP2Session, server: HTTP2Session) {
        loop.adoptCurrentThread()
        let server = HTTP2Session(server: true)
        server.delegate = HTTP2ApplicationAdapter(application: app, configuration: configuration, loop: loop)
        let client = HTTP2Session(server: false)
        return (client, server)
    }

    func request(_ c: HTTP2Session, method: String, path: String, body: [UInt8]?) -> RecordingStream {
        let r = RecordingStream()
        let s = c.openStream(headers: HTTP2HeaderBlock([(":method", method), (":scheme", "https"), (":path", path),
                                                        (":authority", "node"), ("grpc-metadata-macaroon", "0201")]),
                             delegate: r)!
        if let body { body.withUnsafeBytes { s.write($0) } }
        s.finish(trailers: nil)
        return r
    }

    func testUnaryAndStreamedResponses() {
        let (c, s) = pair()
        let echo = request(c, method: "POST", path: "/echo", body: Array("hi there".utf8))
        let stream = request(c, method: "GET", path: "/stream?n=3", body: nil)
        pump(c, s)
        XCTAssertEqual(echo.headers.first { $0.0 == ":status" }?.1, "200")
        XCTAssertEqual(echo.headers.first { $0.0 == "content-length" }?.1, "8")
        XCTAssertEqual(String(decoding: echo.data, as: UTF8.self), "hi there")
        XCTAssertEqual(String(decoding: stream.data, as: UTF8.self), "line 0\nline 1\nline 2\n")
        XCTAssertTrue(stream.remoteEnded)
        let head = app.heads[0]
        XCTAssertEqual(head.version.major, 2)
        XCTAssertEqual(head.headers["Host"], "node")
        XCTAssertEqual(head.headers["Grpc-Metadata-Macaroon"], "0201")
        XCTAssertEqual(head.query, nil)
        XCTAssertEqual(app.heads[1].query, "n=3")
    }

    func testBodyLimitIs413() {
        var cfg = HTTPServerConfiguration()
        cfg.maxBodyBytes = 4
        let (c, s) = pair(cfg)
        let r = request(c, method: "POST", path: "/echo", body: Array("too long".utf8))
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "413")
        XCTAssertEqual(app.events.last, "cancelled /echo")
    }

    func testResetCancelsTheRequest() {
        let (c, s) = pair()
        let r = RecordingStream()
        let st = c.openStream(headers: HTTP2HeaderBlock([(":method", "GET"), (":scheme", "https"), (":path", "/hold"),
                                                         (":authority", "n")]), delegate: r)!
        st.finish(trailers: nil)
        pump(c, s)
        XCTAssertEqual(app.held.count, 1)
        st.reset(errorCode: 8)
        pump(c, s)
        XCTAssertEqual(app.events.last, "cancelled /hold")
        XCTAssertFalse(app.held[0].isWritable)
    }

    func testAcceptingAWebSocketOnAPlainRequestIs400() {
        let (c, s) = pair()
        let r = request(c, method: "GET", path: "/hold", body: nil)
        pump(c, s)
        XCTAssertNil(app.held[0].acceptWebSocket(subprotocol: nil, handler: HTTPTestApplication.Echo(app: app)))
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "400")
    }

    /// A server session of an HTTP listener (extended CONNECT on) and a client.
    func webSocketPair() -> (client: HTTP2Session, server: HTTP2Session) {
        loop.adoptCurrentThread()
        let server = HTTP2Session(server: true, configuration: .httpListener)
        server.delegate = HTTP2ApplicationAdapter(application: app, configuration: HTTPServerConfiguration(), loop: loop)
        return (HTTP2Session(server: false), server)
    }

    /// Opens `CONNECT /ws` with `:protocol websocket` (RFC 8441 §4) and the given extra fields.
    func openWebSocket(_ c: HTTP2Session, _ r: RecordingStream, _ extra: [(String, String)] = [("sec-websocket-version", "13")]) -> HTTP2Stream {
        c.openStream(headers: HTTP2HeaderBlock([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                                (":path", "/ws"), (":authority", "node")] + extra), delegate: r)!
    }

    /// RFC 8441: an extended CONNECT opens a WebSocket on the stream; frames go both ways as DATA,
    /// and the closing handshake ends the stream with END_STREAM.
    func testWebSocketOverExtendedConnect() {
        let (c, s) = webSocketPair()
        let r = RecordingStream()
        let st = openWebSocket(c, r, [("sec-websocket-version", "13"), ("sec-websocket-protocol", "chat, x")])
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "200")
        XCTAssertEqual(r.headers.first { $0.0 == "sec-websocket-protocol" }?.1, "chat")
        XCTAssertNil(r.headers.first { $0.0 == "content-length" })
        XCTAssertTrue(app.heads[0].isWebSocketUpgrade)
        XCTAssertEqual(app.heads[0].connectProtocol, "websocket")
        st.write(WSFrame.text("hello") + WSFrame.client(opcode: 2, [1, 2, 3]))
        pump(c, s)
        XCTAssertEqual(app.wsMessages, ["hello", "binary 3"])
        let frames = WSFrame.parse(r.data)
        XCTAssertEqual(frames.map { $0.opcode }, [1, 2])
        XCTAssertEqual(frames.first?.payload, Array("hello".utf8))
        // The application closes: close frame, the client answers, END_STREAM.
        st.write(WSFrame.text("bye"))
        pump(c, s)
        XCTAssertEqual(WSFrame.parse(r.data).last?.opcode, 8)
        XCTAssertFalse(r.remoteEnded, "the stream stays open until the client's close frame")
        st.write(WSFrame.close(1000))
        st.finish(trailers: nil)
        pump(c, s)
        XCTAssertTrue(r.remoteEnded)
        XCTAssertEqual(r.closedCode, 0)
        XCTAssertEqual(app.wsClosed.first?.0, 1000)
    }

    func testWebSocketStreamResetIsALostConnection() {
        let (c, s) = webSocketPair()
        let r = RecordingStream()
        let st = openWebSocket(c, r)
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "200")
        st.reset(errorCode: 8)
        pump(c, s)
        XCTAssertEqual(app.wsClosed.first?.0, 1006)
        XCTAssertFalse(app.channels[0].send(text: "late"))
    }

    func testEndStreamWithoutACloseFrameIsALostConnection() {
        let (c, s) = webSocketPair()
        let r = RecordingStream()
        let st = openWebSocket(c, r)
        pump(c, s)
        st.finish(trailers: nil)
        pump(c, s)
        XCTAssertEqual(app.wsClosed.first?.0, 1006)
        XCTAssertEqual(r.closedCode, 8, "the server resets the stream (CANCEL)")
    }

    /// A WebSocket's bridge (`HTTP2WebSocketStream`, whose ping timer holds it strongly) is freed
    /// once its stream is over: after the closing handshake, and after a reset.
    func testAnEndedWebSocketLetsGoOfItsBridge() {
        let (c, s) = webSocketPair()
        let adapter = s.delegate as! HTTP2ApplicationAdapter
        let orderly = RecordingStream(), reset = RecordingStream()
        let st1 = openWebSocket(c, orderly), st2 = openWebSocket(c, reset)
        pump(c, s)
        XCTAssertEqual(adapter.webSockets.open.count, 2)
        weak let first = adapter.webSockets.open.values.first { $0.stream.id == st1.id }
        weak let second = adapter.webSockets.open.values.first { $0.stream.id == st2.id }
        XCTAssertNotNil(first); XCTAssertNotNil(second)
        st1.write(WSFrame.text("bye"))     // the test application closes on "bye"
        pump(c, s)
        st1.write(WSFrame.close(1000))
        st1.finish(trailers: nil)
        st2.reset(errorCode: 8)
        pump(c, s)
        s.releaseClosedStreams()
        XCTAssertEqual(adapter.webSockets.open.count, 0)
        XCTAssertNil(first, "the closed WebSocket's bridge is still alive")
        XCTAssertNil(second, "the reset WebSocket's bridge is still alive")
    }

    func testExtendedConnectWithoutVersion13Is426() {
        let (c, s) = webSocketPair()
        let r = RecordingStream()
        _ = openWebSocket(c, r, [("sec-websocket-version", "8")])
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "426")
        XCTAssertEqual(r.headers.first { $0.0 == "sec-websocket-version" }?.1, "13")
    }
}

extension HTTP2ApplicationAdapterTests {
    func testDrainClosesWebSocketsWith1001() {
        let (c, s) = webSocketPair()
        let r = RecordingStream()
        let st = openWebSocket(c, r)
        pump(c, s)
        s.beginGracefulShutdown()
        pump(c, s)
        XCTAssertEqual(WSFrame.parse(r.data).last?.closeCode, 1001)
        XCTAssertEqual(app.wsClosed.first?.0, 1001)
        st.write(WSFrame.close(1001))
        st.finish(trailers: nil)
        pump(c, s)
        XCTAssertEqual(r.closedCode, 0, "closing handshake, then both sides ended the stream")
    }
}
