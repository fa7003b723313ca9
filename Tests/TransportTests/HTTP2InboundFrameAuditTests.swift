@testable import Transport
import XCTest

/// RFC 9113 §6.3 / §5.3.1 checks of PRIORITY frames (nghttp2 skips them without RFC 7540 priorities).
final class HTTP2InboundFrameAuditTests: XCTestCase {
    let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    func frame(_ type: UInt8, stream: UInt32, _ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    func priority(stream: UInt32, dependsOn d: UInt32) -> [UInt8] {
        frame(0x2, stream: stream, [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF), 15])
    }

    /// Feeds `bytes` in chunks of `chunk` octets; the first action that is not proceed, with the
    /// offset made absolute.
    func run(_ bytes: [UInt8], chunk: Int) -> HTTP2InboundFrameAudit.Action {
        var audit = HTTP2InboundFrameAudit()
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            let action = bytes[start..<end].withUnsafeBytes { audit.scan($0) }
            if case .connectionError(let offset, let code, let reason) = action {
                return .connectionError(offset: start + offset, code: code, reason: reason)
            }
            start = end
        }
        return .proceed
    }

    func testValidTrafficPassesWhateverTheChunking() {
        let settings = frame(0x4, stream: 0, [0, 3, 0, 0, 0, 100])
        let bytes = preface + settings + frame(0x1, stream: 1, Array(repeating: 0x82, count: 40), flags: 0x4)
            + priority(stream: 3, dependsOn: 1) + frame(0x0, stream: 1, Array(repeating: 0, count: 70_000 & 0x3FFF), flags: 1)
            + frame(0x6, stream: 0, Array(repeating: 7, count: 8)) + frame(0x2, stream: 5, [0, 0, 0, 5])  // short PRIORITY: nghttp2's
        for chunk in [1, 2, 5, 9, 10, 24, 100, bytes.count] {
            XCTAssertEqual(run(bytes, chunk: chunk), .proceed, "chunk \(chunk)")
        }
    }

    func testPriorityOnStreamZeroIsAConnectionError() {
        let head = preface + frame(0x4, stream: 0, [])
        let bytes = head + priority(stream: 0, dependsOn: 1)
        for chunk in [1, 3, 7, 33, bytes.count] {
            // What is processed before the GOAWAY ends where the bad frame begins, or where the
            // chunk that completes its header begins when the frame began in an earlier chunk.
            let lastChunkStart = (head.count + 8) / chunk * chunk
            XCTAssertEqual(run(bytes, chunk: chunk), .connectionError(offset: max(head.count, lastChunkStart), code: 1,
                                                                       reason: "PRIORITY: stream_id == 0"), "chunk \(chunk)")
        }
    }

    func testPriorityDependingOnItselfIsAnError() {
        let head = preface + frame(0x4, stream: 0, []) + priority(stream: 3, dependsOn: 1)
        let bytes = head + priority(stream: 7, dependsOn: 7 | 0x8000_0000)  // exclusive bit set: still itself
        for chunk in [1, 4, 11, bytes.count] {
            guard case .connectionError(_, 1, "PRIORITY: depend on itself") = run(bytes, chunk: chunk) else {
                return XCTFail("chunk \(chunk)")
            }
        }
        XCTAssertEqual(run(bytes, chunk: bytes.count), .connectionError(offset: head.count, code: 1, reason: "PRIORITY: depend on itself"))
    }

    func testServerSessionAnswersWithGoaway() {
        let server = HTTP2Session(server: true)
        let bytes = preface + frame(0x4, stream: 0, []) + priority(stream: 0, dependsOn: 3)
        XCTAssertFalse(bytes.withUnsafeBytes { server.receive($0) })
        var out: [UInt8] = []
        server.produce { out.append(contentsOf: $0) }
        // Somewhere in the output: a GOAWAY frame (type 7) with error code PROTOCOL_ERROR.
        var i = 0, found = false
        while i + 9 <= out.count {
            let len = Int(out[i]) << 16 | Int(out[i + 1]) << 8 | Int(out[i + 2])
            if out[i + 3] == 0x7, len >= 8, out[i + 9 + 4..<i + 9 + 8] == [0, 0, 0, 1] { found = true }
            i += 9 + len
        }
        XCTAssertTrue(found, "no GOAWAY PROTOCOL_ERROR in \(out)")
        XCTAssertTrue(server.wantsClose)
    }
}

extension HTTP2InboundFrameAuditTests {
    func headers(_ stream: UInt32) -> [UInt8] { frame(0x1, stream: stream, [0x82], flags: 0x5) }

    func testHeadersOnASkippedStreamIsAConnectionError() {
        let head = preface + headers(5)
        XCTAssertEqual(run(head + headers(3), chunk: 1000), .connectionError(offset: head.count, code: 1,
                                                                             reason: "HEADERS: stream id of a skipped (closed) stream"))
        XCTAssertNotEqual(run(preface + headers(9) + headers(1), chunk: 3), .proceed)
    }

    func testHeadersOnStreamsOpenedBeforeAreLeftToNghttp2() {
        // Consecutive streams (gRPC), then trailers-like HEADERS on earlier ones: not ours to judge.
        XCTAssertEqual(run(preface + headers(1) + headers(3) + headers(5) + headers(3) + headers(1), chunk: 7), .proceed)
        // A gap, then the streams around it.
        XCTAssertEqual(run(preface + headers(1) + headers(7) + headers(1) + headers(7) + headers(9), chunk: 1000), .proceed)
    }

    func testOnlyTheNewestGapsAreRemembered() {
        var bytes = preface
        var s: UInt32 = 1
        for _ in 0..<(HTTP2InboundFrameAudit.maximumGaps + 1) { s += 4; bytes += headers(s) }  // gaps 1...3, 7, 11, ...
        XCTAssertEqual(run(bytes + headers(1), chunk: 1000), .proceed)  // the oldest gap, forgotten
        XCTAssertNotEqual(run(bytes + headers(s - 2), chunk: 1000), .proceed)
    }
}
