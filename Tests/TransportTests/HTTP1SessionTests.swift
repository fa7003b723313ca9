import XCTest
@testable import Transport

final class HTTP1SessionTests: XCTestCase {
    func testSimpleRequestKeepAlive() {
        let d = HTTP1Driver()
        XCTAssertTrue(d.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"))
        let out = d.take()
        XCTAssertTrue(out.hasPrefix("HTTP/1.1 200 OK\r\n"), out)
        XCTAssertTrue(out.contains("Content-Length: 5\r\n"))
        XCTAssertTrue(out.hasSuffix("\r\n\r\nhello"))
        XCTAssertFalse(out.contains("Connection: close"))
        XCTAssertTrue(d.session.isAlive)
        // The same connection serves a second request.
        d.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertTrue(d.take().hasSuffix("\r\n\r\nok"))
        XCTAssertEqual(d.app.heads.count, 2)
        XCTAssertEqual(d.app.heads[0].headers["host"], "x")
    }

    func testHeadParsingPathQueryAndCaseInsensitiveLookup() {
        let d = HTTP1Driver()
        d.send("GET /v2/router/track/abc%2Fd?method=GET&x=a+b HTTP/1.1\r\nGrpc-Metadata-MACAROON: 0201\r\n\r\n")
        let h = d.app.heads[0]
        XCTAssertEqual(h.path, "/v2/router/track/abc%2Fd")
        XCTAssertEqual(h.query, "method=GET&x=a+b")
        XCTAssertEqual(h.queryItems.map { $0.value }, ["GET", "a b"])
        XCTAssertEqual(h.headers["grpc-metadata-macaroon"], "0201")
        XCTAssertEqual(h.version.major, 1); XCTAssertEqual(h.version.minor, 1)
    }

    func testByteByByteFeeding() {
        let d = HTTP1Driver()
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", chunk: 1)
        XCTAssertTrue(d.take().hasSuffix("\r\n\r\nabc"))
    }

    func testPipeliningAnsweredInOrder() {
        let d = HTTP1Driver()
        // Three requests in one write: the first is held, the others answer at once.
        d.send("GET /hold HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nA" +
               "POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nB")
        XCTAssertEqual(d.app.heads.count, 3, "all three parsed and handed to the application")
        XCTAssertEqual(d.take(), "", "nothing may overtake the held first response")
        d.app.held[0].respond(status: 202, headers: HTTPHeaders(), body: Array("first".utf8))
        d.drain()
        let out = d.take()
        XCTAssertEqual(statusCodes(out), [202, 200, 200])
        let first = out.range(of: "first")!.lowerBound, a = out.range(of: "\r\n\r\nA")!.lowerBound
        let b = out.range(of: "\r\n\r\nB")!.lowerBound
        XCTAssertTrue(first < a && a < b)
    }

    func testPipelineBoundPausesInput() {
        var cfg = HTTPServerConfiguration()
        cfg.maxPipelinedRequests = 2
        let d = HTTP1Driver(configuration: cfg)
        let req = "GET /hold HTTP/1.1\r\n\r\n"
        d.send(Array(String(repeating: req, count: 5).utf8))
        XCTAssertEqual(d.app.heads.count, 2, "parsing stops at the bound")
        XCTAssertFalse(d.session.wantsInput)
        d.app.held[0].respond(status: 200, headers: HTTPHeaders(), body: [])
        d.drain()
        XCTAssertEqual(d.app.heads.count, 3, "one answered: one more parsed from what was received")
        for i in 1..<3 { d.app.held[i].respond(status: 200, headers: HTTPHeaders(), body: []); d.drain() }
        XCTAssertEqual(d.app.heads.count, 5)
        XCTAssertEqual(statusCodes(d.take()).count, 3)
    }

    func testChunkedRequestAndChunkedResponse() {
        let d = HTTP1Driver()
        d.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n")
        XCTAssertTrue(d.take().hasSuffix("Content-Length: 5\r\n" .isEmpty ? "" : "\r\n\r\nabcde"))
        d.send("GET /stream?n=2 HTTP/1.1\r\n\r\n")
        let out = d.take()
        XCTAssertTrue(out.contains("Transfer-Encoding: chunked\r\n"), out)
        XCTAssertFalse(out.contains("Content-Length"))
        XCTAssertTrue(out.hasSuffix("\r\n\r\n7\r\nline 0\n\r\n7\r\nline 1\n\r\n0\r\n\r\n"), out)
    }

    func testHeadRequestHasLengthButNoBody() {
        let d = HTTP1Driver()
        d.send("HEAD /stream?n=2 HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
        let out = d.take()
        XCTAssertFalse(out.contains("line 0"))
        XCTAssertEqual(statusCodes(out), [200, 200])
        XCTAssertTrue(out.hasSuffix("\r\n\r\nhi"))
    }

    func testExpectContinue() {
        let d = HTTP1Driver()
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(d.take(), "HTTP/1.1 100 Continue\r\n\r\n")
        d.send("body")
        let out = d.take()
        XCTAssertTrue(out.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(out.hasSuffix("body"))
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: something-else\r\n\r\n")
        XCTAssertEqual(statusCodes(d.take()), [417])
        XCTAssertTrue(d.closesAfterLinger(), "error answer, lingering close, then closed")
    }

    func testConnectionCloseAndHTTP10() {
        let d = HTTP1Driver()
        d.send("POST /echo HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxGET /echo HTTP/1.1\r\n\r\n")
        let out = d.take()
        XCTAssertTrue(out.contains("Connection: close\r\n"))
        XCTAssertEqual(statusCodes(out), [200], "nothing after Connection: close is served")
        XCTAssertFalse(d.session.isAlive)

        let d10 = HTTP1Driver()
        d10.send("POST /echo HTTP/1.0\r\nContent-Length: 1\r\n\r\ny")
        XCTAssertTrue(d10.take().contains("Connection: close\r\n"))
        XCTAssertFalse(d10.session.isAlive)

        let keep = HTTP1Driver()
        keep.send("POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nz")
        XCTAssertTrue(keep.take().contains("Connection: keep-alive\r\n"))
        XCTAssertTrue(keep.session.isAlive)
        // A streamed answer to HTTP/1.0 is delimited by the end of the connection.
        keep.send("GET /stream?n=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let s = keep.take()
        XCTAssertFalse(s.contains("chunked"))
        XCTAssertTrue(s.hasSuffix("\r\n\r\nline 0\n"))
        XCTAssertFalse(keep.session.isAlive)
    }

    func testRequestsPipelinedAfterAConnectionEndingResponseAreCancelled() {
        let d = HTTP1Driver()
        // An HTTP/1.0 keep-alive request answered with a stream: its body ends with the connection.
        d.send("GET /stream?n=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hold HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(statusCodes(d.take()), [200])
        XCTAssertTrue(d.app.events.contains("cancelled /hold"))
        XCTAssertFalse(d.session.isAlive)
    }

    /// Handler and writer hold each other; the session breaks that once both the response and
    /// the request are over, in whichever order they end, or when the connection ends.
    func testHandlersAreLetGoOf() {
        let d = HTTP1Driver()
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")                 // response after the body
        d.send("POST /early HTTP/1.1\r\nContent-Length: 4\r\n\r\n")                  // response before the body...
        XCTAssertEqual(statusCodes(d.take()), [200, 200])
        d.send("body")                                                                  // ...which ends later
        d.send("GET /stream?n=2 HTTP/1.1\r\n\r\n")
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        d.app.held[0].respond(status: 204, headers: HTTPHeaders(), body: [])
        d.app.held.removeAll()
        d.drain()
        XCTAssertEqual(d.app.handlers.count, 4)
        XCTAssertTrue(d.app.handlers.allSatisfy { $0.handler == nil }, "every finished exchange let go of its handler")
        // The connection ends while a request is open: its handler is let go of too.
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        d.session.connectionClosed()
        XCTAssertTrue(d.app.handlers.allSatisfy { $0.handler == nil })
    }

    func testOversizeHeaderIs431() {
        var cfg = HTTPServerConfiguration()
        cfg.maxHeaderBytes = 1024
        let d = HTTP1Driver(configuration: cfg)
        d.send("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n")
        let out = d.take()
        XCTAssertEqual(statusCodes(out), [431])
        XCTAssertTrue(out.contains("Connection: close"))
        XCTAssertTrue(d.closesAfterLinger(), "error answer, lingering close, then closed")
        XCTAssertTrue(d.app.heads.isEmpty)
        // Also when the head arrives in small pieces, and with many small fields.
        let d2 = HTTP1Driver(configuration: cfg)
        d2.send("GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 400), chunk: 7)
        XCTAssertEqual(statusCodes(d2.take()), [431])
    }

    func testDefaultHeaderLimitIs16KiB() {
        let d = HTTP1Driver()
        d.send("GET /echo HTTP/1.1\r\nX: " + String(repeating: "a", count: 15_000) + "\r\n\r\n")
        XCTAssertEqual(statusCodes(d.take()), [200])
        d.send("GET /echo HTTP/1.1\r\nX: " + String(repeating: "a", count: 17_000) + "\r\n\r\n")
        XCTAssertEqual(statusCodes(d.take()), [431])
    }

    func testOversizeBodyIs413() {
        var cfg = HTTPServerConfiguration()
        cfg.maxBodyBytes = 10
        // Announced by Content-Length: refused before any body byte.
        let d = HTTP1Driver(configuration: cfg)
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
        XCTAssertEqual(statusCodes(d.take()), [413])
        XCTAssertTrue(d.closesAfterLinger(), "error answer, lingering close, then closed")
        XCTAssertTrue(d.app.heads.isEmpty)
        // Chunked: found while reading; the handler is cancelled and the answer is 413.
        let c = HTTP1Driver(configuration: cfg)
        c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n")
        XCTAssertEqual(statusCodes(c.take()), [413])
        XCTAssertEqual(c.app.events.last, "cancelled /echo")
        XCTAssertTrue(c.closesAfterLinger(), "error answer, lingering close, then closed")
        // At the limit it is fine.
        let ok = HTTP1Driver(configuration: cfg)
        ok.send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789")
        XCTAssertEqual(statusCodes(ok.take()), [200])
    }

    func testGarbageIs400AndClose() {
        for garbage in ["\u{1}\u{2}\u{3}garbage\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /\r\n\r\n",
                        "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "GET http://evil/ HTTP/1.1\r\n\r\n"] {
            let d = HTTP1Driver()
            d.send(garbage)
            XCTAssertEqual(statusCodes(d.take()), [400], garbage)
            XCTAssertTrue(d.closesAfterLinger(), garbage)
        }
    }

    func testErrorAfterPipelinedRequestComesInOrder() {
        let d = HTTP1Driver()
        d.send("GET /hold HTTP/1.1\r\n\r\n\u{1}garbage")
        XCTAssertEqual(d.take(), "")
        d.app.held[0].respond(status: 200, headers: HTTPHeaders(), body: [])
        d.drain()
        XCTAssertEqual(statusCodes(d.take()), [200, 400])
        XCTAssertTrue(d.closesAfterLinger(), "error answer, lingering close, then closed")
    }

    func testSlowHeaderDeadlineIs408() {
        var cfg = HTTPServerConfiguration()
        cfg.headerTimeoutNanos = 1_000
        let d = HTTP1Driver(configuration: cfg)
        d.send("GET / HTTP/1.1\r\nX-Slow: a")
        guard let deadline = d.session.nextDeadline else { return XCTFail("a started head has a deadline") }
        d.session.deadlineReached(now: deadline - 1)
        d.drain()
        XCTAssertEqual(d.take(), "", "not yet")
        d.session.deadlineReached(now: deadline)
        d.drain()
        let out = d.take()
        XCTAssertEqual(statusCodes(out), [408])
        XCTAssertTrue(d.closesAfterLinger(), "error answer, lingering close, then closed")
    }

    func testIdleKeepAliveTimeoutCloses() {
        var cfg = HTTPServerConfiguration()
        cfg.idleTimeoutNanos = 1_000_000
        let d = HTTP1Driver(configuration: cfg)
        d.send("POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        _ = d.take()
        guard let deadline = d.session.nextDeadline else { return XCTFail("an idle connection has a deadline") }
        XCTAssertTrue(d.session.isAlive)
        d.session.deadlineReached(now: deadline)
        XCTAssertFalse(d.session.isAlive)
        XCTAssertEqual(d.take(), "", "closed without a response")
    }

    func testIdleClockStartsWhenTheLastResponseIsSent() {
        var cfg = HTTPServerConfiguration()
        cfg.idleTimeoutNanos = 10_000_000_000
        let d = HTTP1Driver(configuration: cfg)
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        let answeredAt = monotonicNanos()
        d.app.held[0].respond(status: 200, headers: HTTPHeaders(), body: [])
        d.drain()
        guard let deadline = d.session.nextDeadline else { return XCTFail("idle again") }
        XCTAssertGreaterThanOrEqual(deadline, answeredAt + cfg.idleTimeoutNanos,
                                    "a long response does not eat into the next idle period")
    }

    func testNoIdleDeadlineWhileAResponseIsOwed() {
        var cfg = HTTPServerConfiguration()
        cfg.idleTimeoutNanos = 1_000
        let d = HTTP1Driver(configuration: cfg)
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        XCTAssertNil(d.session.nextDeadline)
        d.session.deadlineReached(now: .max / 2)
        XCTAssertTrue(d.session.isAlive)
    }

    func testStreamedResponseBackpressure() {
        var cfg = HTTPServerConfiguration()
        cfg.responseBufferLimit = 300
        let d = HTTP1Driver(configuration: cfg)
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        let w = d.app.held[0]
        var writable = 0
        w.onWritable = { writable += 1 }
        w.writeHead(status: 200, headers: HTTPHeaders())
        XCTAssertTrue(w.isWritable)
        XCTAssertFalse(w.writeBody([UInt8](repeating: 65, count: 400)), "over the limit")
        XCTAssertFalse(w.isWritable)
        // A peer that does not read: the sink refuses more after one chunk.
        _ = d.session.produceWhile { _ in false }
        XCTAssertEqual(writable, 1, "drained below the limit")
        XCTAssertTrue(w.isWritable)
        w.end()
        d.drain()
        XCTAssertTrue(d.take().hasSuffix("0\r\n\r\n"))
    }

    func testConnectionLostCancelsOpenRequests() {
        let d = HTTP1Driver()
        d.send("GET /hold HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        d.session.connectionClosed()
        XCTAssertTrue(d.app.events.contains("cancelled /hold"))
        XCTAssertTrue(d.app.events.contains("cancelled /echo"))
        XCTAssertFalse(d.session.isAlive)
        // Writes after the end are ignored.
        d.app.held[0].respond(status: 200, headers: HTTPHeaders(), body: [1])
        XCTAssertFalse(d.session.receive(UnsafeRawBufferPointer(start: nil, count: 0)))
    }

    func testApplicationHeadersCannotInjectOrOverrideFraming() {
        let d = HTTP1Driver()
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        d.app.held[0].respond(status: 200, headers: HTTPHeaders([("X-Bad", "a\r\nInjected: 1"), ("Content-Length", "999"),
                                                                 ("X-Good", "yes")]), body: [1, 2])
        d.drain()
        let out = d.take()
        XCTAssertFalse(out.contains("Injected"))
        XCTAssertFalse(out.contains("999"))
        XCTAssertTrue(out.contains("X-Good: yes\r\n"))
        XCTAssertTrue(out.contains("Content-Length: 2\r\n"))
    }

    func testGracefulShutdownClosesAfterCurrentResponse() {
        let d = HTTP1Driver()
        d.send("GET /hold HTTP/1.1\r\n\r\n")
        d.session.beginGracefulShutdown()
        XCTAssertTrue(d.session.isAlive)
        d.app.held[0].respond(status: 200, headers: HTTPHeaders(), body: [])
        d.drain()
        XCTAssertTrue(d.take().contains("Connection: close"))
        XCTAssertFalse(d.session.isAlive)
        let idle = HTTP1Driver()
        idle.session.beginGracefulShutdown()
        XCTAssertFalse(idle.session.isAlive)
    }
}
