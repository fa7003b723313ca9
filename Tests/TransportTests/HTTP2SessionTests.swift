import Locks
import XCTest
@testable import Transport

/// nghttp2 sessions driven purely by bytes (no socket): a client session talks to a server session.
final class HTTP2SessionTests: XCTestCase {
    func request(_ path: String) -> HTTP2HeaderBlock {
        HTTP2HeaderBlock([(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "x"),
                          ("content-type", "application/grpc")])
    }

    func testRequestResponseWithTrailers() {
        let (server, rec) = answeringServer { r in Array("pong:".utf8) + r.data }
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let s = client.openStream(headers: request("/a/b"), delegate: resp)!
        s.write(Array("ping".utf8))
        s.finish(trailers: nil)
        pump(client, server)

        XCTAssertEqual(rec.streams.count, 1)
        XCTAssertTrue(rec.streams[0].1.headers.contains { $0 == (":path", "/a/b") })
        XCTAssertEqual(String(decoding: resp.data, as: UTF8.self), "pong:ping")
        XCTAssertEqual(resp.headerBlocks, 2, "response headers + trailers")
        XCTAssertTrue(resp.headers.contains { $0 == ("grpc-status", "0") })
        XCTAssertEqual(resp.closedCode, 0)
        XCTAssertEqual(server.activeStreams, 0)
        XCTAssertEqual(client.activeStreams, 0)
    }

    /// Arrays written while earlier bytes wait are queued by reference, in order, across DATA
    /// frames of any size (empty writes in between change nothing), and the writer's (shared)
    /// arrays are never modified.
    func testWritesQueuedBehindBufferedBytesKeepOrderWithoutTouchingTheArrays() {
        let shared = [UInt8](repeating: 0x41, count: 40_000)   // spans DATA frames (16 KiB each)
        let small: [UInt8] = [0x42, 0x43]
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        rec.configure = { _, r in
            r.onRemoteEnded = { s in
                s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
                s.write(shared)
                s.write([])
                s.write(small)
                [UInt8]().withUnsafeBytes { s.write($0) }
                Array("xyz".utf8).withUnsafeBytes { s.write($0) }
                s.write([])
                s.write(shared)
                XCTAssertEqual(s.bufferedBytes, 80_005)
                s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
            }
        }
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let st = client.openStream(headers: request("/chunks"), delegate: resp)!
        st.finish(trailers: nil)
        pump(client, server)
        XCTAssertEqual(resp.data, shared + small + Array("xyz".utf8) + shared)
        XCTAssertEqual(shared, [UInt8](repeating: 0x41, count: 40_000))
        XCTAssertEqual(resp.closedCode, 0)
    }

    func testFlowControlLargeBodyAndWritableCallback() {
        var cfg = HTTP2Configuration()
        cfg.initialWindowSize = 65535
        let server = HTTP2Session(server: true, configuration: cfg)
        let rec = RecordingServer()
        server.delegate = rec
        let big = [UInt8](repeating: 7, count: 3_000_000)
        rec.configure = { stream, r in
            r.onRemoteEnded = { s in
                s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
                s.write(big)
                s.notifyWhenBuffered(atMost: 0)
            }
        }
        final class Finisher: HTTP2StreamDelegate {
            let inner: RecordingStream
            init(_ r: RecordingStream) { inner = r }
            func stream(_ s: HTTP2Stream, header n: UnsafeRawBufferPointer, value v: UnsafeRawBufferPointer) { inner.stream(s, header: n, value: v) }
            func streamHeadersEnded(_ s: HTTP2Stream, endStream: Bool) { inner.streamHeadersEnded(s, endStream: endStream) }
            func stream(_ s: HTTP2Stream, data: UnsafeRawBufferPointer) { inner.stream(s, data: data) }
            func streamRemoteEnded(_ s: HTTP2Stream) { inner.streamRemoteEnded(s) }
            func streamWritable(_ s: HTTP2Stream) {
                inner.streamWritable(s)
                XCTAssertEqual(s.bufferedBytes, 0)
                s.finish(trailers: HTTP2HeaderBlock([("x", "y")]))   // drained: the producer ends the stream
            }
            func streamClosed(_ s: HTTP2Stream, errorCode: UInt32) { inner.streamClosed(s, errorCode: errorCode) }
        }
        var finishers: [Finisher] = []
        let configure = rec.configure!
        rec.configure = { stream, r in
            configure(stream, r)
            let f = Finisher(r); finishers.append(f); stream.delegate = f
        }
        let client = HTTP2Session(server: false, configuration: cfg)
        let resp = RecordingStream()
        let s = client.openStream(headers: request("/big"), delegate: resp)!
        s.finish(trailers: nil)
        pump(client, server, rounds: 500)
        XCTAssertEqual(resp.data.count, big.count)
        XCTAssertEqual(rec.streams[0].1.writable, 1)
        XCTAssertEqual(resp.closedCode, 0)
    }

