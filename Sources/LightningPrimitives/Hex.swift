/// Lowercase hexadecimal encoding and lenient (either case) decoding: the one hex codec of the
/// package (Crypto re-exports it as `Crypto.Hex`; Routing, Payments, Invoices and Macaroons use it).
///
/// `@inlinable` so callers on hot paths (payment hashes in marshalled payments) get a specialized,
/// inlined loop as they had with their own copies.
public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte.
    @inlinable
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex of either case; nil for odd length or a non-hex character.
    @inlinable
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// The value of one ASCII hex digit of either case (`0-9`, `a-f`, `A-F`), nil for any other byte.
    @inlinable @inline(__always)
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}

extension Hex {
    /// Why `decode` refuses a text, as Go's `encoding/hex.Decode` reports it (LND decodes
    /// macaroon metadata and `r_hash_str` with it): the first non-hex byte or an odd length.
    /// `description` is Go's error text: `encoding/hex: invalid byte: U+0067 'g'` (the byte as
    /// `%#U`, without the quoted character when Go's `strconv.IsPrint` says it is not printable),
    /// `encoding/hex: odd length hex string`.
    public enum DecodeFailure: Error, Equatable, Sendable, CustomStringConvertible {
        /// Go `InvalidByteError`: the byte that is not a hex digit.
        case invalidByte(UInt8)
        /// Go `ErrLength`.
        case oddLength

        public var description: String {
            switch self {
            case .oddLength:
                return "encoding/hex: odd length hex string"
            case .invalidByte(let b):
                let digits = String(b, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: 4 - digits.count) + digits
                // strconv.IsPrint over Latin-1: not the C0/C1 controls, DEL, NBSP or soft hyphen.
                let printable = (0x20...0x7e).contains(b) || ((0xa1...0xff).contains(b) && b != 0xad)
                guard printable else { return "encoding/hex: invalid byte: " + code }
                var text = "encoding/hex: invalid byte: " + code + " '"
                text.unicodeScalars.append(Unicode.Scalar(b))
                return text + "'"
            }
        }
    }

    /// The failure `decode(text)` has, found in Go's order (pairs left to right, first byte of a
    /// pair before the second, then a trailing odd byte: invalid before odd length); nil exactly
    /// when `decode(text)` succeeds.
    public static func decodeFailure(_ text: some StringProtocol) -> DecodeFailure? {
        let src = Array(text.utf8)
        var j = 1
        while j < src.count {
            if nibble(src[j - 1]) == nil { return .invalidByte(src[j - 1]) }
            if nibble(src[j]) == nil { return .invalidByte(src[j]) }
            j += 2
        }
        if src.count % 2 == 1 {
            if nibble(src[j - 1]) == nil { return .invalidByte(src[j - 1]) }
            return .oddLength
        }
        return nil
    }
}
