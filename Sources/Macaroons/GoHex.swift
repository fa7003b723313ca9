/// Go `encoding/hex.DecodeString`, with its exact errors (LND decodes the metadata value with
/// it): `encoding/hex: invalid byte: U+0067 'g'`, `encoding/hex: odd length hex string`.
/// Either case is accepted.
enum GoHex {
    static func decode(_ text: String) throws(MacaroonError) -> [UInt8] {
        let src = Array(text.utf8)
        do {
            var out = [UInt8]()
            out.reserveCapacity(src.count / 2)
            var j = 1
            while j < src.count {
                let p = src[j - 1], q = src[j]
                guard let a = nibble(p) else { throw invalid(p) }
                guard let b = nibble(q) else { throw invalid(q) }
                out.append(a << 4 | b)
                j += 2
            }
            if src.count % 2 == 1 {
                if nibble(src[j - 1]) == nil { throw invalid(src[j - 1]) }
                throw MacaroonError("encoding/hex: odd length hex string")
            }
            return out
        }
    }

    static func invalid(_ b: UInt8) -> MacaroonError {
        MacaroonError("encoding/hex: invalid byte: \(goRuneU(b))")
    }

    @inline(__always) static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