    /// A fan-out: many streams of one connection get a message at once. nghttp2 is handed them a
    /// batch at a time (`HTTP2Session.resumeBatch`), in the order the messages were written (within
    /// a batch nghttp2 goes by stream id); every stream gets its message and its trailers, and
    /// streams reset before their turn are skipped.
    func testAFanOutIsHandedToNghttp2ABatchAtATimeInTheOrderWritten() {
        let batch = HTTP2Session.resumeBatch
        let run = FanOutRun(streams: 8 * batch + 3, resetting: 3, clientConfiguration: HTTP2Configuration())
        var sent = 0
        run.server.produce { chunk in sent += chunk.count; run.client.receive(chunk) }
        pump(run.client, run.server)
        XCTAssertGreaterThan(sent, run.written.count * run.message.count, "one produce sent the whole burst")
        XCTAssertEqual(run.arrivals.count, run.written.count)
        for k in stride(from: 0, to: run.written.count, by: batch) {
            let end = min(k + batch, run.written.count)
            XCTAssertEqual(Set(run.arrivals[k..<end]), Set(run.written[k..<end]), "batch \(k / batch) in the order written")
        }
        run.checkEveryStreamEnded()
    }

    /// When the peer's connection window shuts in the middle of a fan-out, the streams not yet
    /// handed to nghttp2 wait (the session still wants to write) and go once WINDOW_UPDATE comes.
    func testAFanOutStalledByTheConnectionWindowResumesWithItsUpdate() {
        var cfg = HTTP2Configuration()
        cfg.initialWindowSize = 65535
        cfg.connectionWindowSize = 65535
        let run = FanOutRun(streams: 8 * HTTP2Session.resumeBatch + 3, resetting: 3, clientConfiguration: cfg)
        XCTAssertGreaterThan(run.written.count * run.message.count, 65535)
        var sent = 0
        run.server.produce { chunk in sent += chunk.count; run.client.receive(chunk) }
        XCTAssertLessThan(sent, run.written.count * run.message.count, "the client's 64 KiB window stops the burst")
        XCTAssertTrue(run.server.wantsWrite, "the streams not yet handed over are still owed their data")
        pump(run.client, run.server, rounds: 200)
        XCTAssertEqual(Set(run.arrivals), Set(run.written))
        run.checkEveryStreamEnded()
    }

    /// `n` client streams on one connection whose server answers each with headers, then (once
    /// every response's data provider has been asked and deferred) a 1000-byte message and
    /// trailers written to every stream in a random order; then the server resets the `resetting`
    /// streams written last, while they still wait in the queue for their batch.
    final class FanOutRun {
        final class Call: HTTP2StreamDelegate {
            let index: Int
            let record: (Int) -> Void
            var bytes = 0, trailers = false, closedCode: UInt32?
            init(_ i: Int, _ record: @escaping (Int) -> Void) { index = i; self.record = record }
            func stream(_ s: HTTP2Stream, header n: UnsafeRawBufferPointer, value v: UnsafeRawBufferPointer) {
                if String(decoding: n, as: UTF8.self) == "grpc-status" { trailers = true }
            }
            func streamHeadersEnded(_ s: HTTP2Stream, endStream: Bool) {}
            func stream(_ s: HTTP2Stream, data: UnsafeRawBufferPointer) {
                if bytes == 0 { record(index) }
                bytes += data.count
            }
            func streamRemoteEnded(_ s: HTTP2Stream) {}
            func streamWritable(_ s: HTTP2Stream) {}
            func streamClosed(_ s: HTTP2Stream, errorCode: UInt32) { closedCode = errorCode }
        }
        let message = [UInt8](repeating: 0x5A, count: 1000)
        let server = HTTP2Session(server: true)
        let client: HTTP2Session
        let rec = RecordingServer()
        var calls: [Call] = []
        var arrivals: [Int] = []
        var written: [Int] = []
        var reset: Set<Int> = []

