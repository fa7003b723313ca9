import XCTest
@testable import GRPC
import RPCCore

final class FramingTests: XCTestCase {
    func deframe(_ chunks: [[UInt8]], max: Int = 1 << 20) throws -> [[UInt8]] {
        var d = MessageDeframer(maxMessageSize: max)
        var out: [[UInt8]] = []
        for c in chunks { try c.withUnsafeBytes { b in try d.consume(b) { out.append($0) } } }
        XCTAssertTrue(d.isEmpty)
        return out
    }

    func testFrameAndDeframeRoundTrip() throws {
        let a: [UInt8] = Array(0..<200), b: [UInt8] = [], c: [UInt8] = [9]
        let wire = MessageFraming.frame(a) + MessageFraming.frame(b) + MessageFraming.frame(c)
        XCTAssertEqual(Array(wire[0..<5]), [0, 0, 0, 0, 200])
        XCTAssertEqual(try deframe([wire]), [a, b, c])
        // Split at every byte boundary.
        XCTAssertEqual(try deframe(wire.map { [$0] }), [a, b, c])
        // Split at every possible single point.
        for cut in 0...wire.count {
            XCTAssertEqual(try deframe([Array(wire[..<cut]), Array(wire[cut...])]), [a, b, c])
        }
    }

    func testBorrowingDeframerLendsWholeMessagesInPlaceAndSplitOnesFromItsBuffer() throws {
        let a: [UInt8] = Array(0..<200), b: [UInt8] = [], c: [UInt8] = [9, 8, 7]
        let wire = MessageFraming.frame(a) + MessageFraming.frame(b) + MessageFraming.frame(c)
        for cut in 0...wire.count {
            var d = MessageDeframer(maxMessageSize: 1 << 20)
            var out: [[UInt8]] = []
            var inPlace = 0
            for chunk in [Array(wire[..<cut]), Array(wire[cut...])] {
                try chunk.withUnsafeBytes { buf in
                    try d.consumeBorrowing(buf) { m in
                        out.append([UInt8](m))
                        if let p = m.baseAddress, let q = buf.baseAddress, p >= q, p + m.count <= q + buf.count { inPlace += 1 }
                    }
                }
            }
            XCTAssertEqual(out, [a, b, c], "cut at \(cut)")
            XCTAssertTrue(d.isEmpty)
            if cut == 0 || cut == wire.count { XCTAssertEqual(inPlace, 2, "a and c lie whole in the chunk (b is empty)") }
        }
    }

    /// The gRPC face queues `EncodedMessage.framed` as is: its layout must be gRPC's framing.
    func testEncodedMessageIsGRPCFramed() {
        let m: [UInt8] = Array(0..<40)
        let f = EncodedMessage(message: m)
        XCTAssertEqual(f.framed, MessageFraming.frame(m))
        XCTAssertEqual(Array(f.payload), m)
        XCTAssertEqual(f.messageCount, 40)
    }

    /// The client's header parsing reads decimal values in place; anything else falls back to
    /// `Int(String)` (so "+5" and "-1" behave as before, junk is nil).
    func testClientHeaderDecimal() {
        func dec(_ s: String) -> Int? { Array(s.utf8).withUnsafeBytes { ClientCall.decimal($0) } }
        XCTAssertEqual(dec("0"), 0)
        XCTAssertEqual(dec("200"), 200)
        XCTAssertEqual(dec("16"), 16)
        XCTAssertEqual(dec("+5"), 5)
        XCTAssertEqual(dec("-1"), -1)
        XCTAssertNil(dec(""))
        XCTAssertNil(dec("1x"))
        XCTAssertNil(dec("99999999999999999999999"))
    }

    func testTooLargeIsRejectedFromTheHeaderAlone() {
        XCTAssertThrowsError(try deframe([[0, 0, 0, 1, 1]], max: 256)) { e in
            XCTAssertEqual(e as? MessageDeframer.Failure, .tooLarge(257))
        }
        XCTAssertNoThrow(try deframe([[0, 0, 0, 1, 0] + [UInt8](repeating: 1, count: 256)], max: 256))
    }

