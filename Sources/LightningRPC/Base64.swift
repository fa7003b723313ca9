/// Base64 (RFC 4648) as LND's REST gateway uses it for `bytes` fields.
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

    public static func decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
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
