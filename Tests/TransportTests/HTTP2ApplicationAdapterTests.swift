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

    func testWebSocketIsRefusedWith501() {
        let (c, s) = pair()
        let r = request(c, method: "GET", path: "/hold", body: nil)
        pump(c, s)
        XCTAssertNil(app.held[0].acceptWebSocket(subprotocol: nil, handler: HTTPTestApplication.Echo(app: app)))
        pump(c, s)
        XCTAssertEqual(r.headers.first { $0.0 == ":status" }?.1, "501")
    }
}
