/// Appends protobuf wire bytes to a reusable buffer.
///
/// Contract:
/// - Field helpers follow proto3 implicit presence: a default value (0, false, empty) is not written
///   unless `omitDefault` is false (used for `optional` fields and repeated elements).
/// - Callers write fields in field-number order; the writer does not reorder.
/// - `reset()` keeps the buffer's capacity, so encoding the next message into the same writer
///   allocates nothing once the buffer has grown to fit.
/// - Nested messages are length-prefixed without a sizing pass: one byte is reserved for the length
///   and the body is shifted only when its length needs a longer varint.
public struct ProtoWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] { _read { yield buffer } }
    @usableFromInline internal var buffer: [UInt8]

    public init(capacity: Int = 256) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    @inlinable public var count: Int { buffer.count }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() { buffer.removeAll(keepingCapacity: true) }

    // MARK: Raw encoding

    @inlinable
    public mutating func writeRawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable
    public mutating func writeTag(_ field: Int, _ wireType: WireType) {
        writeRawVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    @inlinable
    public mutating func writeRawFixed32(_ value: UInt32) {
        buffer.append(UInt8(truncatingIfNeeded: value))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inlinable
    public mutating func writeRawFixed64(_ value: UInt64) {
        writeRawFixed32(UInt32(truncatingIfNeeded: value))
        writeRawFixed32(UInt32(truncatingIfNeeded: value >> 32))
    }

    @inlinable
    public mutating func writeRawBytes<C: Collection>(_ data: C) where C.Element == UInt8 {
        buffer.append(contentsOf: data)
    }

    /// Number of bytes `value` takes as a varint.
    @inlinable
    public static func varintSize(_ value: UInt64) -> Int {
        if value == 0 { return 1 }
        return (64 - value.leadingZeroBitCount + 6) / 7
    }

    // MARK: Scalar fields

    @inlinable
    public mutating func writeUInt64(_ value: UInt64, field: Int, omitDefault: Bool = true) {
        if omitDefault && value == 0 { return }
        writeTag(field, .varint)
        writeRawVarint(value)
    }

    @inlinable
    public mutating func writeInt64(_ value: Int64, field: Int, omitDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: value), field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeUInt32(_ value: UInt32, field: Int, omitDefault: Bool = true) {
        writeUInt64(UInt64(value), field: field, omitDefault: omitDefault)
    }

    /// `int32` and enums: negative values are sign-extended to 10 bytes, as the spec requires.
    @inlinable
    public mutating func writeInt32(_ value: Int32, field: Int, omitDefault: Bool = true) {
        writeUInt64(UInt64(bitPattern: Int64(value)), field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeEnum(_ rawValue: Int32, field: Int, omitDefault: Bool = true) {
        writeInt32(rawValue, field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeSInt32(_ value: Int32, field: Int, omitDefault: Bool = true) {
        writeUInt64(UInt64(ZigZag.encode32(value)), field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeSInt64(_ value: Int64, field: Int, omitDefault: Bool = true) {
        writeUInt64(ZigZag.encode64(value), field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeBool(_ value: Bool, field: Int, omitDefault: Bool = true) {
        if omitDefault && !value { return }
        writeTag(field, .varint)
        buffer.append(value ? 1 : 0)
    }

    @inlinable
    public mutating func writeFixed32(_ value: UInt32, field: Int, omitDefault: Bool = true) {
        if omitDefault && value == 0 { return }
        writeTag(field, .fixed32)
        writeRawFixed32(value)
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64, field: Int, omitDefault: Bool = true) {
        if omitDefault && value == 0 { return }
        writeTag(field, .fixed64)
        writeRawFixed64(value)
    }

    @inlinable
    public mutating func writeSFixed32(_ value: Int32, field: Int, omitDefault: Bool = true) {
        writeFixed32(UInt32(bitPattern: value), field: field, omitDefault: omitDefault)
    }

    @inlinable
    public mutating func writeSFixed64(_ value: Int64, field: Int, omitDefault: Bool = true) {
        writeFixed64(UInt64(bitPattern: value), field: field, omitDefault: omitDefault)
    }

    /// Doubles: the default is +0.0 only; -0.0 is written (its bit pattern is not zero).
    @inlinable
    public mutating func writeDouble(_ value: Double, field: Int, omitDefault: Bool = true) {
        if omitDefault && value.bitPattern == 0 { return }
        writeTag(field, .fixed64)
        writeRawFixed64(value.bitPattern)
    }

    @inlinable
    public mutating func writeFloat(_ value: Float, field: Int, omitDefault: Bool = true) {
        if omitDefault && value.bitPattern == 0 { return }
        writeTag(field, .fixed32)
        writeRawFixed32(value.bitPattern)
    }

    // MARK: Length-delimited fields

    @inlinable
    public mutating func writeBytes<C: Collection>(_ value: C, field: Int, omitDefault: Bool = true)
    where C.Element == UInt8 {
        if omitDefault && value.isEmpty { return }
        writeTag(field, .lengthDelimited)
        writeRawVarint(UInt64(value.count))
        buffer.append(contentsOf: value)
    }

    @inlinable
    public mutating func writeString(_ value: String, field: Int, omitDefault: Bool = true) {
        if omitDefault && value.isEmpty { return }
        writeTag(field, .lengthDelimited)
        var value = value
        value.withUTF8 { utf8 in
            writeRawVarint(UInt64(utf8.count))
            buffer.append(contentsOf: utf8)
        }
    }

    /// Writes a length-prefixed nested message whose body `body` writes. Always written (even
    /// when empty): singular message presence is the caller's `Optional`.
    @inlinable
    public mutating func writeNested(field: Int, _ body: (inout ProtoWriter) -> Void) {
        writeTag(field, .lengthDelimited)
        let lengthAt = buffer.count
        buffer.append(0)
        body(&self)
        let length = buffer.count - lengthAt - 1
        if length < 0x80 {
            buffer[lengthAt] = UInt8(length)
            return
        }
        let size = Self.varintSize(UInt64(length))
        // Grow by size-1 bytes and shift the body right; rare for small messages.
        buffer.append(contentsOf: repeatElement(0, count: size - 1))
        buffer.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            (base + lengthAt + size).update(from: base + lengthAt + 1, count: length)
            var v = UInt64(length)
            var i = lengthAt
            while v >= 0x80 {
                base[i] = UInt8(truncatingIfNeeded: v) | 0x80
                v >>= 7
                i += 1
            }
            base[i] = UInt8(truncatingIfNeeded: v)
        }
    }

    /// Writes `message` as a nested, length-prefixed field.
    @inlinable
    public mutating func writeMessage<M: ProtoMessage>(_ message: M, field: Int) {
        writeNested(field: field) { message.encode(to: &$0) }
    }

    /// Writes a packed repeated scalar field; nothing is written for an empty array.
    @inlinable
    public mutating func writePacked<T>(_ values: [T], field: Int, _ element: (inout ProtoWriter, T) -> Void) {
        if values.isEmpty { return }
        writeNested(field: field) { w in
            for v in values { element(&w, v) }
        }
    }

    @inlinable
    public mutating func writePackedUInt64(_ values: [UInt64], field: Int) {
        writePacked(values, field: field) { $0.writeRawVarint($1) }
    }

    @inlinable
    public mutating func writePackedEnum(_ values: [Int32], field: Int) {
        writePacked(values, field: field) { $0.writeRawVarint(UInt64(bitPattern: Int64($1))) }
    }
}

/// ZigZag encoding for `sint32`/`sint64`.
public enum ZigZag {
    @inlinable public static func encode32(_ v: Int32) -> UInt32 { UInt32(bitPattern: (v << 1) ^ (v >> 31)) }
    @inlinable public static func decode32(_ v: UInt32) -> Int32 { Int32(bitPattern: v >> 1) ^ -Int32(bitPattern: v & 1) }
    @inlinable public static func encode64(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inlinable public static func decode64(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
}
