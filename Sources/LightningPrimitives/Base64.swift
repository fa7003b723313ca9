/// The code base's one base64 (RFC 4648) codec: LND's REST gateway's `bytes` fields, gRPC's
/// `-bin` metadata, the WebSocket handshake's accept value, Go's strict decoder for path parameters.
///
/// Contract:
/// - ``encode(_:urlSafe:padded:)`` writes the standard alphabet with `=` padding by default
///   (Go's `base64.StdEncoding`, what grpc-gateway emits).
/// - ``decode(_:)`` accepts the standard and the URL-safe alphabet, padded or not (what Go's
///   protojson accepts). It returns nil for any other character, misplaced or excess padding,
///   or a length that no encoding can produce (1 mod 4).
public enum Base64 {
    @usableFromInline static let std: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    @usableFromInline static let url: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0...63 for alphabet characters of either alphabet, 0xFF otherwise.
    static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in std.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    public static func encode(_ bytes: some Collection<UInt8>, urlSafe: Bool = false, padded: Bool = true) -> String {
        let alphabet = urlSafe ? url : std
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let b0 = it.next() {
            let b1 = it.next(), b2 = it.next()
            let n = UInt32(b0) << 16 | UInt32(b1 ?? 0) << 8 | UInt32(b2 ?? 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if b1 != nil { out.append(alphabet[Int(n >> 6 & 63)]) } else if padded { out.append(UInt8(ascii: "=")) }
            if b2 != nil { out.append(alphabet[Int(n & 63)]) } else if padded { out.append(UInt8(ascii: "=")) }
            if b2 == nil { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? { decode(bytes: text.utf8) }

    /// ``decode(_:)`` on the UTF-8 bytes of the text (gRPC metadata values arrive as bytes).
    public static func decode(bytes text: some Collection<UInt8>) -> [UInt8]? {
        var chars = Array(text)
        // Strip padding: at most two, only at the end, only to complete a 4-character group.
        var pad = 0
        while let last = chars.last, last == UInt8(ascii: "=") { chars.removeLast(); pad += 1 }
        if pad > 2 || (pad > 0 && (chars.count + pad) % 4 != 0) { return nil }
        if chars.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in chars {
            let v = decodeTable[Int(c)]
            if v == 0xFF { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Go's `base64.CorruptInputError`: the offset of the first byte Go's decoder refused.
public struct Base64CorruptInput: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public init(offset: Int) { self.offset = offset }
    /// Go's text: `illegal base64 data at input byte N`.
    public var description: String { "illegal base64 data at input byte \(offset)" }
}

extension Base64 {
    /// One alphabet each (Go's encodings do not mix them): 0...63, or 0xFF.
    static let goStdTable: [UInt8] = table(std)
    static let goURLTable: [UInt8] = table(url)
    private static func table(_ alphabet: [UInt8]) -> [UInt8] {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }

    /// Go's `base64.StdEncoding` (`urlSafe` false) or `base64.URLEncoding` (true) `DecodeString`:
    /// one alphabet, padding required, CR and LF skipped, and Go's error offsets (what
    /// grpc-gateway's `runtime.Bytes` reports for a path parameter of type bytes).
    public static func decodeGo(_ text: String, urlSafe: Bool) throws(Base64CorruptInput) -> [UInt8] {
        let src = Array(text.utf8)
        let map = urlSafe ? goURLTable : goStdTable
        let pad = UInt8(ascii: "=")
        func isNewline(_ c: UInt8) -> Bool { c == 10 || c == 13 }
        var out: [UInt8] = []
        out.reserveCapacity(src.count * 3 / 4)
        var si = 0
        while true {
            // One quantum of 4 characters (Go's decodeQuantum).
            var dbuf = SIMD4<UInt8>()
            var dlen = 4
            var j = 0
            var trailing: Base64CorruptInput?
            quantum: while j < 4 {
                if si == src.count {
                    if j == 0 { return out }
                    // Padding is required: a short final quantum is corrupt.
                    throw Base64CorruptInput(offset: si - j)
                }
                let c = src[si]
                si += 1
                let v = map[Int(c)]
                if v != 0xFF { dbuf[j] = v; j += 1; continue }
                if isNewline(c) { continue }
                if c != pad { throw Base64CorruptInput(offset: si - 1) }
                switch j {
                case 0, 1:
                    throw Base64CorruptInput(offset: si - 1)
                case 2:
                    while si < src.count && isNewline(src[si]) { si += 1 }
                    if si == src.count { throw Base64CorruptInput(offset: src.count) }
                    if src[si] != pad { throw Base64CorruptInput(offset: si - 1) }
                    si += 1
                default:
                    break
                }
                while si < src.count && isNewline(src[si]) { si += 1 }
                if si < src.count { trailing = Base64CorruptInput(offset: si) }
                dlen = j
                break quantum
            }
            let val = UInt32(dbuf[0]) << 18 | UInt32(dbuf[1]) << 12 | UInt32(dbuf[2]) << 6 | UInt32(dbuf[3])
            if dlen > 1 { out.append(UInt8(truncatingIfNeeded: val >> 16)) }
            if dlen > 2 { out.append(UInt8(truncatingIfNeeded: val >> 8)) }
            if dlen > 3 { out.append(UInt8(truncatingIfNeeded: val)) }
            if let trailing { throw trailing }
            if dlen < 4 { return out }
        }
    }
}
