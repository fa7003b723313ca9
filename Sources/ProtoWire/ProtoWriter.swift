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
    // Storage: `storage` is fully initialized (its `count` is the writer's capacity) and the first
    // `_count` bytes are the output. Each field write checks space once, then stores through a
    // raw pointer: no per-byte uniqueness or capacity checks. Array keeps copy-on-write value
    // semantics and memory safety.
    @usableFromInline internal var storage: [UInt8]
    @usableFromInline internal var _count: Int = 0

    public init(capacity: Int = 256) {
        storage = [UInt8](repeating: 0, count: Swift.max(capacity, 16))
    }

    /// The bytes written so far (a copy; use ``withUnsafeBytes(_:)`` to borrow them without one).
    public var bytes: [UInt8] { Array(storage[0..<_count]) }

    /// Borrows the bytes written so far; the pointer is valid only inside `body`.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<_count])) }
    }

    /// Ends writing and returns the bytes, reusing the writer's buffer (no copy).
    public consuming func finish() -> [UInt8] {
        storage.removeLast(storage.count - _count)
        return storage
    }

    /// Number of bytes written so far.
    @inlinable public var count: Int { _count }

    /// Bytes the writer can hold before it must grow its buffer.
    @inlinable public var capacity: Int { storage.count }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() { _count = 0 }

    /// Ensures room for `n` more bytes.
    @inlinable
    mutating func reserve(_ n: Int) {
        if storage.count - _count < n { grow(n) }
    }

    @usableFromInline
    mutating func grow(_ n: Int) {
        let needed = _count + n
        var newCapacity = Swift.max(storage.count * 2, 64)
        while newCapacity < needed { newCapacity *= 2 }
        storage.append(contentsOf: repeatElement(0, count: newCapacity - storage.count))
    }

    /// Runs `body` with a pointer to at least `maxBytes` free bytes; `body` returns how many it wrote.
    @inlinable
    mutating func append(maxBytes: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(maxBytes)
        let start = _count
        let written = storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
        _count = start + written
    }

    /// Stores `value` as a varint at `p`; returns its length (1...10).
    @inlinable
    static func put(varint value: UInt64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var i = 0
        while v >= 0x80 {
            p[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        p[i] = UInt8(truncatingIfNeeded: v)
        return i + 1
    }

    @inlinable
    static func put(fixed32 value: UInt32, at p: UnsafeMutablePointer<UInt8>) -> Int {
        UnsafeMutableRawPointer(p).storeBytes(of: value.littleEndian, as: UInt32.self)
        return 4
    }

    @inlinable
    static func put(fixed64 value: UInt64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        UnsafeMutableRawPointer(p).storeBytes(of: value.littleEndian, as: UInt64.self)
        return 8
    }

    @inlinable
    static func tag(_ field: Int, _ wireType: WireType) -> UInt64 {
        UInt64(field) << 3 | UInt64(wireType.rawValue)
    }

    // MARK: Raw encoding

    @inlinable
    public mutating func writeRawVarint(_ value: UInt64) {
        append(maxBytes: 10) { Self.put(varint: value, at: $0) }
    }

    @inlinable
    public mutating func writeTag(_ field: Int, _ wireType: WireType) {
        writeRawVarint(Self.tag(field, wireType))
    }

    @inlinable
    public mutating func writeRawFixed32(_ value: UInt32) {
        append(maxBytes: 4) { Self.put(fixed32: value, at: $0) }
    }

    @inlinable
    public mutating func writeRawFixed64(_ value: UInt64) {
        append(maxBytes: 8) { Self.put(fixed64: value, at: $0) }
    }

    @inlinable
    public mutating func writeRawBytes<C: Collection>(_ data: C) where C.Element == UInt8 {
        let n = data.count
        if n == 0 { return }
        append(maxBytes: n) { p in
            if data.withContiguousStorageIfAvailable({ p.update(from: $0.baseAddress!, count: n) }) == nil {
                _ = UnsafeMutableBufferPointer(start: p, count: n).initialize(from: data)
            }
            return n
        }
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
        append(maxBytes: 20) { p in
            let n = Self.put(varint: Self.tag(field, .varint), at: p)
            return n + Self.put(varint: value, at: p + n)
        }
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
        append(maxBytes: 11) { p in
            let n = Self.put(varint: Self.tag(field, .varint), at: p)
            p[n] = value ? 1 : 0
            return n + 1
        }
    }

    @inlinable
    public mutating func writeFixed32(_ value: UInt32, field: Int, omitDefault: Bool = true) {
        if omitDefault && value == 0 { return }
        append(maxBytes: 14) { p in
            let n = Self.put(varint: Self.tag(field, .fixed32), at: p)
            return n + Self.put(fixed32: value, at: p + n)
        }
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64, field: Int, omitDefault: Bool = true) {
        if omitDefault && value == 0 { return }
        append(maxBytes: 18) { p in
            let n = Self.put(varint: Self.tag(field, .fixed64), at: p)
            return n + Self.put(fixed64: value, at: p + n)
        }
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
        writeFixed64(value.bitPattern, field: field, omitDefault: false)
    }

    @inlinable
    public mutating func writeFloat(_ value: Float, field: Int, omitDefault: Bool = true) {
        if omitDefault && value.bitPattern == 0 { return }
        writeFixed32(value.bitPattern, field: field, omitDefault: false)
    }

    // MARK: Length-delimited fields

    @inlinable
    public mutating func writeBytes<C: Collection>(_ value: C, field: Int, omitDefault: Bool = true)
    where C.Element == UInt8 {
        if omitDefault && value.isEmpty { return }
        let n = value.count
        append(maxBytes: 20 + n) { p in
            var i = Self.put(varint: Self.tag(field, .lengthDelimited), at: p)
            i += Self.put(varint: UInt64(n), at: p + i)
            if value.withContiguousStorageIfAvailable({ (p + i).update(from: $0.baseAddress!, count: n) }) == nil {
                _ = UnsafeMutableBufferPointer(start: p + i, count: n).initialize(from: value)
            }
            return i + n
        }
    }

    @inlinable
    public mutating func writeString(_ value: String, field: Int, omitDefault: Bool = true) {
        if omitDefault && value.isEmpty { return }
        var value = value
        value.withUTF8 { utf8 in
            let n = utf8.count
            append(maxBytes: 20 + n) { p in
                var i = Self.put(varint: Self.tag(field, .lengthDelimited), at: p)
                i += Self.put(varint: UInt64(n), at: p + i)
                if n > 0 { (p + i).update(from: utf8.baseAddress!, count: n) }
                return i + n
            }
        }
    }

    /// Writes a length-prefixed nested message whose body `body` writes. Always written (even
    /// when empty): singular message presence is the caller's `Optional`.
    @inlinable
    public mutating func writeNested(field: Int, _ body: (inout ProtoWriter) -> Void) {
        writeTag(field, .lengthDelimited)
        reserve(1)
        let lengthAt = _count
        _count += 1
        body(&self)
        let length = _count - lengthAt - 1
        if length < 0x80 {
            storage.withUnsafeMutableBufferPointer { $0[lengthAt] = UInt8(truncatingIfNeeded: length) }
            return
        }
        // The length needs `size` bytes: shift the body right by size-1 (rare for small messages).
        let size = Self.varintSize(UInt64(length))
        reserve(size - 1)
        storage.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            (base + lengthAt + size).update(from: base + lengthAt + 1, count: length)
            _ = Self.put(varint: UInt64(length), at: base + lengthAt)
        }
        _count += size - 1
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
