/// Go's text formatting where LND's error messages embed values: `%q` (strconv.Quote) and
/// `%#U` (used by `encoding/hex` errors). Kept apart so error texts match byte for byte.
func goQuote(_ bytes: [UInt8]) -> String {
    var out = "\""
    var i = 0
    while i < bytes.count {
        let (scalar, width) = decodeUTF8(bytes, at: i)
        guard let s = scalar else {
            out += "\\x" + hexByte(bytes[i])
            i += 1
            continue
        }
        i += width
        switch s.value {
        case 0x07: out += "\\a"
        case 0x08: out += "\\b"
        case 0x0c: out += "\\f"
        case 0x0a: out += "\\n"
        case 0x0d: out += "\\r"
        case 0x09: out += "\\t"
        case 0x0b: out += "\\v"
        case 0x5c: out += "\\\\"
        case 0x22: out += "\\\""
        default:
            if goIsPrint(s.value) {
                out.unicodeScalars.append(s)
            } else if s.value < 0x80 {
                out += "\\x" + hexByte(UInt8(s.value))
            } else if s.value < 0x10000 {
                out += "\\u" + String(s.value, radix: 16).leftPadded(4)
            } else {
                out += "\\U" + String(s.value, radix: 16).leftPadded(8)
            }
        }
    }
    return out + "\""
}

func goQuote(_ s: String) -> String { goQuote(Array(s.utf8)) }

/// `%#U` of a byte as a rune: `U+0067 'g'`, or just `U+0000` when not printable.
func goRuneU(_ b: UInt8) -> String {
    let code = "U+" + String(b, radix: 16, uppercase: true).leftPadded(4)
    guard goIsPrint(UInt32(b)) else { return code }
    var s = code + " '"
    s.unicodeScalars.append(Unicode.Scalar(b))
    return s + "'"
}

/// An approximation of Go's `strconv.IsPrint` good for the Latin-1 range exactly and for
/// common scalars beyond it.
func goIsPrint(_ v: UInt32) -> Bool {
    switch v {
    case 0x20...0x7e: return true
    case 0..<0x20, 0x7f...0xa0, 0xad: return false
    case 0xd800...0xdfff, 0xfffe, 0xffff: return false
    case 0x2028, 0x2029, 0x200b...0x200f, 0x2060...0x206f, 0xfeff: return false
    default: return v <= 0x10ffff
    }
}

func hexByte(_ b: UInt8) -> String { String(b, radix: 16).leftPadded(2) }

/// Decodes one UTF-8 scalar at `i` (nil for an invalid or truncated sequence).
func decodeUTF8(_ b: [UInt8], at i: Int) -> (Unicode.Scalar?, Int) {
    let c0 = b[i]
    if c0 < 0x80 { return (Unicode.Scalar(c0), 1) }
    let width: Int
    let minimum: UInt32
    var value: UInt32
    switch c0 {
    case 0xc2...0xdf: width = 2; minimum = 0x80; value = UInt32(c0 & 0x1f)
    case 0xe0...0xef: width = 3; minimum = 0x800; value = UInt32(c0 & 0x0f)
    case 0xf0...0xf4: width = 4; minimum = 0x10000; value = UInt32(c0 & 0x07)
    default: return (nil, 1)
    }
    guard i + width <= b.count else { return (nil, 1) }
    for k in 1..<width {
        let c = b[i + k]
        guard c & 0xc0 == 0x80 else { return (nil, 1) }
        value = value << 6 | UInt32(c & 0x3f)
    }
    guard value >= minimum, let s = Unicode.Scalar(value) else { return (nil, 1) }
    return (s, width)
}

extension String {
    func leftPadded(_ n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}
