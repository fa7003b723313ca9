import Dispatch
import Locks
import XCTest
@testable import Transport

/// RFC 6455 client frames through the pure parser: the events, and the close code of each violation.
final class WebSocketFrameParserTests: XCTestCase {
    func events(_ bytes: [UInt8], max: Int = 1000, chunk: Int = 0) -> [String] {
        var p = WebSocketFrameParser(maxMessageBytes: max)
        var out: [String] = []
        let step = chunk == 0 ? Swift.max(bytes.count, 1) : chunk
        var i = 0
        while i < bytes.count {
            let n = Swift.min(step, bytes.count - i)
            bytes.withUnsafeBytes { b in
                p.parse(UnsafeRawBufferPointer(rebasing: b[i..<i + n])) { e in
                    switch e {
                    case .message(let op, let payload): out.append("message \(op) \(String(decoding: payload, as: UTF8.self))")
                    case .ping(let payload): out.append("ping \(String(decoding: payload, as: UTF8.self))")
                    case .pong(let payload): out.append("pong \(String(decoding: payload, as: UTF8.self))")
                    case .close(let code, let reason): out.append("close \(code.map(String.init) ?? "none") \(String(decoding: reason, as: UTF8.self))")
                    case .violation(let code): out.append("violation \(code)")
                    }
                }
            }
            i += n
        }
        return out
    }

    func testMessagesFragmentsAndControlFramesAnyChunking() {
        let stream = WSFrame.text("hel", fin: false) + WSFrame.client(opcode: 9, Array("p".utf8))
            + WSFrame.client(opcode: 0, Array("lo".utf8)) + WSFrame.client(opcode: 2, [UInt8](repeating: 0x41, count: 300))
            + WSFrame.client(opcode: 10, []) + WSFrame.close(1001, "bye")
        let expected = ["ping p", "message 1 hello", "message 2 " + String(repeating: "A", count: 300), "pong ", "close 1001 bye"]
        for chunk in [0, 1, 2, 3, 7, 13] {
            XCTAssertEqual(events(stream, chunk: chunk), expected, "chunk \(chunk)")
        }
        // A 64-bit length form and an empty close body.
        XCTAssertEqual(events(WSFrame.client(opcode: 2, [UInt8](repeating: 0x42, count: 70_000)), max: 100_000).first?.count, 70_000 + 10)
        XCTAssertEqual(events(WSFrame.client(opcode: 8, [])), ["close none "])
    }

