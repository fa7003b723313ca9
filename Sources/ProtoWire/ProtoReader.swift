/// Reads protobuf wire bytes from a borrowed buffer.
///
/// Contract:
/// - The reader borrows `buffer`; it must not outlive the `withUnsafeBytes` scope that made it.
///   Values it returns (`[UInt8]`, `String`, messages) are copies and may escape.
/// - Every read checks bounds and throws ``ProtoDecodingError``; every successful read consumes at
///   least one byte, so a decode loop always terminates.
/// - Typed reads check the wire type against the field's declared type (`wrongWireType`).
/// - Nested readers carry `depth + 1`; past ``maximumDepth`` they throw `nestingTooDeep`.
public struct ProtoReader {
    /// Deepest nesting of messages accepted (protobuf's C++ and Go runtimes use 100 too).
    public static let maximumDepth = 100

    public let buffer: UnsafeRawBufferPointer
    @usableFromInline var _offset: Int = 0
    /// Bytes consumed so far.
    public var offset: Int { _offset }
    public let depth: Int
    /// Where the tag returned by the last ``nextTag()`` began (for capturing unknown fields).
    @usableFromInline var _tagStart: Int = 0
    public var tagStart: Int { _tagStart }

    public init(buffer: UnsafeRawBufferPointer, depth: Int = 0) {
        self.buffer = buffer
                self.depth = depth
    }

    @inlinable public var isAtEnd: Bool { _offset >= buffer.count }

    // MARK: Primitives