        init(streams n: Int, resetting: Int, clientConfiguration: HTTP2Configuration) {
            client = HTTP2Session(server: false, configuration: clientConfiguration)
            server.delegate = rec
            rec.configure = { _, r in
                r.onRemoteEnded = { s in s.sendHeaders(HTTP2HeaderBlock([(":status", "200")])) }
            }
            for i in 0..<n {
                let c = Call(i) { [unowned self] in self.arrivals.append($0) }
                calls.append(c)
                client.openStream(headers: HTTP2HeaderBlock([(":method", "POST"), (":scheme", "https"),
                                                             (":path", "/fan/\(i)"), (":authority", "x")]),
                                  delegate: c)!.finish(trailers: nil)
            }
            pump(client, server)
            XCTAssertEqual(rec.streams.count, n)
            var order = Array(0..<n)
            var generator = SystemRandomNumberGenerator()
            order.shuffle(using: &generator)
            for i in order {
                let s = rec.streams[i].0
                s.write(message)
                s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
            }
            reset = Set(order.suffix(resetting))
            for i in reset { rec.streams[i].0.reset() }
            written = order.filter { !reset.contains($0) }
        }

        func checkEveryStreamEnded(file: StaticString = #filePath, line: UInt = #line) {
            for (i, c) in calls.enumerated() {
                if reset.contains(i) {
                    XCTAssertEqual(c.bytes, 0, file: file, line: line)
                    XCTAssertEqual(c.closedCode, 8, file: file, line: line)
                } else {
                    XCTAssertEqual(c.bytes, message.count, "stream \(i)", file: file, line: line)
                    XCTAssertTrue(c.trailers, "stream \(i)", file: file, line: line)
                    XCTAssertEqual(c.closedCode, 0, "stream \(i)", file: file, line: line)
                }
            }
            XCTAssertEqual(server.activeStreams, 0, file: file, line: line)
            XCTAssertFalse(server.wantsWrite, file: file, line: line)
        }
    }

    func testGarbageInputIsFatalWithoutCrash() {
        let server = HTTP2Session(server: true)
        let junk: [UInt8] = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        XCTAssertFalse(junk.withUnsafeBytes { server.receive($0) })
        XCTAssertFalse(server.isAlive)
    }