    func testViolations() {
        func frame(_ b0: UInt8, _ payload: [UInt8] = [1]) -> [UInt8] {
            var f = WSFrame.client(opcode: b0 & 0x0f, payload)
            f[0] = b0
            return f
        }
        let cases: [([UInt8], String)] = [
            (WSFrame.client(opcode: 1, Array("x".utf8), masked: false), "violation 1002"),   // unmasked
            (frame(0xc1), "violation 1002"),                                                   // RSV1
            (frame(0x83), "violation 1002"),                                                   // reserved opcode
            (frame(0x8b), "violation 1002"),                                                   // reserved control opcode
            (WSFrame.client(opcode: 0, [1]), "violation 1002"),                                // continuation of nothing
            (WSFrame.text("a", fin: false) + WSFrame.text("b"), "violation 1002"),             // new message inside one
            (WSFrame.client(opcode: 9, [1], fin: false), "violation 1002"),                    // fragmented control frame
            (WSFrame.client(opcode: 9, [UInt8](repeating: 0, count: 126)), "violation 1002"),  // control frame over 125
            (WSFrame.client(opcode: 8, [3]), "violation 1002"),                                // close body of 1 byte
            (WSFrame.close(1005), "violation 1002"),                                           // reserved close code
            (WSFrame.close(999), "violation 1002"),
            (WSFrame.client(opcode: 8, [3, 0xe8, 0xc3, 0x28]), "violation 1007"),              // reason not UTF-8
            (WSFrame.client(opcode: 2, [UInt8](repeating: 0, count: 1001)), "violation 1009"),
        ]
        for (bytes, expected) in cases {
            XCTAssertEqual(events(bytes).last, expected, "\(bytes.prefix(4))")
        }
        // 64-bit length with the top bit set.
        var huge: [UInt8] = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]
        XCTAssertEqual(events(huge), ["violation 1002"])
        huge[2] = 0x7f
        // wslay reports a frame with its first payload byte: the 1009 comes from the declared length then,
        // before anything of the payload is buffered.
        XCTAssertEqual(events(huge), [], "a header alone: no verdict yet")
        XCTAssertEqual(events(huge + [0]), ["violation 1009"], "decided from the header, nothing buffered")
        // Nothing is parsed after a close or a violation.
        XCTAssertEqual(events(WSFrame.close(1000) + WSFrame.text("late")), ["close 1000 "])
        XCTAssertEqual(events(frame(0xc1) + WSFrame.text("late")), ["violation 1002"])
    }

    /// libwslay refuses a length not in its minimal encoding (RFC 6455 §5.2 "the minimal number of
    /// bytes MUST be used"): 1002. The codec before wslay accepted them.
    func testNonMinimalLengthIs1002() {
        let mask: [UInt8] = [1, 2, 3, 4]
        let short16: [UInt8] = [0x81, 0x80 | 126, 0, 5] + mask + [UInt8](repeating: 0x61, count: 5)
        let short64: [UInt8] = [0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + mask + [UInt8](repeating: 0, count: 0xffff)
        for (bytes, name) in [(short16, "5 in 16 bits"), (short64, "65,535 in 64 bits")] {
            for chunk in [0, 1, 3] {
                XCTAssertEqual(events(bytes, max: 100_000, chunk: chunk), ["violation 1002"], "\(name), chunk \(chunk)")
            }
        }
        // The same lengths in their minimal encoding are fine.
        XCTAssertEqual(events(WSFrame.text("aaaaa")), ["message 1 aaaaa"])
    }

    /// A 0-length frame is a complete frame (wslay reports it once, with no data).
    func testZeroLengthFrames() {
        let stream = WSFrame.text("") + WSFrame.client(opcode: 2, [], fin: false) + WSFrame.client(opcode: 0, [])
            + WSFrame.client(opcode: 9, []) + WSFrame.client(opcode: 8, [])
        for chunk in [0, 1, 2, 5] {
            XCTAssertEqual(events(stream, chunk: chunk), ["message 1 ", "message 2 ", "ping ", "close none "], "chunk \(chunk)")
        }
    }

    /// libwslay's frame context exists only while a frame is partly received: none after whole
    /// frames (an idle WebSocket holds no wslay memory), one while a frame is split, at every byte.
    func testFrameContextOnlyWhileAFrameIsPartial() {
        let stream = WSFrame.text("hello") + WSFrame.client(opcode: 9, Array("p".utf8))
            + WSFrame.client(opcode: 2, [UInt8](repeating: 7, count: 5000)) + WSFrame.text("")
        // Frame boundaries in `stream`.
        let ends: Set<Int> = [11, 11 + 7, 11 + 7 + 5008, 11 + 7 + 5008 + 6]
        XCTAssertEqual(ends.max(), stream.count)
        for split in 0...stream.count {
            var p = WebSocketFrameParser(maxMessageBytes: 10_000)
            var got: [String] = []
            func feed(_ range: Range<Int>) {
                stream.withUnsafeBytes { b in
                    p.parse(UnsafeRawBufferPointer(rebasing: b[range])) { e in
                        switch e {
                        case .message(let op, let payload): got.append("message \(op) \(payload.count)")
                        case .ping(let payload): got.append("ping \(payload.count)")
                        default: got.append("other")
                        }
                    }
                }
            }
            feed(0..<split)
            XCTAssertEqual(p.holdsFrameContext, !(split == 0 || ends.contains(split)), "after \(split) bytes")
            feed(split..<stream.count)
            XCTAssertFalse(p.holdsFrameContext, "split at \(split): whole frames, no context")
            XCTAssertEqual(got, ["message 1 5", "ping 1", "message 2 5000", "message 1 0"], "split at \(split)")
            XCTAssertEqual(p.state, .header)
        }
        // A violation or a close lets the context go too.
        var p = WebSocketFrameParser(maxMessageBytes: 10)
        let partial = WSFrame.text("hello")
        partial.withUnsafeBytes { p.parse(UnsafeRawBufferPointer(rebasing: $0[0..<4])) { _ in } }
        XCTAssertTrue(p.holdsFrameContext)
        XCTAssertEqual(p.state, .header)
        partial.withUnsafeBytes { p.parse(UnsafeRawBufferPointer(rebasing: $0[4..<8])) { _ in } }
        XCTAssertEqual(p.state, .payload)
        let bad = WSFrame.client(opcode: 1, [1], masked: false)
        (Array(partial[8...]) + bad).withUnsafeBytes { p.parse($0) { _ in } }
        XCTAssertEqual(p.state, .done)
        XCTAssertFalse(p.holdsFrameContext)
    }

    /// Server frames written by wslay_frame_send are the bytes RFC 6455 §5.2 gives (fin, unmasked,
    /// minimal length encoding) for every opcode and at each length class's boundaries.
    func testServerFramesByteForByteAtLengthBoundaries() {
        for opcode: UInt8 in [1, 2] {
            for n in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
                let payload = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                XCTAssertEqual(WebSocketServerFrame(opcode: opcode, payload: payload).bytes,
                               WSFrame.client(opcode: opcode, payload, masked: false), "opcode \(opcode), \(n) bytes")
            }
        }
        for opcode: UInt8 in [8, 9, 10] {
            for n in [0, 2, 125] {
                let payload = [UInt8](repeating: 0x33, count: n)
                XCTAssertEqual(WebSocketServerFrame(opcode: opcode, payload: payload).bytes,
                               WSFrame.client(opcode: opcode, payload, masked: false), "opcode \(opcode), \(n) bytes")
            }
        }
        // Non-contiguous payloads (a String's UTF-8 view may be one) and a lazy collection.
        XCTAssertEqual(WebSocketServerFrame(text: "héllo".utf8).bytes, WSFrame.client(opcode: 1, Array("héllo".utf8), masked: false))
        XCTAssertEqual(WebSocketServerFrame(opcode: 2, payload: (0..<200).lazy.map { UInt8($0) }).bytes,
                       WSFrame.client(opcode: 2, (0..<200).map { UInt8($0) }, masked: false))
    }

    /// Each thread writes with its own wslay frame context, kept between frames: frames built on
    /// many threads at once, and again on the same threads, are the same bytes.
    func testServerFramesFromManyThreads() {
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        let expected = [WSFrame.client(opcode: 2, payload, masked: false), WSFrame.client(opcode: 9, [1, 2, 3], masked: false),
                        WSFrame.client(opcode: 1, Array(payload.prefix(300)), masked: false)]
        let same = LockedValue(0)
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            var ok = true
            for _ in 0..<20 {
                ok = ok && WebSocketServerFrame(opcode: 2, payload: payload).bytes == expected[0]
                    && WebSocketServerFrame(opcode: 9, payload: [1, 2, 3]).bytes == expected[1]
                    && WebSocketServerFrame(opcode: 1, payload: payload.prefix(300)).bytes == expected[2]
            }
            if ok { same.withLock { $0 += 1 } }
        }
        XCTAssertEqual(same.withLock { $0 }, 64)
    }

    func testServerFrames() {
        XCTAssertEqual(WebSocketServerFrame(text: Array("hi".utf8)).bytes, [0x81, 2, 0x68, 0x69])
        XCTAssertEqual(WebSocketServerFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 126)).bytes.prefix(4), [0x82, 126, 0, 126])
        XCTAssertEqual(WebSocketServerFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 65_536)).bytes.prefix(10),
                       [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(WebSocketServerFrame.close(code: 1000).bytes, [0x88, 2, 0x03, 0xe8])
        XCTAssertEqual(WebSocketServerFrame.close(code: nil).bytes, [0x88, 0])
        let long = WebSocketServerFrame.close(code: 1001, reason: String(repeating: "é", count: 100)).bytes
        XCTAssertEqual(long.count, 2 + 2 + 122, "reason cut to 123 bytes on a character boundary")
    }

    /// Close 1000 without a reason ends every WebSocket of a fan-out: one array per thread, reused
    /// on that thread (no allocation per WebSocket) and never shared with another thread (whose
    /// event loop would otherwise bounce its reference count between the cores).
    func testNormalClosureIsEachThreadsOwn() {
        @Sendable func storage() -> Int {
            WebSocketServerFrame.close(code: 1000).bytes.withUnsafeBytes { Int(bitPattern: $0.baseAddress) }
        }
        let here = storage()
        XCTAssertEqual(storage(), here, "reused on the same thread")
        let elsewhere = LockedValue(0), done = DispatchSemaphore(value: 0)
        DispatchQueue(label: "another thread").async {   // a pool thread, never the test's own
            let mine = storage()
            let bytes = WebSocketServerFrame.close(code: 1000).bytes
            elsewhere.withLock { $0 = bytes == [0x88, 2, 0x03, 0xe8] && storage() == mine ? mine : -1 }
            done.signal()
        }
        done.wait()
        let other = elsewhere.withLock { $0 }
        XCTAssertNotEqual(other, -1, "the other thread's frame is right and reused there")
        XCTAssertNotEqual(other, here, "each thread has its own array")
    }
}
