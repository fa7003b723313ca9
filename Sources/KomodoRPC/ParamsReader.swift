import JSON

/// A serde failure while reading a request: its message becomes `InvalidRequest`'s text.
public struct SerdeError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Reads a JSON object the way a serde-derived struct without `deny_unknown_fields` does:
/// members in document order, unknown keys ignored, the first bad value reported, then missing
/// required fields in declaration order.
///
/// Usage: `var r = try ParamsReader(value, structName:)`, then `r.field("x") { v in ... }` for
/// each declared field in declaration order, then `try r.finish()`. Values are decoded eagerly in
/// document order by `decodeAll`, so the error reported is the one serde would hit first.
public struct ParamsReader {
    public typealias Decoder = (JSONValue) throws(SerdeError) -> Void

    let members: [JSONMember]
    var declared: [(name: String, required: Bool, decode: Decoder)] = []

    /// `value` must be an object; otherwise serde's `invalid type: ..., expected struct NAME`.
    public init(_ value: JSONValue, structName: String) throws(SerdeError) {
        guard case .object(let m) = value else {
            throw SerdeError(SerdeMessage.invalidType(value, expected: "struct \(structName)"))
        }
        members = m
    }

    /// Declares a field. `required` fields missing at the end are `missing field`; a JSON `null`
    /// for an optional field is None and `decode` is not called.
    public mutating func field(_ name: String, required: Bool = false, _ decode: @escaping Decoder) {
        declared.append((name, required, decode))
    }

    /// Decodes every present declared field in document order, then reports the first missing
    /// required one.
    public func decodeAll() throws(SerdeError) {
        var seen = [Bool](repeating: false, count: declared.count)
        for m in members {
            guard let i = declared.firstIndex(where: { $0.name == m.key }) else { continue }
            seen[i] = true
            let d = declared[i]
            if !d.required, m.value == .null { continue }
            try d.decode(m.value)
        }
        for (i, d) in declared.enumerated() where d.required && !seen[i] {
            throw SerdeError(SerdeMessage.missingField(d.name))
        }
    }

    // MARK: primitive decoders (serde's own expectations)

    public static func string(_ v: JSONValue) throws(SerdeError) -> String {
        guard case .string(let s) = v else { throw SerdeError(SerdeMessage.invalidType(v, expected: "a string")) }
        return s
    }

    /// An unsigned integer of `T` ("u64", "u32", "usize"): floats and non-numbers are invalid
    /// type, negative or too large integers invalid value.
    public static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ v: JSONValue, _ type: T.Type, name: String) throws(SerdeError) -> T {
        guard case .number(let text) = v, SerdeMessage.isIntegerLiteral(text) else {
            throw SerdeError(SerdeMessage.invalidType(v, expected: name))
        }
        if let n = JSONNumber.integer(text, T.self) { return n }
        // Beyond 64 bits serde_json reads a float: a type error, not a value error.
        if JSONNumber.integer(text, Int64.self) == nil && JSONNumber.integer(text, UInt64.self) == nil {
            throw SerdeError(SerdeMessage.invalidType(v, expected: name))
        }
        throw SerdeError(SerdeMessage.invalidValue(v, expected: name))
    }

    public static func u64(_ v: JSONValue) throws(SerdeError) -> UInt64 { try unsigned(v, UInt64.self, name: "u64") }
    public static func u32(_ v: JSONValue) throws(SerdeError) -> UInt32 { try unsigned(v, UInt32.self, name: "u32") }
    public static func usize(_ v: JSONValue) throws(SerdeError) -> Int {
        Int(try unsigned(v, UInt64.self, name: "usize") & UInt64(Int.max))
    }

    /// KDF's `H256Json`: exactly 64 hex digits, either case ("a hash string").
    public static func hash(_ v: JSONValue) throws(SerdeError) -> [UInt8] {
        guard case .string(let s) = v else { throw SerdeError(SerdeMessage.invalidType(v, expected: "a hash string")) }
        guard s.utf8.count == 64, let bytes = Hex.decode(s) else {
            throw SerdeError(SerdeMessage.invalidValue(v, expected: "a hash string"))
        }
        return bytes
    }
}

import LightningPrimitives
