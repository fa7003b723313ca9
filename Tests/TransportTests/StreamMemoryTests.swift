import XCTest
@testable import Transport

/// Memory bounds of idle streams and of one `produce` pass (what a long-lived server stream keeps).
final class StreamMemoryTests: XCTestCase {
    func request(_ path: String) -> HTTP2HeaderBlock {
        HTTP2HeaderBlock([(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "x"),
                          ("content-type", "application/grpc")])
    }

    /// A server stream that sent its message and waits (TrackPaymentV2 between updates) holds no
    /// outbound storage once nghttp2 took the bytes; a later write still works.
    func testDrainedStreamReleasesItsOutboundBuffer() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        var serverStream: HTTP2Stream?
        rec.configure = { _, r in
            r.onRemoteEnded = { s in
                serverStream = s
                s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
                s.reserveCapacity(4096)
                s.write([UInt8](repeating: 1, count: 3000))
            }
        }
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let c = client.openStream(headers: request("/a/b"), delegate: resp)!
        c.finish(trailers: nil)
        pump(client, server)

        guard let s = serverStream else { return XCTFail("no server stream") }
        XCTAssertEqual(resp.data.count, 3000)
        XCTAssertEqual(s.bufferedBytes, 0)
        XCTAssertEqual(s.outbound.capacity, 0, "a drained stream keeps no outbound capacity")

        s.write([2, 3])
        s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
        pump(client, server)
        XCTAssertEqual(resp.data.suffix(2), [2, 3])
        XCTAssertEqual(resp.closedCode, 0)
    }

    /// One array written to many streams is queued on each by reference (no copy per stream), the
    /// caller's array is never modified (a later write copies), and every peer gets the bytes.
    func testSharedArrayIsQueuedByReference() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let shared = [UInt8]((0..<300).map { UInt8(truncatingIfNeeded: $0) })
        var streams: [HTTP2Stream] = []
        rec.configure = { _, r in
            r.onRemoteEnded = { s in streams.append(s); s.sendHeaders(HTTP2HeaderBlock([(":status", "200")])) }
        }
        let client = HTTP2Session(server: false)
        let responses = (0..<3).map { _ in RecordingStream() }
        for r in responses { client.openStream(headers: request("/a/b"), delegate: r)!.finish(trailers: nil) }
        pump(client, server)
        XCTAssertEqual(streams.count, 3)
        let base = shared.withUnsafeBufferPointer { $0.baseAddress }
        for s in streams { s.write(shared) }
        for s in streams {
            XCTAssertEqual(s.outbound.withUnsafeBufferPointer { $0.baseAddress }, base, "queued by reference")
        }
        streams[0].write([7, 7])   // appends to a copy, not to `shared`
        XCTAssertEqual(shared.count, 300)
        XCTAssertEqual(streams[0].bufferedBytes, 302)
        for s in streams { s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")])) }
        pump(client, server)
        let bodies = Set(responses.map(\.data))
        XCTAssertEqual(bodies, [shared + [7, 7], shared])
        XCTAssertEqual(responses.map(\.closedCode), [0, 0, 0])
        for s in streams { XCTAssertEqual(s.outbound.capacity, 0, "released once taken") }
    }

    /// `produceWhile` stops asking nghttp2 for frames once the sink says so; the rest comes on
    /// the next call, nothing is lost.
    func testProduceWhileStopsAndResumes() {
        let server = HTTP2Session(server: true)
        let rec = RecordingServer()
        server.delegate = rec
        let body = [UInt8]((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        rec.configure = { _, r in
            r.onRemoteEnded = { s in
                s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
                s.write(body)
                s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
            }
        }
        let client = HTTP2Session(server: false)
        let resp = RecordingStream()
        let c = client.openStream(headers: request("/a/b"), delegate: resp)!
        c.finish(trailers: nil)
        var calls = 0
        for _ in 0..<200 {
            var moved = false
            _ = client.produce { moved = true; _ = server.receive($0) }
            // Take one chunk per pass: the sink refuses more after the first.
            var taken = 0
            let ok = server.produceWhile { chunk in
                moved = true; taken += 1
                _ = client.receive(chunk)
                return false
            }
            XCTAssertTrue(ok)
            XCTAssertLessThanOrEqual(taken, 1)
            calls += taken
            if !moved { break }
        }
        XCTAssertGreaterThan(calls, 3, "the response took several bounded passes")
        XCTAssertEqual(resp.data, body)
        XCTAssertEqual(resp.closedCode, 0)
    }
}
