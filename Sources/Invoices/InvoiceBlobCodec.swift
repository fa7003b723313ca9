import BOLT11

/// The blob formats of the invoice stores (the same on SQLite and PostgreSQL), big-endian:
/// route hints = per route a u16 hop count then 51-byte BOLT 11 hops; custom records = per record
/// a u64 type, a u32 length and the value. Decoding stops at the first malformed entry (never a crash).
enum InvoiceBlobCodec {

    static func encodeHints(_ hints: [[HopHint]]) -> [UInt8] {
        var out = [UInt8]()
        for route in hints {
            out.append(UInt8(route.count >> 8)); out.append(UInt8(route.count & 0xff))
            for hop in route { hop.append(to: &out) }
        }
        return out
    }

    static func decodeHints(_ b: [UInt8]) -> [[HopHint]] {
        var out = [[HopHint]]()
        var i = 0
        while i + 2 <= b.count {
            let n = Int(b[i]) << 8 | Int(b[i + 1])
            i += 2
            var route = [HopHint]()
            for _ in 0..<n {
                guard i + 51 <= b.count, let hop = try? HopHint(bytes: b[i..<(i + 51)]) else { return out }
                route.append(hop)
                i += 51
            }
            out.append(route)
        }
        return out
    }

    static func encodeRecords(_ records: [UInt64: [UInt8]]) -> [UInt8] {
        var out = [UInt8]()
        for (k, v) in records.sorted(by: { $0.key < $1.key }) {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: k >> UInt64(s))) }
            let n = UInt32(v.count)
            for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> UInt32(s))) }
            out += v
        }
        return out
    }

    static func decodeRecords(_ b: [UInt8]) -> [UInt64: [UInt8]] {
        var out = [UInt64: [UInt8]]()
        var i = 0
        while i + 12 <= b.count {
            let k = b[i..<(i + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let n = Int(b[(i + 8)..<(i + 12)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            i += 12
            guard i + n <= b.count else { break }
            out[k] = Array(b[i..<(i + n)])
            i += n
        }
        return out
    }
}
