import JSON

/// The texts serde and serde_json write when a JSON value does not fit a Rust type, as KDF's
/// `serde_json::from_value` reports them inside `InvalidRequest` (no "at line X column Y" suffix;
/// strings in double quotes, as real serde output has them).
///
/// Contract: every function returns exactly the Display text of the serde error it names:
/// `invalid type: {unexpected}, expected {expected}`, `invalid value: ...`, `missing field `x``,
/// `unknown variant `x`, expected ...`, `unknown field `x`, expected ...`.
public enum SerdeMessage {
    /// serde_json's `Unexpected` rendering of a value (`JsonUnexpected`): `string "x"`,
    /// `integer `5``, `floating point `1.5``, `boolean `true``, `null`, `sequence`, `map`.
    public static func unexpected(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "boolean `\(b)`"
        case .string(let s): return "string \(rustDebugString(s))"
        case .array: return "sequence"
        case .object: return "map"
        case .number(let text):
            if let i = JSONNumber.integer(text, Int64.self), isIntegerLiteral(text) { return "integer `\(i)`" }
            if let u = JSONNumber.integer(text, UInt64.self), isIntegerLiteral(text) { return "integer `\(u)`" }
            return "floating point `\(floatText(text))`"
        }
    }

    public static func invalidType(_ value: JSONValue, expected: String) -> String {
        "invalid type: \(unexpected(value)), expected \(expected)"
    }

    public static func invalidValue(_ value: JSONValue, expected: String) -> String {
        "invalid value: \(unexpected(value)), expected \(expected)"
    }

    public static func missingField(_ name: String) -> String { "missing field `\(name)`" }

    /// serde's `unknown variant` text with its `OneOf` list: "there are no variants",
    /// "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
    public static func unknownVariant(_ name: String, expected: [String]) -> String {
        "unknown variant `\(name)`, \(oneOf(expected, none: "there are no variants"))"
    }

    public static func unknownField(_ name: String, expected: [String]) -> String {
        "unknown field `\(name)`, \(oneOf(expected, none: "there are no fields"))"
    }

    static func oneOf(_ names: [String], none: String) -> String {
        switch names.count {
        case 0: return none
        case 1: return "expected `\(names[0])`"
        case 2: return "expected `\(names[0])` or `\(names[1])`"
        default: return "expected one of " + names.map { "`\($0)`" }.joined(separator: ", ")
        }
    }

    /// JSON number text without fraction or exponent: serde_json parses those as integers.
    static func isIntegerLiteral(_ text: String) -> Bool {
        !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
    }

    /// serde_json prints floats with ryu: a whole number keeps ".0", others their shortest form.
    static func floatText(_ text: String) -> String {
        guard let d = Double(text), d.isFinite else { return text }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    /// Rust's `{:?}` of a `str`: double quotes with `\"`, `\\`, `\n`, `\r`, `\t`, `\0` and
    /// `\u{..}` for other control characters.
    public static func rustDebugString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{\(String(scalar.value, radix: 16))}" } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
