/// Writer of the Prometheus text exposition format, version 0.0.4: `# HELP`, `# TYPE`, then one
/// `name{label="value",...} number` line per sample.
///
/// Contract: help text escapes `\` and newline; label values escape `\`, `"` and newline; numbers
/// are written so that Go's and Python's parsers read them back exactly (`+Inf`, `-Inf`, `NaN`;
/// integers without a fraction).
struct PrometheusText {
    private(set) var text = ""

    mutating func header(_ name: String, _ help: String, _ kind: MetricKind) {
        text += "# HELP \(name) \(Self.escape(help, quotes: false))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labelNames: [String], _ values: [String], _ value: Double) {
        text += name
        if !labelNames.isEmpty {
            text += "{"
            for (i, (n, v)) in zip(labelNames, values).enumerated() {
                if i > 0 { text += "," }
                text += "\(n)=\"\(Self.escape(v, quotes: true))\""
            }
            text += "}"
        }
        text += " \(Self.number(value))\n"
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func escape(_ s: String, quotes: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func isValidMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, isLetter(first) || first == "_" || first == ":" else { return false }
        return s.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" || $0 == ":" }
    }

    static func isValidLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, isLetter(first) || first == "_" else { return false }
        return s.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" }
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
    private static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
}
