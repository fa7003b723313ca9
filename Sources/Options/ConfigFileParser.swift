/// Reads a configuration file in LND's syntax (go-flags' INI dialect, as in sample-lnd.conf) into
/// option occurrences.
///
/// Contract:
/// - lines are trimmed; empty lines and lines starting with `;` or `#` are comments (there are no
///   comments after a value: `alias=a;b` sets `a;b`, as go-flags);
/// - `[Application Options]` (any letter case) holds the top-level options, keyed by their long
///   names (`datadir=...`, also dotted ones such as `sim.seed=5`); any other `[section]` holds
///   that namespace's options: in `[routerrpc]`, `usestatusinitiated=true` is the option
///   `routerrpc.usestatusinitiated`. Keys before any section are top-level ones;
/// - `key=value` with spaces allowed around `=`; a value in double quotes is unquoted
///   (`\"`, `\\`, `\n`, `\t` escapes); keys match long names ignoring letter case;
/// - a switch's value is a boolean (``SwitchValue``), or empty for true;
/// - a repeatable option may appear on several lines (values accumulate in order); any other
///   option appearing twice, an unknown key, or a malformed line throws an ``OptionError`` that
///   names the path, the line and the key. Values are not validated here (the option's owner
///   does that and reports with the occurrence's `source`).
/// - bounded: a file larger than `maximumBytes` is refused before parsing.
public enum ConfigFileParser {
    public static let maximumBytes = 1 << 20

    public static func parse(_ text: String, path: String, specs: [OptionSpec]) throws(OptionError) -> [OptionOccurrence] {
        guard text.utf8.count <= maximumBytes else {
            throw .unreadableFile(path: path, reason: "larger than \(maximumBytes) bytes")
        }
        var occurrences: [OptionOccurrence] = []
        var firstLine: [Int: Int] = [:]
        var section: String?
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.first == ";" || line.first == "#" { continue }
            if line.first == "[" {
                guard line.last == "]", line.count >= 2 else {
                    throw .malformedLine(path: path, line: lineNumber, reason: "malformed section header \"\(line)\"")
                }
                let name = line.dropFirst().dropLast().trimmingWhitespace()
                guard !name.isEmpty else { throw .malformedLine(path: path, line: lineNumber, reason: "empty section name") }
                section = name.lowercased() == "application options" ? nil : name.lowercased()
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw .malformedLine(path: path, line: lineNumber, reason: "malformed key=value \"\(line)\"")
            }
            let key = line[..<eq].trimmingWhitespace()
            guard !key.isEmpty else { throw .malformedLine(path: path, line: lineNumber, reason: "missing key before \"=\"") }
            var value = line[line.index(after: eq)...].trimmingWhitespace()
            let fullKey = section.map { "\($0).\(key)" } ?? key
            if value.first == "\"" {
                guard let unquoted = unquote(value) else {
                    throw .malformedLine(path: path, line: lineNumber, reason: "\(fullKey): malformed quoted value \(value)")
                }
                value = unquoted
            }
            let wanted = fullKey.lowercased()
            guard let index = specs.firstIndex(where: { spec in spec.names.contains { $0.count > 1 && $0.lowercased() == wanted } }) else {
                throw .unknownKey(key: fullKey, path: path, line: lineNumber)
            }
            let spec = specs[index]
            let source = OptionSource.file(path: path, line: lineNumber)
            if !spec.repeatable, firstLine[index] != nil { throw .repeated(name: fullKey, source: source) }
            firstLine[index] = firstLine[index] ?? lineNumber
            if spec.isSwitch {
                if value.isEmpty {
                    value = "true"
                } else {
                    guard let on = SwitchValue.parse(value) else {
                        throw .invalidSwitchValue(name: fullKey, value: value, source: source)
                    }
                    value = on ? "true" : "false"
                }
            }
            occurrences.append(OptionOccurrence(index: index, name: fullKey, value: value, source: source))
        }
        return occurrences
    }

    /// The text of a double-quoted value, or nil when the quotes or escapes are malformed.
    static func unquote(_ quoted: String) -> String? {
        guard quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" else { return nil }
        var out = ""
        var escaped = false
        for ch in quoted.dropFirst().dropLast() {
            if escaped {
                switch ch {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: return nil
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "\"" {
                return nil
            } else {
                out.append(ch)
            }
        }
        return escaped ? nil : out
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{FEFF}" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