    func testCompressedAndBadFlags() {
        XCTAssertThrowsError(try deframe([[1, 0, 0, 0, 0]])) { XCTAssertEqual($0 as? MessageDeframer.Failure, .compressed) }
        XCTAssertThrowsError(try deframe([[7, 0, 0, 0, 0]])) { XCTAssertEqual($0 as? MessageDeframer.Failure, .badFlag(7)) }
    }

    func testPartialMessageIsNotEmpty() throws {
        var d = MessageDeframer(maxMessageSize: 100)
        try ([0, 0, 0, 0, 3, 1] as [UInt8]).withUnsafeBytes { b in try d.consume(b) { _ in XCTFail() } }
        XCTAssertFalse(d.isEmpty)
    }
}

final class TimeoutTests: XCTestCase {
    func p(_ s: String) -> UInt64? { GRPCTimeout.parse(Array(s.utf8)) }

    func testUnits() {
        XCTAssertEqual(p("1H"), 3_600_000_000_000)
        XCTAssertEqual(p("2M"), 120_000_000_000)
        XCTAssertEqual(p("3S"), 3_000_000_000)
        XCTAssertEqual(p("250m"), 250_000_000)
        XCTAssertEqual(p("7u"), 7_000)
        XCTAssertEqual(p("99999999n"), 99_999_999)
        XCTAssertEqual(p("0S"), 0)
    }

    func testMalformed() {
        for s in ["", "S", "1", "123456789S", "1x", "-1S", "1.5S", "1SS", " 1S"] { XCTAssertNil(p(s), s) }
    }

    func testEncodeRoundTrip() {
        for n: UInt64 in [1, 999, 1_000_000, 1_500_000_000, 3_600_000_000_000, 100_000_000_000_000] {
            let e = GRPCTimeout.encode(nanos: n)
            let back = p(e)!
            XCTAssertGreaterThanOrEqual(back, n, e)
            XCTAssertLessThanOrEqual(e.count, 9)
        }
    }
}

final class EncodingTests: XCTestCase {
    func testPercentEncoding() {
        let s = "payment isn't initiated: é 100%\nok"
        let e = String(decoding: PercentEncoding.encode(s), as: UTF8.self)
        XCTAssertEqual(e, "payment isn't initiated: %C3%A9 100%25%0Aok")
        XCTAssertEqual(PercentEncoding.decode(Array(e.utf8)), s)
        XCTAssertEqual(PercentEncoding.decode(Array("bad %G1 and %".utf8)), "bad %G1 and %")
    }

    func testMetadataPackedStorage() {
        var m = Metadata()
        m.add("Macaroon", "0201ab")
        m.add("trace-bin", binary: [0, 1, 255])
        m.add("macaroon", "second")
        XCTAssertEqual(m.count, 3)
        XCTAssertEqual(m["macaroon"], "0201ab")
        XCTAssertEqual(m.binary("trace-bin"), [0, 1, 255])
        XCTAssertNil(m["trace-bin"])
        XCTAssertNil(m["missing"])
        XCTAssertEqual(m.values("macaroon"), [.string("0201ab"), .string("second")])
        XCTAssertEqual(m.entries.map { $0.key }, ["macaroon", "trace-bin", "macaroon"])
    }

    func testRouter() {
        let svc = ServiceDefinition(name: "pkg.Svc", methods: ["A": .unary { _, _, r in r.respond([]) }])
        let r = MethodRouter(services: [svc])
        if case .found = r.lookup("/pkg.Svc/A") {} else { XCTFail() }
        if case .unknownMethod(let m, let s) = r.lookup("/pkg.Svc/B") { XCTAssertEqual([m, s], ["B", "pkg.Svc"]) } else { XCTFail() }
        if case .unknownService(let s) = r.lookup("/other.Svc/A") { XCTAssertEqual(s, "other.Svc") } else { XCTFail() }
        if case .malformed = r.lookup("nope") {} else { XCTFail() }
        XCTAssertEqual(r.serviceNames, ["pkg.Svc"])
    }
}
