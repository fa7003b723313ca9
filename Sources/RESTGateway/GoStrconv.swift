/// Go's `strconv` parsers with Go's error texts, as grpc-gateway applies them to path and query
/// parameters (`strconv.ParseBool: parsing "x": invalid syntax`, ...).
enum GoStrconv {
    struct NumError: Error, CustomStringConvertible {
        let function: String
        let input: String
        let outOfRange: Bool
        var description: String {
            "strconv.\(function): parsing \"\(input)\": \(outOfRange ? "value out of range" : "invalid syntax")"
        }
    }

    static func parseBool(_ s: String) throws(NumError) -> Bool {
        switch s {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw NumError(function: "ParseBool", input: s, outOfRange: false)
        }
    }

    /// `strconv.ParseInt(s, 10, bits)` (an optional sign, decimal digits, `_` not allowed in base 10).
    static func parseInt<T: FixedWidthInteger & SignedInteger>(_ s: String, _: T.Type) throws(NumError) -> T {
        guard isDecimal(s, signed: true) else { throw NumError(function: "ParseInt", input: s, outOfRange: false) }
        guard let v = T(s, radix: 10) else { throw NumError(function: "ParseInt", input: s, outOfRange: true) }
        return v
    }

    static func parseUint<T: FixedWidthInteger & UnsignedInteger>(_ s: String, _: T.Type) throws(NumError) -> T {
        guard isDecimal(s, signed: false) else { throw NumError(function: "ParseUint", input: s, outOfRange: false) }
        guard let v = T(s, radix: 10) else { throw NumError(function: "ParseUint", input: s, outOfRange: true) }
        return v
    }

    static func parseFloat(_ s: String) throws(NumError) -> Double {
        guard !s.isEmpty, let v = Double(s) else { throw NumError(function: "ParseFloat", input: s, outOfRange: false) }
        if v.isInfinite && !s.lowercased().contains("inf") { throw NumError(function: "ParseFloat", input: s, outOfRange: true) }
        return v
    }

    private static func isDecimal(_ s: String, signed: Bool) -> Bool {
        var u = Substring(s).utf8[...]
        if signed, let f = u.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
