/// A parsed JSON document (RFC 8259).
///
/// Numbers keep their source text (``JSONValue/number(_:)``), so 64-bit integers and decimal
/// fractions survive without passing through `Double`; the typed accessors convert on demand.
/// Objects keep their members in document order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number as written, already validated against the JSON number grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value of the first member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for m in members where m.key == key { return m.value }
        return nil
    }

    /// A number value for an integer (formatted exactly).
    public static func integer<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }

    /// A number value for a finite double, in the shortest form that reads back to the same
    /// double; integral values in Int64 range print without a fraction (`1`, not `1.0`), as Go and
    /// JavaScript do. Non-finite doubles have no JSON number form: callers must handle them.
    public static func double(_ value: Double) -> JSONValue {
        precondition(value.isFinite, "JSON numbers are finite")
        if value == 0 { return .number(value.sign == .minus ? "-0" : "0") }
        if value > -9.2e18 && value < 9.2e18 {
            let integral = Int64(value)  // truncates; in range by the check above
            if Double(integral) == value { return .number(String(integral)) }
        }
        return .number(value.description)
    }

    /// The number as Int64 if it is an integer in range (`1e3` and `2.0` count as integers).
    public var int64: Int64? {
        guard case .number(let text) = self else { return nil }
        return JSONNumber.integer(text, Int64.self)
    }

    /// The number as UInt64 if it is a non-negative integer in range.
    public var uint64: UInt64? {
        guard case .number(let text) = self else { return nil }
        return JSONNumber.integer(text, UInt64.self)
    }

    /// The number as the nearest Double.
    public var double: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Equatable, Sendable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Exact integer conversion of JSON number text.
public enum JSONNumber {
    /// The integer `text` denotes, if it is one and fits `T`: `12`, `-3`, `1.0`, `1e3`, `1.5e1`
    /// qualify; `1.5` and out-of-range values do not. Works on the decimal digits, never on Double.
    public static func integer<T: FixedWidthInteger>(_ text: String, _: T.Type) -> T? {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") { negative = true; utf8 = utf8.dropFirst() }
        var intDigits: [UInt8] = []
        var fracDigits: [UInt8] = []
        var exponent = 0
        var i = utf8.startIndex
        while i != utf8.endIndex, utf8[i] >= 48, utf8[i] <= 57 { intDigits.append(utf8[i] - 48); i = utf8.index(after: i) }
        if i != utf8.endIndex, utf8[i] == UInt8(ascii: ".") {
            i = utf8.index(after: i)
            while i != utf8.endIndex, utf8[i] >= 48, utf8[i] <= 57 { fracDigits.append(utf8[i] - 48); i = utf8.index(after: i) }
        }
        if i != utf8.endIndex, utf8[i] == UInt8(ascii: "e") || utf8[i] == UInt8(ascii: "E") {
            i = utf8.index(after: i)
            var expNegative = false
            if i != utf8.endIndex, utf8[i] == UInt8(ascii: "+") || utf8[i] == UInt8(ascii: "-") {
                expNegative = utf8[i] == UInt8(ascii: "-"); i = utf8.index(after: i)
            }
            var e = 0
            while i != utf8.endIndex, utf8[i] >= 48, utf8[i] <= 57 {
                e = e * 10 + Int(utf8[i] - 48)
                if e > 400 { return nil }
                i = utf8.index(after: i)
            }
            exponent = expNegative ? -e : e
        }
        guard i == utf8.endIndex, !intDigits.isEmpty else { return nil }
        var digits = intDigits + fracDigits
        var scale = exponent - fracDigits.count   // value = digits * 10^scale
        while scale < 0 {
            guard let last = digits.last, last == 0 else {
                if digits.allSatisfy({ $0 == 0 }) { return 0 }
                return nil
            }
            digits.removeLast(); scale += 1
            if digits.isEmpty { return 0 }
        }
        if digits.allSatisfy({ $0 == 0 }) { return 0 }
        if scale > 40 { return nil }
        digits += [UInt8](repeating: 0, count: scale)
        var value: T = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(T(d)) : m.addingReportingOverflow(T(d))
            if o1 || o2 { return nil }
            value = a
        }
        return value
    }
}