    func testResetCancelsServerStream() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let s = client.openStream(headers: request("/slow"), delegate: resp)!
        pump(client, server)
        XCTAssertEqual(rec.streams.count, 1)
        s.reset(errorCode: 8)
        pump(client, server)
        XCTAssertEqual(rec.streams[0].1.closedCode, 8)
        XCTAssertEqual(server.activeStreams, 0)
    }

    func testGracefulShutdownLetsStreamsFinish() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let s = client.openStream(headers: request("/x"), delegate: resp)!
        s.finish(trailers: nil)
        pump(client, server)
        server.beginGracefulShutdown()
        XCTAssertTrue(rec.drained)
        pump(client, server)
        XCTAssertTrue(server.isAlive, "an open stream keeps the session")
        let st = rec.streams[0].0
        st.respondTrailersOnly(HTTP2HeaderBlock([(":status", "200"), ("grpc-status", "14")]))
        pump(client, server)
        XCTAssertFalse(server.isAlive, "GOAWAY sent and no streams left")
        XCTAssertTrue(resp.headers.contains { $0 == ("grpc-status", "14") })
    }

    func testPingFloodWithoutStreamsEndsSession() {
        var cfg = HTTP2Configuration()
        cfg.maxPingStrikes = 2
        let server = HTTP2Session(server: true, configuration: cfg)
        let client = HTTP2Session(server: false)
        pump(client, server)
        for _ in 0..<5 { client.sendPing(); pump(client, server) }
        XCTAssertTrue(server.wantsClose)
    }

    func testCloseAllStreamsNotifiesDelegates() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let client = HTTP2Session(server: false)
        _ = client.openStream(headers: request("/1"), delegate: RecordingStream())
        _ = client.openStream(headers: request("/2"), delegate: RecordingStream())
        pump(client, server)
        XCTAssertEqual(server.activeStreams, 2)
        server.closeAllStreams(errorCode: 0)
        XCTAssertEqual(rec.streams.map { $0.1.closedCode }, [0, 0])
        XCTAssertTrue(rec.streams.allSatisfy { $0.0.isClosed })
        XCTAssertFalse(server.isAlive)
        // Later use is harmless.
        rec.streams[0].0.write([1, 2, 3])
        XCTAssertFalse([UInt8](repeating: 0, count: 10).withUnsafeBytes { server.receive($0) })
    }

    /// With `onStreamsToRelease` set, a closed `releaseWhenIdle` stream's delegate hears `streamClosed` at once but
    /// is let go of (`streamReleased`, then dropped) only at `releaseClosedStreams()`; the owner
    /// is told once per batch. Without it, release follows the close at once.
    func testClosedStreamsAreReleasedWhenTheOwnerSays() {
        final class Tracking: HTTP2StreamDelegate {
            var closed = false, released = false
            let onDeinit: () -> Void
            init(onDeinit: @escaping () -> Void) { self.onDeinit = onDeinit }
            deinit { onDeinit() }
            func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {}
            func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) {}
            func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) {}
            func streamRemoteEnded(_ stream: HTTP2Stream) {}
            func streamWritable(_ stream: HTTP2Stream) {}
            func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) { closed = true }
            func streamReleased(_ stream: HTTP2Stream) { released = true }
        }
        // (the owner asks to be told, the streams are marked releaseWhenIdle, a reaper frees them)
        for (handler, marked, reaping) in [(true, true, false), (true, true, true), (true, false, true), (false, true, true)] {
            let deferred = handler && marked
            let (server, _) = answeringServer()
            let client = HTTP2Session(server: false)
            client.reaper = reaping ? Reaper(limit: 16) : nil
            var asked = 0
            if handler { client.onStreamsToRelease = { asked += 1 } }
            let freed = Counter()   // delegates deinit on the reaper's thread
            var calls: [Tracking] = []
            for _ in 0..<3 {
                let t = Tracking(onDeinit: { freed.add() })
                calls.append(t)
                let s = client.openStream(headers: request("/a/b"), delegate: t)!
                s.releaseWhenIdle = marked
                s.finish(trailers: nil)
            }
            weak let probe = calls[0]
            calls.removeAll()   // the streams alone hold their delegates now
            pump(client, server)
            XCTAssertEqual(client.activeStreams, 0)
            if deferred {
                XCTAssertEqual(asked, 1, "one request for the batch")
                XCTAssertEqual(freed.value, 0, "kept until released")
                XCTAssertEqual(probe?.closed, true)
                XCTAssertEqual(probe?.released, false)
                client.releaseClosedStreams()
                if reaping { freed.wait(for: 3) }
            }
            XCTAssertEqual(asked, deferred ? 1 : 0)
            XCTAssertEqual(freed.value, 3, "handler \(handler), marked \(marked), reaping \(reaping)")
            XCTAssertNil(probe)
            if deferred && reaping { XCTAssertEqual(client.reaper?.counts.freed, 3) }
        }
    }

    func testAFullReaperLeavesTheFreeingToTheCaller() {
        let (server, _) = answeringServer()
        let client = HTTP2Session(server: false)
        client.reaper = Reaper(limit: 2)
        client.onStreamsToRelease = {}
        for _ in 0..<3 {
            let s = client.openStream(headers: request("/a/b"), delegate: RecordingStream())!
            s.releaseWhenIdle = true
            s.finish(trailers: nil)
        }
        pump(client, server)
        client.releaseClosedStreams()
        XCTAssertEqual(client.reaper?.counts.waiting, 0, "3 streams exceed the limit of 2: none handed over")
        XCTAssertEqual(client.reaper?.counts.freed, 0)
    }
}

/// A counter bumped on any thread, waited for on the test's.
final class Counter: @unchecked Sendable {
    private let lock = Lock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
    /// Waits (up to 10 s) until the count reaches `target`.
    func wait(for target: Int) {
        let deadline = monotonicNanos() + 10_000_000_000
        while value < target && monotonicNanos() < deadline { usleep(1_000) }
    }
}
