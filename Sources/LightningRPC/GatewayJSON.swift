import LightningPrimitives
import JSON
import ProtoWire

/// Why gateway JSON could not be decoded into a message.
public enum GatewayJSONError: Error, Equatable, Sendable {
    /// The text is not JSON (or breaks the parser's limits).
    case syntax(JSONError)
    /// A message was expected (an object or null) but the value is something else.
    case expectedObject(message: String)
    /// The object names a field the message does not have (protojson refuses these too).
    case unknownField(message: String, field: String)
    /// A field's value has the wrong JSON type or is out of range for the field.
    case invalidValue(field: String, reason: String)
}

/// A message in LND's REST gateway JSON form (grpc-gateway's `JSONPb` with `EmitUnpopulated` and
/// `UseProtoNames`, spec §10).
///
/// Contract (encoding): keys are proto snake_case names in declaration order; every field is
/// present: unset messages `null`, empty repeated `[]`, empty maps `{}`, zero scalars; proto3
/// `optional` fields only when set. 64-bit integers are strings, 32-bit integers numbers, bytes
/// standard padded base64, enums their value name (a number if unrecognized), map keys strings in
/// ascending key order, non-finite doubles `"NaN"`/`"Infinity"`/`"-Infinity"`.
///
/// Contract (decoding): accepts proto names or lowerCamelCase json names; `null` for any field
/// means unset; enums by name or number; integers as numbers or strings; bytes in standard or
/// URL-safe base64, padded or not. Unknown fields and wrong types throw ``GatewayJSONError``.
public protocol GatewayJSONMessage: ProtoMessage {
    func gatewayJSON() -> JSONValue
    init(gatewayJSON: JSONValue) throws(GatewayJSONError)
}

extension GatewayJSONMessage {
    /// The compact JSON text of this message.
    public func gatewayJSONString() -> String { JSONWriter.string(gatewayJSON()) }

    /// Appends the compact JSON of this message to `writer`.
    public func writeGatewayJSON(to writer: inout JSONWriter) { writer.write(gatewayJSON()) }

    /// Parses `bytes` with `parser` (default limits) and decodes the message.
    public init(gatewayJSONBytes bytes: [UInt8], parser: JSONParser = JSONParser()) throws(GatewayJSONError) {
        let value: JSONValue
        do { value = try parser.parse(bytes) } catch { throw .syntax(error) }
        try self.init(gatewayJSON: value)
    }

    public init(gatewayJSONString text: String, parser: JSONParser = JSONParser()) throws(GatewayJSONError) {
        try self.init(gatewayJSONBytes: Array(text.utf8), parser: parser)
    }
}

/// Field-level conversions used by the generated `GatewayJSONMessage` conformances.
public enum GatewayJSON {
    // MARK: Encoding

    @inlinable public static func int64(_ v: Int64) -> JSONValue { .string(String(v)) }
    @inlinable public static func uint64(_ v: UInt64) -> JSONValue { .string(String(v)) }
    @inlinable public static func int32(_ v: Int32) -> JSONValue { .number(String(v)) }
    @inlinable public static func uint32(_ v: UInt32) -> JSONValue { .number(String(v)) }

    public static func double(_ v: Double) -> JSONValue {
        if v.isNaN { return .string("NaN") }
        if v.isInfinite { return .string(v < 0 ? "-Infinity" : "Infinity") }
        return .double(v)
    }

    public static func bytes(_ v: [UInt8]) -> JSONValue { .string(Base64.encode(v)) }

    public static func enumValue<E: ProtoEnum>(_ v: E) -> JSONValue {
        if let name = v.protoName { return .string(name) }
        return .number(String(v.rawValue))
    }

    public static func message<M: GatewayJSONMessage>(_ v: M?) -> JSONValue { v?.gatewayJSON() ?? .null }

    public static func map<K: Comparable, V>(_ m: [K: V], _ value: (V) -> JSONValue) -> JSONValue {
        .object(m.keys.sorted().map { JSONMember("\($0)", value(m[$0]!)) })
    }

