/// The six protobuf wire types (protobuf encoding spec, "Message Structure").
/// Groups (3, 4) are recognised only so that they can be refused with a typed error.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A field tag: field number and wire type, as read from or written to the wire.
public struct FieldTag: Sendable, Equatable {
    public let number: Int
    public let wireType: WireType
    @inlinable public init(number: Int, wireType: WireType) {
        self.number = number
        self.wireType = wireType
    }
    /// The tag's varint value: `number << 3 | wireType`.
    @inlinable public var rawValue: UInt64 { UInt64(number) << 3 | UInt64(wireType.rawValue) }
}
