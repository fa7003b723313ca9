import ProtoWire

/// The field kinds of every message in the API's descriptors (`google.protobuf.FileDescriptorProto`
/// as `LightningDescriptors.files` holds them), so path and query parameters, which arrive as
/// text, can be turned into typed values as grpc-gateway's `PopulateFieldFromPath` and
/// `PopulateQueryParameters` do with protoreflect.
public struct MessageSchema: Sendable {
    /// A field's protobuf type, as `FieldDescriptorProto.Type` numbers it.
    public enum Kind: Sendable, Equatable {
        case double, float, int64, uint64, int32, uint32, bool, string, bytes
        case enumeration(String)
        case message(String)
    }

    public struct Field: Sendable {
        public let name: String
        public let jsonName: String
        public let kind: Kind
        public let repeated: Bool
    }

    /// Fields by message full name ("lnrpc.Invoice"), in declaration order.
    public private(set) var messages: [String: [Field]] = [:]

    /// Parses serialized `FileDescriptorProto`s (unknown fields skipped; a malformed descriptor
    /// is a programming error in the generated code, so it is skipped rather than thrown).
    public init(files: [[UInt8]]) {
        for f in files {
            f.withUnsafeBytes { buf in
                var r = ProtoReader(buffer: buf)
                try? parseFile(&r)
            }
        }
    }

    /// The field named `name` (proto name or JSON name) of message `message`.
    public func field(_ name: String, of message: String) -> Field? {
        messages[message]?.first { $0.name == name || $0.jsonName == name }
    }

    private mutating func parseFile(_ r: inout ProtoReader) throws {
        var package = ""
        var bodies: [[UInt8]] = []
        while let tag = try r.nextTag() {
            switch tag.number {
            case 2: package = try r.readString(tag)
            case 4: bodies.append(try r.readBytes(tag))
            default: try r.skip(tag)
            }
        }
        for b in bodies { try parseMessage(b, scope: package) }
    }

    private mutating func parseMessage(_ bytes: [UInt8], scope: String) throws {
        var name = ""
        var fields: [Field] = []
        var nested: [[UInt8]] = []
        try bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: name = try r.readString(tag)
                case 2: if let f = try Self.parseField(try r.readBytes(tag)) { fields.append(f) }
                case 3: nested.append(try r.readBytes(tag))
                default: try r.skip(tag)
                }
            }
        }
        let full = scope.isEmpty ? name : "\(scope).\(name)"
        messages[full] = fields
        for n in nested { try parseMessage(n, scope: full) }
    }

    private static func parseField(_ bytes: [UInt8]) throws -> Field? {
        var name = "", jsonName = "", typeName = ""
        var label: UInt64 = 1, type: UInt64 = 0
        try bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: name = try r.readString(tag)
                case 4: label = try r.readUInt64(tag)
                case 5: type = try r.readUInt64(tag)
                case 6: typeName = try r.readString(tag)
                case 10: jsonName = try r.readString(tag)
                default: try r.skip(tag)
                }
            }
        }
        let resolved = typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
        let kind: Kind
        switch type {
        case 1: kind = .double
        case 2: kind = .float
        case 3, 16, 18: kind = .int64
        case 4, 6: kind = .uint64
        case 5, 15, 17: kind = .int32
        case 7, 13: kind = .uint32
        case 8: kind = .bool
        case 9: kind = .string
        case 12: kind = .bytes
        case 14: kind = .enumeration(resolved)
        case 11: kind = .message(resolved)
        default: return nil
        }
        return Field(name: name, jsonName: jsonName.isEmpty ? name : jsonName, kind: kind, repeated: label == 3)
    }
}