    // MARK: Decoding

    /// The text of an integer given as a JSON number or a JSON string.
    static func integerText(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> String {
        switch v {
        case .number(let t): return t
        case .string(let s):
            // protojson accepts quoted numbers in JSON number syntax.
            guard case .number(let t)? = try? JSONParser().parse(s) else {
                throw .invalidValue(field: field, reason: "not an integer: \(s)")
            }
            return t
        default: throw .invalidValue(field: field, reason: "expected an integer")
        }
    }

    static func integer<T: FixedWidthInteger>(_ v: JSONValue, _ field: String, _: T.Type) throws(GatewayJSONError) -> T {
        let text = try integerText(v, field)
        guard let value = JSONNumber.integer(text, T.self) else {
            throw .invalidValue(field: field, reason: "not a \(T.self): \(text)")
        }
        return value
    }

    public static func decodeInt64(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> Int64 { try integer(v, field, Int64.self) }
    public static func decodeUInt64(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> UInt64 { try integer(v, field, UInt64.self) }
    public static func decodeInt32(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> Int32 { try integer(v, field, Int32.self) }
    public static func decodeUInt32(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> UInt32 { try integer(v, field, UInt32.self) }

    public static func decodeBool(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> Bool {
        guard case .bool(let b) = v else { throw .invalidValue(field: field, reason: "expected true or false") }
        return b
    }

    public static func decodeDouble(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> Double {
        switch v {
        case .number(let t):
            guard let d = Double(t), d.isFinite else { throw .invalidValue(field: field, reason: "out of range: \(t)") }
            return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let s):
            guard case .number(let t)? = try? JSONParser().parse(s), let d = Double(t), d.isFinite else {
                throw .invalidValue(field: field, reason: "not a number: \(s)")
            }
            return d
        default: throw .invalidValue(field: field, reason: "expected a number")
        }
    }

    public static func decodeString(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> String {
        guard case .string(let s) = v else { throw .invalidValue(field: field, reason: "expected a string") }
        return s
    }

    public static func decodeBytes(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> [UInt8] {
        guard case .string(let s) = v else { throw .invalidValue(field: field, reason: "expected base64 text") }
        guard let bytes = Base64.decode(s) else { throw .invalidValue(field: field, reason: "invalid base64") }
        return bytes
    }

    public static func decodeEnum<E: ProtoEnum>(_ v: JSONValue, _ field: String) throws(GatewayJSONError) -> E {
        switch v {
        case .string(let name):
            guard let e = E(protoName: name) else { throw .invalidValue(field: field, reason: "unknown enum value \(name)") }
            return e
        case .number:
            return E(rawValue: try integer(v, field, Int32.self))
        default:
            throw .invalidValue(field: field, reason: "expected an enum name or number")
        }
    }

    public static func decodeArray<T>(
        _ v: JSONValue, _ field: String, _ element: (JSONValue) throws(GatewayJSONError) -> T
    ) throws(GatewayJSONError) -> [T] {
        guard case .array(let elements) = v else { throw .invalidValue(field: field, reason: "expected an array") }
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for e in elements { out.append(try element(e)) }
        return out
    }

    public static func decodeMap<K: Hashable, V>(
        _ v: JSONValue, _ field: String, key: (String) -> K?, _ value: (JSONValue) throws(GatewayJSONError) -> V
    ) throws(GatewayJSONError) -> [K: V] {
        guard case .object(let members) = v else { throw .invalidValue(field: field, reason: "expected an object") }
        var out: [K: V] = [:]
        for m in members {
            guard let k = key(m.key) else { throw .invalidValue(field: field, reason: "invalid map key \(m.key)") }
            out[k] = try value(m.value)
        }
        return out
    }

    /// Integer map keys are decimal strings.
    public static func mapKey<T: FixedWidthInteger>(_ s: String, _: T.Type) -> T? { T(s, radix: 10) }
    public static func mapKeyBool(_ s: String) -> Bool? { s == "true" ? true : (s == "false" ? false : nil) }
}
