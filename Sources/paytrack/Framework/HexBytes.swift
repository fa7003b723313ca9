import LightningPrimitives
import Crypto
import JSON
import LightningRPC
import ProtoWire

/// lncli's byte display (`--hexbytes`): lncli marshals with its protobuf fork's
/// `UseHexForBytes`, so `bytes` fields print as hex where the REST gateway prints base64. This
/// rewrites gateway JSON accordingly, field by field, using the API's own descriptors
/// (`LightningDescriptors.files`) to know which fields are `bytes`, which are messages, and
/// which messages are map entries.
///
/// Contract: only values of `bytes` fields change (repeated and map values included, at any
/// depth); a value that is not valid base64 is left as is; unknown message names pass through.
enum HexBytes {
    /// One field of a message, as the descriptor gives it.
    struct Field: Sendable {
        let type: Int32        // FieldDescriptorProto.Type: 11 message, 12 bytes
        let typeName: String   // ".pkg.Msg" for messages and enums
    }

    struct Message: Sendable {
        var fields: [String: Field] = [:]
        var isMapEntry = false
    }

    static let typeMessage: Int32 = 11
    static let typeBytes: Int32 = 12

    /// Every message of the API by full name ("lnrpc.Payment", "lnrpc.Payment.FirstHopCustomRecordsEntry").
    static let schema: [String: Message] = {
        var out: [String: Message] = [:]
        for file in LightningDescriptors.files {
            try? file.bytes.withUnsafeBytes { buffer throws in
                var r = ProtoReader(buffer: buffer)
                var package = ""
                var messages: [[UInt8]] = []
                while let tag = try r.nextTag() {
                    switch tag.number {
                    case 2: package = try r.readString(tag)
                    case 4: messages.append(try r.readBytes(tag))
                    default: try r.skip(tag)
                    }
                }
                for m in messages { try parseMessage(m, scope: package, into: &out) }
            }
        }
        return out
    }()

    /// DescriptorProto: name=1, field=2, nested_type=3, options=7 (MessageOptions.map_entry=7).
    private static func parseMessage(_ bytes: [UInt8], scope: String, into out: inout [String: Message]) throws {
        var name = ""
        var message = Message()
        var nested: [[UInt8]] = []
        try bytes.withUnsafeBytes { buffer throws in
            var r = ProtoReader(buffer: buffer)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: name = try r.readString(tag)
                case 2:
                    let (fieldName, field) = try parseField(try r.readBytes(tag))
                    message.fields[fieldName] = field
                case 3: nested.append(try r.readBytes(tag))
                case 7:
                    var o = try r.nestedReader(tag)
                    while let t = try o.nextTag() {
                        if t.number == 7 { message.isMapEntry = try o.readBool(t) } else { try o.skip(t) }
                    }
                default: try r.skip(tag)
                }
            }
        }
        let full = scope.isEmpty ? name : scope + "." + name
        out[full] = message
        for n in nested { try parseMessage(n, scope: full, into: &out) }
    }

    /// FieldDescriptorProto: name=1, type=5, type_name=6.
    private static func parseField(_ bytes: [UInt8]) throws -> (String, Field) {
        var name = "", type: Int32 = 0, typeName = ""
        try bytes.withUnsafeBytes { buffer throws in
            var r = ProtoReader(buffer: buffer)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: name = try r.readString(tag)
                case 5: type = try r.readEnum(tag)
                case 6: typeName = try r.readString(tag)
                default: try r.skip(tag)
                }
            }
        }
        return (name, Field(type: type, typeName: typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName))
    }

    /// `json` (gateway JSON of message `messageName`) with every bytes value as hex.
    static func convert(_ json: JSONValue, messageName: String) -> JSONValue {
        guard case .object(let members) = json, let message = schema[messageName] else { return json }
        return .object(members.map { m in
            guard let field = message.fields[m.key] else { return m }
            return JSONMember(m.key, convertValue(m.value, field: field))
        })
    }

    private static func convertValue(_ value: JSONValue, field: Field) -> JSONValue {
        if case .array(let elements) = value { return .array(elements.map { convertValue($0, field: field) }) }
        switch field.type {
        case typeBytes:
            guard case .string(let s) = value, let bytes = Base64.decode(s) else { return value }
            return .string(Hex.encode(bytes))
        case typeMessage:
            guard let target = schema[field.typeName] else { return value }
            if target.isMapEntry, case .object(let entries) = value, let valueField = target.fields["value"] {
                return .object(entries.map { JSONMember($0.key, convertValue($0.value, field: valueField)) })
            }
            return convert(value, messageName: field.typeName)
        default:
            return value
        }
    }
}
