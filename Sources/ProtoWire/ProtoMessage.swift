/// A protobuf message value: decodes field by field from a ``ProtoReader`` and encodes itself,
/// fields in number order, into a ``ProtoWriter``.
public protocol ProtoMessage: Sendable, Equatable {
    /// The fully-qualified protobuf name, e.g. `lnrpc.Payment`.
    static var protoMessageName: String { get }
    init()
    /// Decodes one field whose tag has just been read. Unknown fields must be kept with
    /// `reader.captureUnknown(tag, into: &unknownFields)` so they survive re-encoding.
    mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws
    /// Writes every populated field in field-number order, then the preserved unknown fields.
    func encode(to writer: inout ProtoWriter)
}

extension ProtoMessage {
    /// Merges every field in `reader` into `self` (protobuf merge semantics for repeated and
    /// nested fields are the implementer's `decodeField`).
    @inlinable
    public mutating func merge(from reader: inout ProtoReader) throws {
        while let tag = try reader.nextTag() {
            try decodeField(tag, from: &reader)
        }
    }

    /// Decodes a message from its serialized bytes.
    @inlinable
    public init(serializedBytes bytes: some ContiguousBytesProvider) throws {
        self.init()
        try bytes.withBorrowedBytes { buffer in
            var reader = ProtoReader(buffer: buffer)
            try self.merge(from: &reader)
        }
    }

    /// Decodes a message from a borrowed buffer.
    @inlinable
    public init(buffer: UnsafeRawBufferPointer) throws {
        self.init()
        var reader = ProtoReader(buffer: buffer)
        try merge(from: &reader)
    }

    /// The serialized bytes of this message (a fresh buffer; use `encode(to:)` with a reused
    /// writer on hot paths).
    @inlinable
    public func serializedBytes() -> [UInt8] {
        var writer = ProtoWriter(capacity: 128)
        encode(to: &writer)
        return writer.finish()
    }
}

/// Byte containers a message can be decoded from without copying.
public protocol ContiguousBytesProvider {
    func withBorrowedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesProvider where Element == UInt8 {
    @inlinable public func withBorrowedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: ContiguousBytesProvider where Element == UInt8 {
    @inlinable public func withBorrowedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}
