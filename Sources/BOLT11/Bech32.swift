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

    /// Two steps at once: the checksum is linear over GF(2), so after two values the state is
    /// `(chk & 0xfffff) << 10 ^ v1 << 5 ^ v2 ^ pairTable[chk >> 20]`, where `pairTable[x]` is two
    /// zero-value steps from `x << 20`. Halves the serial dependency of the checksum loop.
    static let pairTable: [UInt32] = (0..<1024).map { x in polymodStep(polymodStep(UInt32(x) << 20, 0), 0) }

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
        var text = text
        // Native strings are contiguous UTF-8; `makeContiguousUTF8` copies only bridged ones.
        text.makeContiguousUTF8()
        let result = text.utf8.withContiguousStorageIfAvailable { decode(utf8: $0, text: text) }
        switch result! {
        case .decoded(let hrp, let data): return (hrp, data)
        case .failed(let e): throw e
        }
    }

    /// The inner decoder's answer (a plain enum: a `Result` of a tuple would need its type
    /// metadata looked up at run time on every call).
    enum Outcome {
        case decoded(hrp: [UInt8], data: [UInt8])
        case failed(Bech32Error)
    }

    /// One pass over the characters: case and charset checks, the 5-bit values and the checksum
    /// state together, with the lookup tables borrowed once per call.
    static func decode(utf8 bytes: UnsafeBufferPointer<UInt8>, text: String)
        -> Outcome {
        guard let sep = bytes.lastIndex(of: 0x31) else { return .failed(.missingSeparator) }
        let count = bytes.count
        guard sep > 0, count - sep - 1 >= 6 else { return .failed(.invalidLength) }
        return reverse.withUnsafeBufferPointer { rev in
            generatorTable.withUnsafeBufferPointer { gen in
                @inline(__always) func step(_ chk: UInt32, _ v: UInt8) -> UInt32 {
                    (chk & 0x1ffffff) << 5 ^ UInt32(v) ^ gen[Int(chk >> 25)]
                }
                var hasLower = false, hasUpper = false
                var badHRP: Int?
                let hrp = [UInt8](unsafeUninitializedCapacity: sep) { out, n in
                    for i in 0..<sep {
                        var b = bytes[i]
                        guard b >= 33 && b <= 126 else { badHRP = i; break }
                        if b >= 0x61 && b <= 0x7a { hasLower = true } else if b >= 0x41 && b <= 0x5a {
                            hasUpper = true
                            b += 0x20
                        }
                        out[i] = b
                        n = i + 1
                    }
                }
                if let i = badHRP { return .failed(.invalidChar(character(in: text, atUTF8Offset: i))) }
                var chk: UInt32 = 1
                for c in hrp { chk = step(chk, c >> 5) }
                chk = step(chk, 0)
                for c in hrp { chk = step(chk, c & 31) }
                let values = count - sep - 1
                var firstBad = -1
                // Valid data characters are digits (bit 6 clear) and letters (bit 6 set), lowercase
                // letters with bit 5 set too: `b & b << 1 & 0x40` marks a lowercase letter,
                // `b & ~(b << 1) & 0x40` an uppercase one. Branch-free, two at a time.
                var lower: UInt8 = 0, upper: UInt8 = 0
                var data = pairTable.withUnsafeBufferPointer { pair in
                    [UInt8](unsafeUninitializedCapacity: values) { out, n in
                        let d = bytes.baseAddress! + sep + 1
                        // 0xff in `rev` or a byte >= 0x80 sets bit 7 of the looked-up value.
                        @inline(__always) func lookup(_ b: UInt8) -> UInt8 { rev[Int(b & 0x7f)] | (b & 0x80) }
                        var j = 0
                        while j + 1 < values {
                            let b1 = d[j], b2 = d[j + 1]
                            let v1 = lookup(b1), v2 = lookup(b2)
                            if (v1 | v2) & 0x80 != 0 { firstBad = v1 & 0x80 != 0 ? j : j + 1; return }
                            lower |= (b1 & b1 << 1) | (b2 & b2 << 1)
                            upper |= (b1 & ~(b1 << 1)) | (b2 & ~(b2 << 1))
                            out[j] = v1
                            out[j + 1] = v2
                            chk = (chk & 0xfffff) << 10 ^ UInt32(v1) << 5 ^ UInt32(v2) ^ pair[Int(chk >> 20)]
                            j += 2
                        }
                        if j < values {
                            let b = d[j], v = lookup(b)
                            if v & 0x80 != 0 { firstBad = j; return }
                            lower |= b & b << 1
                            upper |= b & ~(b << 1)
                            out[j] = v
                            chk = step(chk, v)
                        }
                        n = values
                    }
                }
                if firstBad >= 0 {
                    let i = sep + 1 + firstBad, b = bytes[i]
                    return .failed(.invalidChar(b >= 0x80 ? character(in: text, atUTF8Offset: i) : Character(Unicode.Scalar(b))))
                }
                if lower & 0x40 != 0 { hasLower = true }
                if upper & 0x40 != 0 { hasUpper = true }
                if hasLower && hasUpper { return .failed(.mixedCase) }
                guard chk == 1 else { return .failed(.invalidChecksum) }
                data.removeLast(6)
                return .decoded(hrp: hrp, data: data)
            }
        }
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
        [UInt8](unsafeUninitializedCapacity: paddedCount(values.count)) { o, n in
            n = packPadded(values, into: o.baseAddress!)
        }
    }

    /// What a BOLT 11 signature signs: the HRP bytes followed by the data part (without the
    /// signature) packed into bytes with zero padding ("Requirements": signature).
    static func signedBytes(hrp: [UInt8], data: ArraySlice<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: hrp.count + paddedCount(data.count)) { o, n in
            _ = o.initialize(from: hrp)
            n = hrp.count + packPadded(data, into: o.baseAddress! + hrp.count)
        }
    }

    /// Bytes `toBytesPadded` makes of `count` values.
    @inline(__always) static func paddedCount(_ count: Int) -> Int { (count * 5 + 7) / 8 }

    /// Writes `toBytesPadded(values)` at `out` (room for `paddedCount(values.count)` bytes);
    /// returns the number of bytes written. Whole groups of 8 values (40 bits) become 5 bytes
    /// without branches; the tail goes bit by bit.
    static func packPadded(_ values: ArraySlice<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        values.withUnsafeBufferPointer { v in
            var i = 0, k = 0
            while i + 8 <= v.count {
                var g: UInt64 = 0
                for j in 0..<8 { g = g << 5 | UInt64(v[i + j]) }
                for j in 0..<5 { out[k + j] = UInt8(truncatingIfNeeded: g >> UInt64(32 - 8 * j)) }
                i += 8
                k += 5
            }
            var acc: UInt32 = 0, bits = 0
            while i < v.count {
                acc = acc << 5 | UInt32(v[i])
                bits += 5
                if bits >= 8 { bits -= 8; out[k] = UInt8(truncatingIfNeeded: acc >> UInt32(bits)); k += 1 }
                i += 1
            }
            if bits > 0 { out[k] = UInt8(truncatingIfNeeded: acc << UInt32(8 - bits)); k += 1 }
            return k
        }
    }

    /// Unpacks 5-bit values into bytes without padding: the leftover must be fewer than 5 bits and
    /// all zero (rust-bech32 `from_base32`), else nil.
    static func toBytesStrict(_ values: ArraySlice<UInt8>) -> [UInt8]? {
        var ok = true
        let out = values.withUnsafeBufferPointer { v in
            [UInt8](unsafeUninitializedCapacity: v.count * 5 / 8) { o, n in
                var acc: UInt32 = 0, bits = 0, k = 0
                for x in v {
                    acc = (acc << 5 | UInt32(x)) & 0xfff
                    bits += 5
                    if bits >= 8 { bits -= 8; o[k] = UInt8(truncatingIfNeeded: acc >> UInt32(bits)); k += 1 }
                }
                if bits >= 5 || (acc << UInt32(8 - bits)) & 0xff != 0 { ok = false }
                n = k
            }
        }
        return ok ? out : nil
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
