/// RFC 6455 §5.2 frames as a test client writes and reads them.
enum WSFrame {
    /// One client frame: masked unless `masked` is false.
    static func client(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true,
                       mask: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> [UInt8] {
        var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let m: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            f.append(m | UInt8(payload.count))
        } else if payload.count <= 0xffff {
            f.append(m | 126); f.append(UInt8(payload.count >> 8)); f.append(UInt8(payload.count & 0xff))
        } else {
            f.append(m | 127)
            for i in (0..<8).reversed() { f.append(UInt8((UInt64(payload.count) >> (8 * UInt64(i))) & 0xff)) }
        }
        if masked {
            f += mask
            for (i, b) in payload.enumerated() { f.append(b ^ mask[i % 4]) }
        } else {
            f += payload
        }
        return f
    }

    static func text(_ s: String, fin: Bool = true) -> [UInt8] { client(opcode: 1, Array(s.utf8), fin: fin) }
    static func close(_ code: UInt16, _ reason: String = "") -> [UInt8] {
        client(opcode: 8, [UInt8(code >> 8), UInt8(code & 0xff)] + Array(reason.utf8))
    }

    /// A server frame as parsed back: opcode, payload (server frames are never masked).
    struct Parsed: Equatable {
        var fin: Bool
        var opcode: UInt8
        var masked: Bool
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        var closeCode: UInt16? { opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    }

    /// Parses every complete frame in `bytes`.
    static func parse(_ bytes: [UInt8]) -> [Parsed] {
        var out: [Parsed] = []
        var i = 0
        while i + 2 <= bytes.count {
            let b0 = bytes[i], b1 = bytes[i + 1]
            var len = Int(b1 & 0x7f)
            var p = i + 2
            if len == 126 { guard p + 2 <= bytes.count else { break }; len = Int(bytes[p]) << 8 | Int(bytes[p + 1]); p += 2 }
            else if len == 127 {
                guard p + 8 <= bytes.count else { break }
                len = 0; for k in 0..<8 { len = len << 8 | Int(bytes[p + k]) }; p += 8
            }
            let masked = b1 & 0x80 != 0
            if masked { p += 4 }
            guard p + len <= bytes.count else { break }
            out.append(Parsed(fin: b0 & 0x80 != 0, opcode: b0 & 0x0f, masked: masked, payload: Array(bytes[p..<p + len])))
            i = p + len
        }
        return out
    }
}
