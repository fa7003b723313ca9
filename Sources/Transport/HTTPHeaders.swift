/// An ordered list of HTTP header fields with case-insensitive name lookup (RFC 9110 §5.1).
/// Names keep the case they were given; lookups ignore ASCII case. Repeated fields stay separate
/// entries in order (`values(_:)`); `subscript` joins them with ", " (RFC 9110 §5.3).
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var entries: [(name: String, value: String)] = []

    public init() {}
    public init(_ pairs: [(String, String)]) { for (n, v) in pairs { add(name: n, value: v) } }

    public var count: Int { entries.count }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { entries.makeIterator() }

    /// Appends a field (no validation here: writers reject names/values with CR, LF or NUL).
    public mutating func add(name: String, value: String) { entries.append((name, value)) }

    /// Replaces every field named `name` (any case) by one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(name: String) {
        entries.removeAll { HTTPHeaders.equalsIgnoringCase($0.name, name) }
    }

    /// Every value of fields named `name` (any case), in order.
    public func values(_ name: String) -> [String] {
        entries.compactMap { HTTPHeaders.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// The values of fields named `name` joined by ", ", or nil when there is none.
    public subscript(_ name: String) -> String? {
        let v = values(name)
        return v.isEmpty ? nil : v.joined(separator: ", ")
    }

    /// Whether a comma-separated field (e.g. `Connection`, `Upgrade`) lists `token` (any case).
    public func containsToken(_ token: String, in name: String) -> Bool {
        for v in values(name) {
            for part in v.split(separator: ",") {
                if HTTPHeaders.equalsIgnoringCase(part.trimmingASCIIWhitespace, token) { return true }
            }
        }
        return false
    }

    /// ASCII case-insensitive equality of two Strings, byte by byte on their UTF-8 (the common
    /// case: a header name against a name; inlinable, so callers in other modules get a
    /// specialized loop instead of generic iteration).
    @inlinable
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for i in 0..<x.count {
                    let p = x[i], q = y[i]
                    if p == q { continue }
                    if (p | 0x20) != (q | 0x20) || !((p | 0x20) >= 97 && (p | 0x20) <= 122) { return false }
                }
                return true
            }
        }
    }

    /// ASCII case-insensitive equality (header names are ASCII tokens).
    public static func equalsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            let lp = p >= 65 && p <= 90 ? p | 0x20 : p
            let lq = q >= 65 && q <= 90 ? q | 0x20 : q
            if lp != lq { return false }
        }
        return true
    }
}

extension StringProtocol {
    /// Self without leading/trailing spaces and tabs.
    var trimmingASCIIWhitespace: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
