#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC instant with nanosecond precision over Go's whole RFC 3339 range (years 0000–9999),
/// as the `time-before` caveat needs it.
public struct MacaroonTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The wall clock now (`CLOCK_REALTIME`).
    public static func now() -> MacaroonTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return MacaroonTime(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    public func adding(seconds s: Int64) -> MacaroonTime { MacaroonTime(seconds: seconds + s, nanoseconds: nanoseconds) }

    public static func < (a: MacaroonTime, b: MacaroonTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String { rfc3339Nano }

    /// Go `Format(time.RFC3339Nano)` in UTC: fraction without trailing zeros, `Z` suffix.
    public var rfc3339Nano: String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secOfDay = seconds - days * 86400
        let (y, m, d) = Self.civil(fromDays: days)
        func pad(_ v: Int64, _ n: Int) -> String { String(v).leftPadded(n) }
        var s = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2))"
        if nanoseconds != 0 {
            var frac = String(nanoseconds).leftPadded(9)
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        return s + "Z"
    }

    /// The `time-before` condition for this instant, as the bakery's `TimeBeforeCaveat` writes it.
    public var timeBeforeCondition: String { "time-before " + rfc3339Nano }

    // MARK: Calendar (proleptic Gregorian, H. Hinnant's algorithms)

    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // MARK: Parsing (Go time.Parse(time.RFC3339Nano, …), same error texts)

    static let layout = "2006-01-02T15:04:05.999999999Z07:00"

    /// Parses as Go's `time.Parse(time.RFC3339Nano, text)` does; on failure the error is Go's
    /// `*time.ParseError` text.
    public static func parseRFC3339Nano(_ text: String) throws(MacaroonError) -> MacaroonTime {
        let v = Array(text.utf8)
        var i = 0
        func fail(_ elem: String, at pos: Int) -> MacaroonError {
            MacaroonError("parsing time \(goQuote(text)) as \(goQuote(layout)): cannot parse "
                          + "\(goQuote(Array(v[pos...]))) as \(goQuote(elem))")
        }
        func rangeError(_ what: String) -> MacaroonError {
            MacaroonError("parsing time \(goQuote(text)): \(what) out of range")
        }
        func isDigit(_ k: Int) -> Bool { k < v.count && (0x30...0x39).contains(v[k]) }
        func digit(_ k: Int) -> Int { Int(v[k] - 0x30) }
        /// Go getnum: one or two digits (two when fixed).
        func getnum(_ elem: String, fixed: Bool) throws(MacaroonError) -> Int {
            guard isDigit(i) else { throw fail(elem, at: i) }
            if !isDigit(i + 1) {
                if fixed { throw fail(elem, at: i) }
                i += 1
                return digit(i - 1)
            }
            i += 2
            return digit(i - 2) * 10 + digit(i - 1)
        }
        func literal(_ c: UInt8, _ elem: String) throws(MacaroonError) {
            guard i < v.count, v[i] == c else { throw fail(elem, at: i) }
            i += 1
        }
        // 2006
        guard v.count - i >= 4, isDigit(i), isDigit(i + 1), isDigit(i + 2), isDigit(i + 3) else {
            throw fail("2006", at: i)
        }
        let year = digit(i) * 1000 + digit(i + 1) * 100 + digit(i + 2) * 10 + digit(i + 3)
        i += 4
        try literal(0x2d, "-")
        let month = try getnum("01", fixed: true)
        if month < 1 || month > 12 { throw rangeError("month") }
        try literal(0x2d, "-")
        let day = try getnum("02", fixed: true)
        try literal(0x54, "T")
        let hour = try getnum("15", fixed: false)
        if hour >= 24 { throw rangeError("hour") }
        try literal(0x3a, ":")
        let minute = try getnum("04", fixed: true)
        if minute >= 60 { throw rangeError("minute") }
        try literal(0x3a, ":")
        let second = try getnum("05", fixed: true)
        if second >= 60 { throw rangeError("second") }
        // .999999999: optional fraction, any number of digits, first nine significant.
        var nanos = 0
        if v.count - i >= 2, v[i] == 0x2e || v[i] == 0x2c, isDigit(i + 1) {
            var k = i + 1
            var n = 0
            while isDigit(k) {
                if n < 9 { nanos = nanos * 10 + digit(k) }
                n += 1
                k += 1
            }
            for _ in 0..<max(0, 9 - n) { nanos *= 10 }
            i = k
        }
        // Z07:00
        var offset = 0
        if i < v.count && v[i] == 0x5a {
            i += 1
        } else {
            guard v.count - i >= 6, v[i + 3] == 0x3a, isDigit(i + 1), isDigit(i + 2), isDigit(i + 4), isDigit(i + 5) else {
                throw fail("Z07:00", at: i)
            }
            let hh = digit(i + 1) * 10 + digit(i + 2)
            let mm = digit(i + 4) * 10 + digit(i + 5)
            if hh > 24 { throw rangeError("time zone offset hour") }
            if mm > 60 { throw rangeError("time zone offset minute") }
            switch v[i] {
            case 0x2b: offset = (hh * 60 + mm) * 60
            case 0x2d: offset = -(hh * 60 + mm) * 60
            default: throw fail("Z07:00", at: i)
            }
            i += 6
        }
        if i < v.count {
            throw MacaroonError("parsing time \(goQuote(text)): extra text: \(goQuote(Array(v[i...])))")
        }
        if day < 1 || day > daysIn(month: month, year: year) { throw rangeError("day") }
        let days = Self.days(fromCivil: Int64(year), Int64(month), Int64(day))
        let secs = days * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return MacaroonTime(seconds: secs, nanoseconds: Int32(nanos))
    }
}
