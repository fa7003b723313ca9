import JSON
import LightningPrimitives
import LightningRPC
import RPCCore

/// Builds a method's request message from an HTTP request as LND's REST gateway does: path
/// variables first typed by their field (`runtime.Bytes`, `runtime.Uint64`, ...), then either the
/// JSON body (`body: "*"`) or the query parameters (`PopulateQueryParameters`: unknown names
/// ignored, path-bound fields skipped). Errors are InvalidArgument with the gateway's texts.
///
/// Beyond LND: a bytes path variable of exactly 64 hex characters is read as hex (a 32-byte
/// payment hash; as base64 such text would decode to 48 bytes, which no hash is), and path
/// segments are percent-decoded before matching, so standard base64 with `/` sent as `%2F` works.
struct RequestDecoder: Sendable {
    let schema: MessageSchema

    func decode(method: GatewayMethod, binding: RESTBinding, pathValues: [(field: [String], value: String)],
                query: [(name: String, value: String)], body: [UInt8]?) throws(GRPCStatus) -> [UInt8] {
        let messageName = method.input.protoMessageName
        var root: JSONValue = .object([])
        if binding.body == .all, let body, let parsed = try Self.parseBody(body) {
            guard case .object = parsed else {
                throw GRPCStatus(.invalidArgument, "proto: syntax error (line 1:1): unexpected token \(JSONWriter.string(parsed).prefix(20))")
            }
            root = parsed
        }
        for (field, value) in pathValues {
            let v: JSONValue
            do { v = try typedValue(field, value, in: messageName, fromPath: true) } catch {
                throw GRPCStatus(.invalidArgument, "type mismatch, parameter: \(field.joined(separator: ".")), error: \(error.text)")
            }
            Self.set(&root, field, v)
        }
        if binding.body == .none {
            let bound = Set(pathValues.map { $0.field.joined(separator: ".") })
            var grouped: [(path: [String], values: [String])] = []
            for (name, value) in query where !bound.contains(name) {
                let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if let i = grouped.firstIndex(where: { $0.path == path }) { grouped[i].values.append(value) }
                else { grouped.append((path, [value])) }
            }
            for (path, values) in grouped {
                guard let f = fieldChain(path, in: messageName) else { continue }   // unknown: ignored, as grpc-gateway v2
                do {
                    if f.repeated {
                        var items: [JSONValue] = []
                        for v in values { items.append(try typedValue(path, v, in: messageName, fromPath: false)) }
                        Self.set(&root, path, .array(items))
                    } else {
                        Self.set(&root, path, try typedValue(path, values[0], in: messageName, fromPath: false))
                    }
                } catch {
                    throw GRPCStatus(.invalidArgument, error.text)
                }
            }
        }
        do {
            return try method.input.init(gatewayJSON: root).serializedBytes()
        } catch {
            throw GRPCStatus(.invalidArgument, Self.protojsonText(error))
        }
    }

    struct ParamError: Error { let text: String }

    /// The field at the end of `path` (each step a proto or JSON name), or nil when any step is unknown.
    func fieldChain(_ path: [String], in message: String) -> MessageSchema.Field? {
        var current = message
        var field: MessageSchema.Field?
        for (i, name) in path.enumerated() {
            guard let f = schema.field(name, of: current) else { return nil }
            field = f
            if i < path.count - 1 {
                guard case .message(let next) = f.kind, !f.repeated else { return nil }
                current = next
            }
        }
        return field
    }

