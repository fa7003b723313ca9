/// Why bytes could not be decoded as a message. Every malformed input maps to one of these;
/// decoding never traps and never loops without consuming input.
public enum ProtoDecodingError: Error, Equatable, Sendable {
    /// The input ended inside a tag, a varint, a fixed-width value or a length-delimited value.
    case truncated
    /// A varint ran past 10 bytes, or its 10th byte carried more than one bit.
    case malformedVarint
    /// A length prefix points past the end of the enclosing buffer (or is larger than Int).
    case lengthOutOfBounds
    /// A tag with field number 0 or above 2^29-1, or wire type 6 or 7.
    case invalidTag(UInt64)
    /// A known field arrived with a wire type its declared type cannot have.
    case wrongWireType(field: Int, got: WireType)
    /// A `string` field held bytes that are not UTF-8.
    case invalidUTF8(field: Int)
    /// Messages were nested deeper than ``ProtoReader/maximumDepth``.
    case nestingTooDeep
    /// Group wire types (3 and 4) are not supported by proto3 and are refused.
    case groupsNotSupported(field: Int)
    /// A value that is well-formed on the wire but not valid for its field (e.g. a map entry key).
    case invalidValue(field: Int)
}
