/// The `grpc-timeout` header: 1–8 ASCII digits followed by a unit H, M, S, m (milli), u (micro)
/// or n (nano).
public enum GRPCTimeout {
    /// Parses to nanoseconds, or nil when malformed.
    public static func parse<C: Collection>(_ value: C) -> UInt64? where C.Element == UInt8 {
        guard value.count >= 2, value.count <= 9 else { return nil }
        var n: UInt64 = 0
        var it = value.makeIterator()
        var digits = 0
        var unit: UInt8 = 0
        while let c = it.next() {
            if c >= 0x30 && c <= 0x39 && unit == 0 {
                n = n * 10 + UInt64(c - 0x30); digits += 1
            } else if unit == 0 { unit = c } else { return nil }
        }
        guard digits >= 1, digits <= 8 else { return nil }
        let mult: UInt64
        switch unit {
        case UInt8(ascii: "H"): mult = 3_600_000_000_000
        case UInt8(ascii: "M"): mult = 60_000_000_000
        case UInt8(ascii: "S"): mult = 1_000_000_000
        case UInt8(ascii: "m"): mult = 1_000_000
        case UInt8(ascii: "u"): mult = 1_000
        case UInt8(ascii: "n"): mult = 1
        default: return nil
        }
        let (r, o) = n.multipliedReportingOverflow(by: mult)
        return o ? UInt64.max : r
    }

    /// Encodes nanoseconds as a grpc-timeout value (at most 8 digits, coarsest exact-enough unit).
    public static func encode(nanos: UInt64) -> String {
        let units: [(UInt64, Character)] = [(1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"),
                                            (60_000_000_000, "M"), (3_600_000_000_000, "H")]
        for (m, u) in units {
            let v = (nanos + m - 1) / m
            if v < 100_000_000 { return "\(v)\(u)" }
        }
        return "99999999H"
    }
}