    /// One parameter's text as the JSON value of its field.
    func typedValue(_ path: [String], _ text: String, in message: String, fromPath: Bool) throws(ParamError) -> JSONValue {
        guard let f = fieldChain(path, in: message) else {
            throw ParamError(text: "no field \"\(path.joined(separator: "."))\" found in \(message)")
        }
        do {
            switch f.kind {
            case .string: return .string(text)
            case .bool: return .bool(try GoStrconv.parseBool(text))
            case .int64: return .string(String(try GoStrconv.parseInt(text, Int64.self)))
            case .int32: return .number(String(try GoStrconv.parseInt(text, Int32.self)))
            case .uint64: return .string(String(try GoStrconv.parseUint(text, UInt64.self)))
            case .uint32: return .number(String(try GoStrconv.parseUint(text, UInt32.self)))
            case .double, .float:
                let d = try GoStrconv.parseFloat(text)
                if d.isNaN { return .string("NaN") }
                if d.isInfinite { return .string(d < 0 ? "-Infinity" : "Infinity") }
                return .number(text)
            case .bytes:
                return .string(Base64.encode(try Self.bytes(text, fromPath: fromPath)))
            case .enumeration:
                // Names and numbers are both accepted by the message decoder, which checks them.
                if let n = Int32(text) { return .number(String(n)) }
                return .string(text)
            case .message:
                throw ParamError(text: "unexpected type message in \(message)")
            }
        } catch let e as GoStrconv.NumError {
            throw ParamError(text: e.description)
        } catch let e as Base64CorruptInput {
            throw ParamError(text: e.description)
        } catch let e as ParamError {
            throw e
        } catch {
            throw ParamError(text: "\(error)")
        }
    }

    /// grpc-gateway's `runtime.Bytes` (standard base64, then URL-safe, both padded), plus 64 hex
    /// characters as 32 bytes for path variables.
    static func bytes(_ text: String, fromPath: Bool) throws(Base64CorruptInput) -> [UInt8] {
        if fromPath, text.utf8.count == 64, let h = Hex.decode(text), h.count == 32 { return h }
        if let b = try? Base64.decodeGo(text, urlSafe: false) { return b }
        return try Base64.decodeGo(text, urlSafe: true)
    }

    /// Sets `value` at `path` inside the object `root`, creating objects on the way (later values win).
    static func set(_ root: inout JSONValue, _ path: [String], _ value: JSONValue) {
        guard let first = path.first else { root = value; return }
        var members: [JSONMember] = []
        if case .object(let m) = root { members = m }
        if path.count == 1 {
            members.removeAll { $0.key == first }
            members.append(JSONMember(first, value))
        } else {
            var child: JSONValue = .object([])
            if let i = members.firstIndex(where: { $0.key == first }) {
                child = members[i].value
                members.remove(at: i)
            }
            if case .object = child {} else { child = .object([]) }
            set(&child, Array(path.dropFirst()), value)
            members.append(JSONMember(first, child))
        }
        root = .object(members)
    }

    /// The request body as Go's `json.Decoder` reads it: nil for an empty body (io.EOF: the empty
    /// request), the first JSON value (what follows it is not read), or encoding/json's texts.
    static func parseBody(_ body: [UInt8]) throws(GRPCStatus) -> JSONValue? {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        do {
            return try JSONParser().parse(body)
        } catch {
            switch error {
            case .trailingData(let offset):
                if let v = try? JSONParser().parse(Array(body[..<offset])) { return v }
                throw GRPCStatus(.invalidArgument, "invalid character after top-level value")
            case .unexpectedEnd:
                throw GRPCStatus(.invalidArgument, "unexpected EOF")
            case .unexpectedCharacter(let c, _):
                throw GRPCStatus(.invalidArgument, "invalid character \(goQuoted(c)) looking for beginning of value")
            case .tooLarge:
                throw GRPCStatus(.resourceExhausted, "request body too large")
            default:
                throw GRPCStatus(.invalidArgument, "invalid JSON: \(error)")
            }
        }
    }

    /// Go's `%q` of one byte as encoding/json quotes it in errors ('x').
    static func goQuoted(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return c == UInt8(ascii: "'") ? "'\\''" : "'\(Character(Unicode.Scalar(c)))'" }
        return "'\\x\(String(c, radix: 16))'"
    }

    /// protojson's words for a body whose JSON does not fit the message.
    static func protojsonText(_ error: GatewayJSONError) -> String {
        switch error {
        case .syntax(let e): return "proto: syntax error: \(e)"
        case .expectedObject(let m): return "proto: unexpected token, want object for \(m)"
        case .unknownField(_, let f): return "proto: unknown field \"\(f)\""
        case .invalidValue(let f, let reason): return "proto: invalid value for field \(f): \(reason)"
        }
    }
}
