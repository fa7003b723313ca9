import ProtoWire

/// A hand-written message covering every scalar type, packed/unpacked repeated fields, a map, a
/// proto3 `optional` field, a nested (recursive) message and unknown-field capture:
///
///     message AllTypes {
///       int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
///       fixed32 f32 = 7; fixed64 f64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10; bool b = 11;
///       float fl = 12; double db = 13; string s = 14; bytes by = 15;
///       repeated uint64 packed = 16; repeated string names = 17; map<uint64, bytes> records = 18;
///       optional uint32 maybe = 19; AllTypes child = 20; repeated sint32 zigzags = 21;
///       repeated fixed64 fixeds = 22;
///     }
struct AllTypes: ProtoMessage {
    static let protoMessageName = "test.AllTypes"
    var i32: Int32 = 0, i64: Int64 = 0, u32: UInt32 = 0, u64: UInt64 = 0, s32: Int32 = 0, s64: Int64 = 0
    var f32: UInt32 = 0, f64: UInt64 = 0, sf32: Int32 = 0, sf64: Int64 = 0, b = false
    var fl: Float = 0, db: Double = 0, s = "", by: [UInt8] = []
    var packed: [UInt64] = [], names: [String] = [], records: [UInt64: [UInt8]] = [:]
    var maybe: UInt32? = nil
    var child: Box? = nil
    var zigzags: [Int32] = [], fixeds: [UInt64] = []
    var unknownFields: [UInt8] = []

    /// Indirection so the message can contain itself.
    final class Box: Equatable, @unchecked Sendable {
        var value: AllTypes
        init(_ value: AllTypes) { self.value = value }
        static func == (a: Box, b: Box) -> Bool { a.value == b.value }
    }

    init() {}

    mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
        switch tag.number {
        case 1: i32 = try reader.readInt32(tag)
        case 2: i64 = try reader.readInt64(tag)
        case 3: u32 = try reader.readUInt32(tag)
        case 4: u64 = try reader.readUInt64(tag)
        case 5: s32 = try reader.readSInt32(tag)
        case 6: s64 = try reader.readSInt64(tag)
        case 7: f32 = try reader.readFixed32(tag)
        case 8: f64 = try reader.readFixed64(tag)
        case 9: sf32 = try reader.readSFixed32(tag)
        case 10: sf64 = try reader.readSFixed64(tag)
        case 11: b = try reader.readBool(tag)
        case 12: fl = try reader.readFloat(tag)
        case 13: db = try reader.readDouble(tag)
        case 14: s = try reader.readString(tag)
        case 15: by = try reader.readBytes(tag)
        case 16:
            try reader.readRepeated(tag, elementWireType: .varint, into: &packed) {
                (r: inout ProtoReader, t: FieldTag) throws(ProtoDecodingError) in try r.readUInt64(t)
            }
        case 17: names.append(try reader.readString(tag))
        case 18:
            let e = try reader.readMapEntry(tag, key: 0 as UInt64, value: [] as [UInt8],
                                            readKey: { r, t in try r.readUInt64(t) }, readValue: { r, t in try r.readBytes(t) })
            records[e.key] = e.value
        case 19: maybe = try reader.readUInt32(tag)
        case 20: child = Box(try reader.readMessage(tag, into: child?.value))
        case 21:
            try reader.readRepeated(tag, elementWireType: .varint, into: &zigzags) {
                (r: inout ProtoReader, t: FieldTag) throws(ProtoDecodingError) in try r.readSInt32(t)
            }
        case 22:
            try reader.readRepeated(tag, elementWireType: .fixed64, into: &fixeds) {
                (r: inout ProtoReader, t: FieldTag) throws(ProtoDecodingError) in try r.readFixed64(t)
            }
        default: try reader.captureUnknown(tag, into: &unknownFields)
        }
    }

    func encode(to writer: inout ProtoWriter) {
        writer.writeInt32(i32, field: 1)
        writer.writeInt64(i64, field: 2)
        writer.writeUInt32(u32, field: 3)
        writer.writeUInt64(u64, field: 4)
        writer.writeSInt32(s32, field: 5)
        writer.writeSInt64(s64, field: 6)
        writer.writeFixed32(f32, field: 7)
        writer.writeFixed64(f64, field: 8)
        writer.writeSFixed32(sf32, field: 9)
        writer.writeSFixed64(sf64, field: 10)
        writer.writeBool(b, field: 11)
        writer.writeFloat(fl, field: 12)
        writer.writeDouble(db, field: 13)
        writer.writeString(s, field: 14)
        writer.writeBytes(by, field: 15)
        writer.writePackedUInt64(packed, field: 16)
        for n in names { writer.writeString(n, field: 17, omitDefault: false) }
        writer.writeMap(records, field: 18) { w, k, v in
            w.writeUInt64(k, field: 1, omitDefault: false)
            w.writeBytes(v, field: 2, omitDefault: false)
        }
        if let maybe { writer.writeUInt32(maybe, field: 19, omitDefault: false) }
        if let child { writer.writeMessage(child.value, field: 20) }
        writer.writePacked(zigzags, field: 21) { $0.writeRawVarint(UInt64(ZigZag.encode32($1))) }
        writer.writePacked(fixeds, field: 22) { $0.writeRawFixed64($1) }
        writer.writeRawBytes(unknownFields)
    }
}
