/// Request metadata (custom headers). Keys are lowercase. Values of keys ending in "-bin" are
/// binary (sent base64); others are ASCII strings.
public struct Metadata: Sendable, Sequence {
    public enum Value: Sendable, Equatable {
        case string(String)
        case binary([UInt8])
    }

    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}
    public init(_ pairs: [(String, String)]) { for (k, v) in pairs { add(k, v) } }

    /// Adds an ASCII value (the key is lowercased).
    public mutating func add(_ key: String, _ value: String) { entries.append((key.lowercased(), .string(value))) }
    /// Adds a binary value (key must end in "-bin").
    public mutating func add(_ key: String, binary: [UInt8]) { entries.append((key.lowercased(), .binary(binary))) }
    mutating func append(_ key: String, _ value: Value) { entries.append((key, value)) }

    /// First string value for `key`.
    public subscript(key: String) -> String? {
        for e in entries where e.key == key { if case .string(let s) = e.value { return s } }
        return nil
    }

    /// First binary value for `key` (a "-bin" key).
    public func binary(_ key: String) -> [UInt8]? {
        for e in entries where e.key == key { if case .binary(let b) = e.value { return b } }
        return nil
    }

    /// All values for `key`.
    public func values(_ key: String) -> [Value] { entries.filter { $0.key == key }.map { $0.value } }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> { entries.makeIterator() }
}

/// Base64 for "-bin" metadata (standard alphabet; decoding accepts missing padding).
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [Int8] = {
        var r = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { r[Int(c)] = Int8(i) }
        r[Int(UInt8(ascii: "-"))] = 62; r[Int(UInt8(ascii: "_"))] = 63
        return r
    }()

    public static func encode(_ b: [UInt8], padding: Bool = true) -> String {
        var out = [UInt8](); out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            for s in [18, 12, 6, 0] { out.append(alphabet[Int(v >> UInt32(s) & 63)]) }
            i += 3
        }
        let rest = b.count - i
        if rest == 1 {
            let v = UInt32(b[i]) << 16
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            if padding { out.append(61); out.append(61) }
        } else if rest == 2 {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)]); out.append(alphabet[Int(v >> 6 & 63)])
            if padding { out.append(61) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode<C: Collection>(_ s: C) -> [UInt8]? where C.Element == UInt8 {
        var out = [UInt8](); out.reserveCapacity(s.count * 3 / 4)
        var acc: UInt32 = 0, bits = 0
        var sawPad = false
        for c in s {
            if c == 61 { sawPad = true; continue }
            if sawPad { return nil }
            let v = reverse[Int(c)]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        if bits >= 6 { return nil }
        return out
    }
}
