/// A strict RFC 8259 parser with limits.
///
/// Contract:
/// - Accepts exactly one value surrounded by optional whitespace; anything else is a typed
///   ``JSONError`` (never a trap). No comments, no trailing commas, no NaN/Infinity literals, no
///   leading zeros, no raw control characters in strings, no invalid UTF-8, no lone surrogates.
/// - Duplicate keys in one object are refused (`duplicateKey`): a later key silently winning is a
///   classic request-smuggling hazard.
/// - Bounded: documents above `maximumBytes` are refused before parsing; nesting deeper than
///   `maximumDepth` is refused; recursion depth is therefore bounded too.
public struct JSONParser: Sendable {
    public struct Limits: Sendable {
        public var maximumDepth: Int
        public var maximumBytes: Int
        public init(maximumDepth: Int = 64, maximumBytes: Int = 4 << 20) {
            self.maximumDepth = maximumDepth
            self.maximumBytes = maximumBytes
        }
    }

    public var limits: Limits
    public init(limits: Limits = Limits()) { self.limits = limits }

    public func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONError) -> JSONValue in try parse(buf) }
    }

    public func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        guard buffer.count <= limits.maximumBytes else { throw .tooLarge(buffer.count) }
        var cursor = Cursor(bytes: buffer, maximumDepth: limits.maximumDepth)
        cursor.skipWhitespace()
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        guard cursor.offset == buffer.count else { throw .trailingData(offset: cursor.offset) }
        return value
    }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    func peek() throws(JSONError) -> UInt8 {
        guard offset < bytes.count else { throw .unexpectedEnd }
        return bytes[offset]
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        let p = literal.utf8Start
        for i in 0..<n {
            guard offset < bytes.count else { throw .unexpectedEnd }
            guard bytes[offset] == p[i] else { throw .unexpectedCharacter(bytes[offset], offset: offset) }
            offset += 1
        }
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        let c = try peek()
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw .unexpectedCharacter(c, offset: offset)
        }
    }

    mutating func object(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maximumDepth else { throw .tooDeep(offset: offset) }
        offset += 1
        var members: [JSONMember] = []
        // Repeated keys: a linear scan of the few keys most objects have; a set past 16.
        var seen: Set<String>?
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") { offset += 1; return .object(members) }
        while true {
            skipWhitespace()
            let keyOffset = offset
            let c = try peek()
            guard c == UInt8(ascii: "\"") else { throw .unexpectedCharacter(c, offset: offset) }
            let key = try string()
            if seen == nil && members.count >= 16 { seen = Set(members.map(\.key)) }
            if seen != nil {
                guard seen!.insert(key).inserted else { throw .duplicateKey(key, offset: keyOffset) }
            } else if members.contains(where: { $0.key == key }) {
                throw .duplicateKey(key, offset: keyOffset)
            }
            skipWhitespace()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw .unexpectedCharacter(colon, offset: offset) }
            offset += 1
            skipWhitespace()
            members.append(JSONMember(key, try value(depth: depth)))
            skipWhitespace()
            let next = try peek()
            offset += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else { throw .unexpectedCharacter(next, offset: offset - 1) }
        }
    }

    mutating func array(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maximumDepth else { throw .tooDeep(offset: offset) }
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") { offset += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            let next = try peek()
            offset += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { throw .unexpectedCharacter(next, offset: offset - 1) }
        }
    }

    mutating func digits() -> Int {
        let start = offset
        while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 { offset += 1 }
        return offset - start
    }

    mutating func number() throws(JSONError) -> String {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count else { throw .unexpectedEnd }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 { throw .invalidNumber(offset: start) }
        } else if digits() == 0 {
            throw .invalidNumber(offset: start)
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw .invalidNumber(offset: start) }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw .invalidNumber(offset: start) }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw .unexpectedEnd }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw .invalidEscape(offset: offset)
            }
            v = v << 4 | UInt32(d)
            offset += 1
        }
        return v
    }

    /// Reads a string starting at its opening quote; returns its decoded value.
    mutating func string() throws(JSONError) -> String {
        offset += 1
        let start = offset
        // Fast path: no escapes. ASCII needs no validation (String(validating:) is an unspecialized
        // generic call, the costliest part of parsing a small request).
        var ascii = true
        while offset < bytes.count {
            let c = bytes[offset]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                let s: String
                if ascii {
                    s = String(decoding: raw, as: UTF8.self)
                } else {
                    guard let v = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
                    s = v
                }
                offset += 1
                return s
            }
            if c >= 0x80 { ascii = false }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw .controlCharacterInString(offset: offset) }
            offset += 1
        }
        guard offset < bytes.count else { throw .unexpectedEnd }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while true {
            guard offset < bytes.count else { throw .unexpectedEnd }
            let c = bytes[offset]
            if c == UInt8(ascii: "\"") {
                offset += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
                return s
            }
            if c < 0x20 { throw .controlCharacterInString(offset: offset) }
            if c != UInt8(ascii: "\\") { out.append(c); offset += 1; continue }
            let escapeAt = offset
            offset += 1
            guard offset < bytes.count else { throw .unexpectedEnd }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw .invalidEscape(offset: escapeAt)
                    }
                    offset += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw .invalidEscape(offset: escapeAt) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw .invalidEscape(offset: escapeAt)
                }
                guard let u = Unicode.Scalar(scalar) else { throw .invalidEscape(offset: escapeAt) }
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw .invalidEscape(offset: escapeAt)
            }
        }
    }
}
