/// grpc-message percent-encoding (gRPC over HTTP/2 spec): bytes outside printable ASCII 0x20–0x7E,
/// and '%', are sent as %XX of the UTF-8 bytes.
public enum PercentEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    public static func encode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if b >= 0x20 && b <= 0x7E && b != 0x25 { out.append(b) }
            else { out.append(0x25); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        }
        return out
    }

    /// Decodes; malformed escapes are kept literally (as the spec asks of receivers).
    public static func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let a = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(a.count)
        var i = 0
        while i < a.count {
            if a[i] == 0x25, i + 2 < a.count, let h = hexVal(a[i + 1]), let l = hexVal(a[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else { out.append(a[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexVal(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
