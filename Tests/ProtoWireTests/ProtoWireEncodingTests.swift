import ProtoWire
import XCTest

/// Encoding and decoding of every wire type against byte strings worked out from the protobuf
/// encoding spec (https://protobuf.dev/programming-guides/encoding/).
final class ProtoWireEncodingTests: XCTestCase {
    func bytes(_ body: (inout ProtoWriter) -> Void) -> [UInt8] {
        var w = ProtoWriter()
        body(&w)
        return w.bytes
    }

    func testVarints() {
        XCTAssertEqual(bytes { $0.writeUInt64(150, field: 1) }, [0x08, 0x96, 0x01])
        XCTAssertEqual(bytes { $0.writeUInt64(.max, field: 1) }, [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        // Negative int32 is sign-extended to 10 bytes.
        XCTAssertEqual(bytes { $0.writeInt32(-1, field: 1) }, [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        XCTAssertEqual(bytes { $0.writeBool(true, field: 2) }, [0x10, 0x01])
        // Field numbers above 15 take a two-byte tag.
        XCTAssertEqual(bytes { $0.writeUInt32(1, field: 16) }, [0x80, 0x01, 0x01])
        XCTAssertEqual(bytes { $0.writeUInt32(1, field: 0x1FFF_FFFF) }, [0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x01])
        for v: UInt64 in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, 1 << 63, .max] {
            XCTAssertEqual(ProtoWriter.varintSize(v), bytes { $0.writeRawVarint(v) }.count, "\(v)")
        }
    }

    func testZigZag() {
        XCTAssertEqual(ZigZag.encode32(0), 0)
        XCTAssertEqual(ZigZag.encode32(-1), 1)
        XCTAssertEqual(ZigZag.encode32(1), 2)
        XCTAssertEqual(ZigZag.encode32(-2), 3)
        XCTAssertEqual(ZigZag.encode32(.max), 0xFFFF_FFFE)
        XCTAssertEqual(ZigZag.encode32(.min), 0xFFFF_FFFF)
        XCTAssertEqual(ZigZag.encode64(.min), .max)
        for v: Int64 in [0, -1, 1, .min, .max, -123_456_789] { XCTAssertEqual(ZigZag.decode64(ZigZag.encode64(v)), v) }
        for v: Int32 in [0, -1, 1, .min, .max] { XCTAssertEqual(ZigZag.decode32(ZigZag.encode32(v)), v) }
        XCTAssertEqual(bytes { $0.writeSInt32(-2, field: 5) }, [0x28, 0x03])
        XCTAssertEqual(bytes { $0.writeSInt64(-1, field: 6) }, [0x30, 0x01])
    }

    func testFixedWidth() {
        XCTAssertEqual(bytes { $0.writeFixed32(0x0403_0201, field: 7) }, [0x3D, 1, 2, 3, 4])
        XCTAssertEqual(bytes { $0.writeFixed64(0x0807_0605_0403_0201, field: 8) }, [0x41, 1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(bytes { $0.writeSFixed32(-1, field: 9) }, [0x4D, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(bytes { $0.writeDouble(1.0, field: 13) }, [0x69, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        XCTAssertEqual(bytes { $0.writeFloat(1.0, field: 12) }, [0x65, 0, 0, 0x80, 0x3F])
        // -0.0 is not the default and is written.
        XCTAssertEqual(bytes { $0.writeDouble(-0.0, field: 13) }.count, 9)
    }

    func testLengthDelimited() {
        XCTAssertEqual(bytes { $0.writeString("testing", field: 2) }, [0x12, 0x07] + Array("testing".utf8))
        XCTAssertEqual(bytes { $0.writeBytes([1, 2, 3], field: 15) }, [0x7A, 0x03, 1, 2, 3])
        // A nested body longer than 127 bytes gets a two-byte length (the writer shifts the body).
        let long = bytes { w in w.writeNested(field: 1) { $0.writeBytes([UInt8](repeating: 7, count: 200), field: 2) } }
        XCTAssertEqual(Array(long.prefix(3)), [0x0A, 0xCB, 0x01])  // 203 = 2 + 1 (0xC8 0x01 is 2 bytes) ...
        XCTAssertEqual(long.count, 1 + 2 + 1 + 2 + 200)
        XCTAssertEqual(Array(long[3..<6]), [0x12, 0xC8, 0x01])
        // A body of 20,000 bytes needs a three-byte length.
        let huge = bytes { w in w.writeNested(field: 1) { $0.writeRawBytes([UInt8](repeating: 1, count: 20_000)) } }
        XCTAssertEqual(Array(huge.prefix(4)), [0x0A, 0xA0, 0x9C, 0x01])
        XCTAssertEqual(huge.count, 4 + 20_000)
    }

    func testImplicitPresenceOmitsDefaults() {
        XCTAssertEqual(AllTypes().serializedBytes(), [])
        XCTAssertEqual(bytes { $0.writeUInt64(0, field: 1, omitDefault: false) }, [0x08, 0x00])
        XCTAssertEqual(bytes { $0.writeString("", field: 1, omitDefault: false) }, [0x0A, 0x00])
        // An empty nested message is still written (presence is the Optional).
        var m = AllTypes()
        m.child = .init(AllTypes())
        XCTAssertEqual(m.serializedBytes(), [0xA2, 0x01, 0x00])
    }

    func testOptionalPresence() throws {
        var m = AllTypes()
        m.maybe = 0
        XCTAssertEqual(m.serializedBytes(), [0x98, 0x01, 0x00])
        XCTAssertEqual(try AllTypes(serializedBytes: [0x98, 0x01, 0x00]).maybe, 0)
        XCTAssertNil(try AllTypes(serializedBytes: []).maybe)
    }

    func testPackedAndUnpackedRepeated() throws {
        var m = AllTypes()
        m.packed = [3, 270, 86_942]
        // The encoding spec's packed example.
        XCTAssertEqual(m.serializedBytes(), [0x82, 0x01, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05])
        // Parsers must accept the unpacked form too, and a mix of both.
        let unpacked: [UInt8] = [0x80, 0x01, 0x03, 0x80, 0x01, 0x8E, 0x02, 0x82, 0x01, 0x03, 0x9E, 0xA7, 0x05]
        XCTAssertEqual(try AllTypes(serializedBytes: unpacked).packed, [3, 270, 86_942])
        m = AllTypes()
        m.zigzags = [-1, 1, .min]
        m.fixeds = [1, .max]
        XCTAssertEqual(try AllTypes(serializedBytes: m.serializedBytes()), m)
        // Unpacked fixed64 elements.
        XCTAssertEqual(try AllTypes(serializedBytes: [0xB1, 0x01, 1, 0, 0, 0, 0, 0, 0, 0]).fixeds, [1])
        // Repeated strings are never packed.
        m = AllTypes()
        m.names = ["a", "", "b"]
        XCTAssertEqual(m.serializedBytes(), [0x8A, 0x01, 0x01, 0x61, 0x8A, 0x01, 0x00, 0x8A, 0x01, 0x01, 0x62])
        XCTAssertEqual(try AllTypes(serializedBytes: m.serializedBytes()).names, ["a", "", "b"])
    }

    func testMapsAreWrittenInKeyOrder() throws {
        var m = AllTypes()
        m.records = [300: [1], 2: [], 70_000: [2, 3]]
        XCTAssertEqual(m.serializedBytes(), [
            0x92, 0x01, 0x04, 0x08, 0x02, 0x12, 0x00,
            0x92, 0x01, 0x06, 0x08, 0xAC, 0x02, 0x12, 0x01, 0x01,
            0x92, 0x01, 0x08, 0x08, 0xF0, 0xA2, 0x04, 0x12, 0x02, 0x02, 0x03,
        ])
        XCTAssertEqual(try AllTypes(serializedBytes: m.serializedBytes()).records, m.records)
        // A map larger than the stack-sort limit is still sorted.
        m.records = Dictionary(uniqueKeysWithValues: (0..<200).reversed().map { (UInt64($0 * 7919 % 1000), [UInt8(truncatingIfNeeded: $0)]) })
        var reader = try AllTypes(serializedBytes: m.serializedBytes())
        XCTAssertEqual(reader.records, m.records)
        var keys: [UInt64] = []
        try m.serializedBytes().withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let t = try r.nextTag() {
                keys.append(try r.readMapEntry(t, key: 0 as UInt64, value: [] as [UInt8], readKey: { try $0.readUInt64($1) }, readValue: { try $0.readBytes($1) }).key)
            }
        }
        XCTAssertEqual(keys, keys.sorted())
        reader.records = [:]
    }

    func testEveryScalarRoundTrips() throws {
        var m = AllTypes()
        m.i32 = -5; m.i64 = .min; m.u32 = .max; m.u64 = .max; m.s32 = .min; m.s64 = .max
        m.f32 = 0xDEAD_BEEF; m.f64 = 1; m.sf32 = -7; m.sf64 = .min; m.b = true
        m.fl = -1.5; m.db = .pi; m.s = "héllo ☕"; m.by = [0, 255]
        var c = AllTypes()
        c.s = "child"
        m.child = .init(c)
        let bytes = m.serializedBytes()
        XCTAssertEqual(try AllTypes(serializedBytes: bytes), m)
        // Fields are written in field-number order.
        var numbers: [Int] = []
        try bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let t = try r.nextTag() { numbers.append(t.number); try r.skip(t) }
        }
        XCTAssertEqual(numbers, numbers.sorted())
        // Reading uint32/int32 truncates 64-bit varints, as the reference runtimes do.
        XCTAssertEqual(try AllTypes(serializedBytes: [0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F]).u32, .max)
    }

    func testUnknownFieldsArePreservedInOrder() throws {
        // Field 99 varint, field 100 fixed32, field 101 bytes, field 102 fixed64, then a known field.
        let input: [UInt8] = [0x98, 0x06, 0x2A, 0xA5, 0x06, 1, 2, 3, 4, 0xAA, 0x06, 0x01, 0x7A, 0xB1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x05]
        let m = try AllTypes(serializedBytes: input)
        XCTAssertEqual(m.i32, 5)
        XCTAssertEqual(m.unknownFields, Array(input.dropLast(2)))
        // Re-encoding writes known fields, then the unknown ones verbatim.
        XCTAssertEqual(m.serializedBytes(), [0x08, 0x05] + input.dropLast(2))
        XCTAssertEqual(try AllTypes(serializedBytes: m.serializedBytes()), m)
    }

    func testSingularMessageFieldsMerge() throws {
        // child { s: "a" } child { i32: 1 } merges into child { i32: 1, s: "a" }.
        let input: [UInt8] = [0xA2, 0x01, 0x03, 0x72, 0x01, 0x61, 0xA2, 0x01, 0x02, 0x08, 0x01]
        let m = try AllTypes(serializedBytes: input)
        XCTAssertEqual(m.child?.value.s, "a")
        XCTAssertEqual(m.child?.value.i32, 1)
    }
}
