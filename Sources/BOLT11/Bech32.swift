/// Bech32 (BIP 173) as BOLT 11 uses it: no 90-character limit, checksum constant 1 only
/// (a Bech32m checksum is an invalid checksum here), either case but never mixed.
///
/// Pure functions over bytes; the 5-bit values ("u5") are carried in `UInt8`s holding 0...31.
public enum Bech32 {
    static let charset: [UInt8] = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    /// ASCII byte -> 5-bit value, or 0xff for a character outside the charset (either case).
    static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (value, c) in charset.enumerated() {
            table[Int(c)] = UInt8(value)
            if c >= 0x61 && c <= 0x7a { table[Int(c) - 0x20] = UInt8(value) }
        }
        return table
    }()

    static let generator: [UInt32] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

    /// XOR of the generator values selected by each 5-bit top value (one lookup per step).
    static let generatorTable: [UInt32] = (0..<32).map { top in
        (0..<5).reduce(UInt32(0)) { acc, i in (top >> i) & 1 == 1 ? acc ^ generator[i] : acc }
    }

    @inline(__always)
    static func polymodStep(_ chk: UInt32, _ value: UInt8) -> UInt32 {
        (chk & 0x1ffffff) << 5 ^ UInt32(value) ^ generatorTable[Int(chk >> 25)]
    }

    /// The checksum state after the expanded (lowercase) HRP and the data values.
    static func polymod(hrp: [UInt8], data: some Sequence<UInt8>) -> UInt32 {
        var chk: UInt32 = 1
        for c in hrp { chk = polymodStep(chk, c >> 5) }
        chk = polymodStep(chk, 0)
        for c in hrp { chk = polymodStep(chk, c & 31) }
        for v in data { chk = polymodStep(chk, v) }
        return chk
    }

    /// Splits and checks a Bech32 string.
    ///
    /// - Returns: the lowercase HRP bytes and the data values without the 6 checksum values.
    /// - Throws: `Bech32Error` in rust-bech32's order: missing separator, empty HRP or short data
    ///   (`invalidLength`), a bad character, mixed case, then the checksum.
    public static func decode(_ text: String) throws(Bech32Error) -> (hrp: [UInt8], data: [UInt8]) {
        var bytes = Array(text.utf8)
        guard let sep = bytes.lastIndex(of: 0x31) else { throw .missingSeparator }
        guard sep > 0, bytes.count - sep - 1 >= 6 else { throw .invalidLength }
        var hasLower = false, hasUpper = false
        for i in 0..<sep {
            let b = bytes[i]
            guard b >= 33 && b <= 126 else { throw .invalidChar(character(in: text, atUTF8Offset: i)) }
            if b >= 0x61 && b <= 0x7a { hasLower = true } else if b >= 0x41 && b <= 0x5a {
                hasUpper = true
                bytes[i] = b + 0x20
            }
        }
        var data = [UInt8]()
        data.reserveCapacity(bytes.count - sep - 1)
        for i in (sep + 1)..<bytes.count {
            let b = bytes[i]
            if b >= 0x80 { throw .invalidChar(character(in: text, atUTF8Offset: i)) }
            if b >= 0x61 && b <= 0x7a { hasLower = true } else if b >= 0x41 && b <= 0x5a { hasUpper = true }
            let v = reverse[Int(b)]
            guard v != 0xff else { throw .invalidChar(Character(Unicode.Scalar(b))) }
            data.append(v)
        }
        if hasLower && hasUpper { throw .mixedCase }
        let hrp = Array(bytes[0..<sep])
        guard polymod(hrp: hrp, data: data) == 1 else { throw .invalidChecksum }
        data.removeLast(6)
        return (hrp, data)
    }

    /// Encodes a lowercase HRP and 5-bit data values with a Bech32 checksum (no length limit).
    public static func encode(hrp: [UInt8], data: [UInt8]) -> String {
        var chk = polymod(hrp: hrp, data: data)
        for _ in 0..<6 { chk = polymodStep(chk, 0) }
        chk ^= 1
        var out = hrp
        out.reserveCapacity(hrp.count + 1 + data.count + 6)
        out.append(0x31)
        for v in data { out.append(charset[Int(v)]) }
        for i in 0..<6 { out.append(charset[Int((chk >> UInt32(5 * (5 - i))) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func character(in text: String, atUTF8Offset offset: Int) -> Character {
        let utf8 = text.utf8
        let i = utf8.index(utf8.startIndex, offsetBy: offset)
        return String(text[i...]).first ?? "\u{FFFD}"
    }
}

/// Conversions between 5-bit groups and bytes (BIP 173 `convertbits`).
enum FiveBit {
    /// Packs 5-bit values into bytes, appending zero bits to fill the last byte (signature hashing,
    /// writers).
    static func toBytesPadded(_ values: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((values.count * 5 + 7) / 8)
        var acc: UInt32 = 0, bits = 0
        for v in values {
            acc = acc << 5 | UInt32(v)
            bits += 5
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc << UInt32(8 - bits))) }
        return out
    }

    /// Unpacks 5-bit values into bytes without padding: the leftover must be fewer than 5 bits and
    /// all zero (rust-bech32 `from_base32`), else nil.
    static func toBytesStrict(_ values: ArraySlice<UInt8>) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 5 / 8)
        var acc: UInt32 = 0, bits = 0
        for v in values {
            acc = (acc << 5 | UInt32(v)) & 0xfff
            bits += 5
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        if bits >= 5 || (acc << UInt32(8 - bits)) & 0xff != 0 { return nil }
        return out
    }

    /// Bytes to 5-bit values, zero-padding the last group.
    static func fromBytes(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        var acc: UInt32 = 0, bits = 0
        for b in bytes {
            acc = (acc << 8 | UInt32(b)) & 0xfff
            bits += 8
            while bits >= 5 { bits -= 5; out.append(UInt8((acc >> UInt32(bits)) & 31)) }
        }
        if bits > 0 { out.append(UInt8((acc << UInt32(5 - bits)) & 31)) }
    }

    /// Big-endian unsigned integer from 5-bit values; nil on overflow of 64 bits.
    static func uint64(_ values: ArraySlice<UInt8>) -> UInt64? {
        var r: UInt64 = 0
        for v in values {
            guard r >> 59 == 0 else { return nil }
            r = r << 5 | UInt64(v)
        }
        return r
    }

    /// The minimal big-endian 5-bit encoding of `value` (empty for 0).
    static func minimal(_ value: UInt64) -> [UInt8] {
        var out = [UInt8]()
        var v = value
        while v > 0 { out.append(UInt8(v & 31)); v >>= 5 }
        return out.reversed()
    }
}