    @inlinable
    public mutating func readRawVarint() throws(ProtoDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let count = buffer.count
        while true {
            guard _offset < count else { throw .truncated }
            let byte = buffer[_offset]
            _offset += 1
            if shift == 63 && byte > 1 { throw .malformedVarint }
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .malformedVarint }
        }
    }

    @inlinable
    public mutating func readRawFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard buffer.count - _offset >= 4 else { throw .truncated }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[_offset + i]) << (8 * UInt32(i)) }
        _offset += 4
        return v
    }

    @inlinable
    public mutating func readRawFixed64() throws(ProtoDecodingError) -> UInt64 {
        let lo = try readRawFixed32()
        let hi = try readRawFixed32()
        return UInt64(hi) << 32 | UInt64(lo)
    }

    /// Reads a length prefix and returns the bytes it covers, advancing past them.
    @inlinable
    public mutating func readLengthDelimited() throws(ProtoDecodingError) -> UnsafeRawBufferPointer {
        let length = try readRawVarint()
        guard length <= UInt64(buffer.count - _offset) else { throw .lengthOutOfBounds }
        let start = _offset
        _offset += Int(length)
        return UnsafeRawBufferPointer(rebasing: buffer[start..<_offset])
    }

    // MARK: Tags

    /// The next field's tag, or nil at the end of the buffer. Field number 0, numbers above
    /// 2^29-1 and wire types 6/7 are `invalidTag`; groups are `groupsNotSupported`.
    @inlinable
    public mutating func nextTag() throws(ProtoDecodingError) -> FieldTag? {
        guard _offset < buffer.count else { return nil }
        _tagStart = _offset
        let raw = try readRawVarint()
        let number = raw >> 3
        guard number > 0, number <= 0x1FFF_FFFF, let wt = WireType(rawValue: UInt8(raw & 7)) else {
            throw .invalidTag(raw)
        }
        if wt == .startGroup || wt == .endGroup { throw .groupsNotSupported(field: Int(number)) }
        return FieldTag(number: Int(number), wireType: wt)
    }

    @inlinable
    func expect(_ tag: FieldTag, _ wireType: WireType) throws(ProtoDecodingError) {
        if tag.wireType != wireType { throw .wrongWireType(field: tag.number, got: tag.wireType) }
    }

    // MARK: Typed field reads

    @inlinable public mutating func readUInt64(_ tag: FieldTag) throws(ProtoDecodingError) -> UInt64 {
        try expect(tag, .varint); return try readRawVarint()
    }
    @inlinable public mutating func readInt64(_ tag: FieldTag) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try readUInt64(tag))
    }
    /// `uint32`: the varint is truncated to 32 bits, as the reference runtimes do.
    @inlinable public mutating func readUInt32(_ tag: FieldTag) throws(ProtoDecodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readUInt64(tag))
    }
    @inlinable public mutating func readInt32(_ tag: FieldTag) throws(ProtoDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: try readUInt64(tag))
    }
    @inlinable public mutating func readEnum(_ tag: FieldTag) throws(ProtoDecodingError) -> Int32 {
        try readInt32(tag)
    }
    @inlinable public mutating func readSInt32(_ tag: FieldTag) throws(ProtoDecodingError) -> Int32 {
        ZigZag.decode32(UInt32(truncatingIfNeeded: try readUInt64(tag)))
    }
    @inlinable public mutating func readSInt64(_ tag: FieldTag) throws(ProtoDecodingError) -> Int64 {
        ZigZag.decode64(try readUInt64(tag))
    }
    @inlinable public mutating func readBool(_ tag: FieldTag) throws(ProtoDecodingError) -> Bool {
        try readUInt64(tag) != 0
    }
    @inlinable public mutating func readFixed32(_ tag: FieldTag) throws(ProtoDecodingError) -> UInt32 {
        try expect(tag, .fixed32); return try readRawFixed32()
    }
    @inlinable public mutating func readFixed64(_ tag: FieldTag) throws(ProtoDecodingError) -> UInt64 {
        try expect(tag, .fixed64); return try readRawFixed64()
    }
    @inlinable public mutating func readSFixed32(_ tag: FieldTag) throws(ProtoDecodingError) -> Int32 {
        Int32(bitPattern: try readFixed32(tag))
    }
    @inlinable public mutating func readSFixed64(_ tag: FieldTag) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try readFixed64(tag))
    }
    @inlinable public mutating func readDouble(_ tag: FieldTag) throws(ProtoDecodingError) -> Double {
        Double(bitPattern: try readFixed64(tag))
    }
    @inlinable public mutating func readFloat(_ tag: FieldTag) throws(ProtoDecodingError) -> Float {
        Float(bitPattern: try readFixed32(tag))
    }

    @inlinable public mutating func readBytes(_ tag: FieldTag) throws(ProtoDecodingError) -> [UInt8] {
        try expect(tag, .lengthDelimited)
        return Array(try readLengthDelimited())
    }

    /// A `string` field; bytes that are not valid UTF-8 throw `invalidUTF8`.
    @inlinable public mutating func readString(_ tag: FieldTag) throws(ProtoDecodingError) -> String {
        try expect(tag, .lengthDelimited)
        let raw = try readLengthDelimited()
        if raw.isEmpty { return "" }
        guard let s = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw .invalidUTF8(field: tag.number)
        }
        return s
    }

    /// A reader over a nested message's bytes, one level deeper.
    @inlinable public mutating func nestedReader(_ tag: FieldTag) throws(ProtoDecodingError) -> ProtoReader {
        try expect(tag, .lengthDelimited)
        guard depth + 1 <= Self.maximumDepth else { throw .nestingTooDeep }
        return ProtoReader(buffer: try readLengthDelimited(), depth: depth + 1)
    }

    /// Decodes a nested message field. When the same singular message field appears twice, the
    /// caller merges by passing the existing value as `into`.
    @inlinable public mutating func readMessage<M: ProtoMessage>(_ tag: FieldTag, into existing: M? = nil) throws -> M {
        var nested = try nestedReader(tag)
        var message = existing ?? M()
        try message.merge(from: &nested)
        return message
    }

    /// Repeated scalar fields accept both packed and unpacked encodings (the spec requires parsers
    /// to accept either). `element` reads one value with the element's own wire type.
    @inlinable public mutating func readRepeated<T>(
        _ tag: FieldTag, elementWireType: WireType, into values: inout [T],
        _ element: (inout ProtoReader, FieldTag) throws(ProtoDecodingError) -> T
    ) throws(ProtoDecodingError) {
        if tag.wireType == .lengthDelimited && elementWireType != .lengthDelimited {
            var packed = ProtoReader(buffer: try readLengthDelimited(), depth: depth)
            let elementTag = FieldTag(number: tag.number, wireType: elementWireType)
            while !packed.isAtEnd { values.append(try element(&packed, elementTag)) }
        } else {
            values.append(try element(&self, tag))
        }
    }

    // MARK: Unknown fields

    /// Skips the value of the field whose tag was just read.
    @inlinable public mutating func skip(_ tag: FieldTag) throws(ProtoDecodingError) {
        switch tag.wireType {
        case .varint: _ = try readRawVarint()
        case .fixed64: guard buffer.count - _offset >= 8 else { throw .truncated }; _offset += 8
        case .fixed32: guard buffer.count - _offset >= 4 else { throw .truncated }; _offset += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: throw .groupsNotSupported(field: tag.number)
        }
    }

    /// Skips the field whose tag was just read and appends its bytes, tag included, to `unknown`,
    /// so that re-encoding the message reproduces it.
    @inlinable public mutating func captureUnknown(_ tag: FieldTag, into unknown: inout [UInt8]) throws(ProtoDecodingError) {
        let start = _tagStart
        try skip(tag)
        unknown.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<_offset]))
    }
}
