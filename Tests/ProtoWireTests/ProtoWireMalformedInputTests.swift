import ProtoWire
import XCTest

/// Malformed input must give a typed ``ProtoDecodingError``: never a trap, never a hang.
final class ProtoWireMalformedInputTests: XCTestCase {
    func decodeError(_ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> ProtoDecodingError? {
        do {
            _ = try AllTypes(serializedBytes: input)
            XCTFail("decoded malformed input \(input)", file: file, line: line)
            return nil
        } catch let e as ProtoDecodingError {
            return e
        } catch {
            XCTFail("untyped error \(error)", file: file, line: line)
            return nil
        }
    }

    func testTruncated() {
        XCTAssertEqual(decodeError([0x08]), .truncated)                     // tag, no value
        XCTAssertEqual(decodeError([0x08, 0x96]), .truncated)               // varint cut short
        XCTAssertEqual(decodeError([0x80]), .truncated)                     // tag cut short
        XCTAssertEqual(decodeError([0x3D, 1, 2, 3]), .truncated)            // fixed32 with 3 bytes
        XCTAssertEqual(decodeError([0x41, 1, 2, 3, 4, 5, 6, 7]), .truncated) // fixed64 with 7 bytes
        XCTAssertEqual(decodeError([0x98, 0x06, 0x80]), .truncated)          // unknown varint cut short
        XCTAssertEqual(decodeError([0xB1, 0x06, 1]), .truncated)             // unknown fixed64 cut short
        XCTAssertEqual(decodeError([0x72]), .truncated)                      // length missing
    }

    func testVarintLongerThanTenBytes() {
        XCTAssertEqual(decodeError([0x08] + [UInt8](repeating: 0x80, count: 10) + [0x01]), .malformedVarint)
        // Ten bytes whose last carries more than the one remaining bit.
        XCTAssertEqual(decodeError([0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x02]), .malformedVarint)
        // An over-long tag.
        XCTAssertEqual(decodeError([UInt8](repeating: 0xFF, count: 11)), .malformedVarint)
    }

    func testLengthPastEnd() {
        XCTAssertEqual(decodeError([0x72, 0x05, 0x61]), .lengthOutOfBounds)
        XCTAssertEqual(decodeError([0x7A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), .lengthOutOfBounds)
        // Length inside a nested message that overruns the nested message (not the whole buffer).
        XCTAssertEqual(decodeError([0xA2, 0x01, 0x02, 0x72, 0x05, 0x61, 0x61, 0x61, 0x61, 0x61]), .lengthOutOfBounds)
        // A packed run whose last element is cut by the packed length.
        XCTAssertEqual(decodeError([0x82, 0x01, 0x01, 0x96, 0x01]), .truncated)
    }

    func testWrongWireTypeForKnownField() {
        XCTAssertEqual(decodeError([0x0A, 0x00]), .wrongWireType(field: 1, got: .lengthDelimited))   // int32 as bytes
        XCTAssertEqual(decodeError([0x70, 0x01]), .wrongWireType(field: 14, got: .varint))           // string as varint
        XCTAssertEqual(decodeError([0x38, 0x01]), .wrongWireType(field: 7, got: .varint))            // fixed32 as varint
        XCTAssertEqual(decodeError([0xA0, 0x01, 0x01]), .wrongWireType(field: 20, got: .varint))     // message as varint
        XCTAssertEqual(decodeError([0x8D, 0x01, 1, 2, 3, 4]), .wrongWireType(field: 17, got: .fixed32))
        // A packed fixed64 run must hold fixed64 elements.
        XCTAssertEqual(decodeError([0xB2, 0x01, 0x03, 1, 2, 3]), .truncated)
    }

    func testInvalidUTF8InString() {
        XCTAssertEqual(decodeError([0x72, 0x01, 0xFF]), .invalidUTF8(field: 14))
        XCTAssertEqual(decodeError([0x72, 0x02, 0xC3, 0x28]), .invalidUTF8(field: 14))
        XCTAssertEqual(decodeError([0x72, 0x03, 0xED, 0xA0, 0x80]), .invalidUTF8(field: 14))  // surrogate
        XCTAssertEqual(decodeError([0x8A, 0x01, 0x01, 0x80]), .invalidUTF8(field: 17))         // repeated string
        // bytes fields accept anything.
        XCTAssertEqual(try AllTypes(serializedBytes: [0x7A, 0x01, 0xFF]).by, [0xFF])
    }

    func testNestingDeeperThan100() throws {
        func nested(_ depth: Int) -> [UInt8] {
            var m = AllTypes()
            for _ in 0..<depth {
                var parent = AllTypes()
                parent.child = .init(m)
                m = parent
            }
            return m.serializedBytes()
        }
        XCTAssertNoThrow(try AllTypes(serializedBytes: nested(ProtoReader.maximumDepth)))
        XCTAssertEqual(decodeError(nested(ProtoReader.maximumDepth + 1)), .nestingTooDeep)
        // 3,000 levels of nesting: refused at level 101, no stack overflow.
        var deep: [UInt8] = []
        for _ in 0..<3_000 { deep = [0xA2, 0x01] + varint(deep.count) + deep }
        XCTAssertEqual(decodeError(deep), .nestingTooDeep)
    }

    func varint(_ n: Int) -> [UInt8] {
        var w = ProtoWriter()
        w.writeRawVarint(UInt64(n))
        return w.bytes
    }

    func testGroupWireTypesAreRefused() {
        XCTAssertEqual(decodeError([0x0B]), .groupsNotSupported(field: 1))         // start group
        XCTAssertEqual(decodeError([0x0C]), .groupsNotSupported(field: 1))         // end group
        XCTAssertEqual(decodeError([0x9B, 0x06, 0x9C, 0x06]), .groupsNotSupported(field: 99))
    }

    func testInvalidTags() {
        XCTAssertEqual(decodeError([0x00]), .invalidTag(0))        // field 0
        XCTAssertEqual(decodeError([0x0E]), .invalidTag(0x0E))     // wire type 6
        XCTAssertEqual(decodeError([0x0F]), .invalidTag(0x0F))     // wire type 7
        XCTAssertEqual(decodeError([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), .invalidTag(1 << 35))  // number ≥ 2^29
    }

    func testMapEntryErrors() {
        // Map entry with a key of the wrong wire type.
        XCTAssertEqual(decodeError([0x92, 0x01, 0x02, 0x0A, 0x00]), .wrongWireType(field: 1, got: .lengthDelimited))
    }

    /// Every prefix of a valid message either decodes or fails with a typed error.
    func testEveryPrefixFailsCleanly() {
        var m = AllTypes()
        m.i64 = -1; m.s = "prefix"; m.packed = [1, 1 << 40]; m.records = [1: [1, 2]]; m.maybe = 3; m.db = 2.5
        var c = AllTypes()
        c.names = ["x"]
        m.child = .init(c)
        let bytes = m.serializedBytes()
        for n in 0..<bytes.count {
            do { _ = try AllTypes(serializedBytes: Array(bytes.prefix(n))) } catch {
                XCTAssertTrue(error is ProtoDecodingError, "prefix \(n): \(error)")
            }
        }
    }
}
