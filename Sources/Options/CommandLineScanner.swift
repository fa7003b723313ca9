/// Splits a command line into option occurrences and positional arguments: the one command-line
/// parser of the daemon and the CLI.
///
/// Contract: `--name VALUE`, `--name=VALUE`, `-n VALUE`, `-n=VALUE` (one or two leading dashes
/// for any name); a switch takes no separate value but accepts `=BOOL` (``SwitchValue``); flags
/// and positionals may interleave; `--` ends flag parsing; a lone `-` and negative numbers are
/// positionals. `-h`/`--help` throws ``OptionError/helpRequested`` at once. An unknown flag, a
/// missing value, a bad switch value or a second occurrence of a non-repeatable option throws.
/// With `stopAtFirstPositional` (global flags before a command name) scanning stops at the first
/// positional and the rest of the arguments are returned untouched in `rest`.
public enum CommandLineScanner {
    public struct Result: Sendable, Equatable {
        public var occurrences: [OptionOccurrence] = []
        public var positionals: [String] = []
        public var rest: [String] = []
    }

    public static func scan(_ arguments: [String], specs: [OptionSpec], stopAtFirstPositional: Bool = false)
        throws(OptionError) -> Result {
        var result = Result()
        var seen = Set<Int>()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if arg == "--" {
                if stopAtFirstPositional { result.rest = Array(arguments[i...]) } else { result.positionals += arguments[i...] }
                return result
            }
            guard arg.hasPrefix("-"), arg.count > 1, !isNegativeNumber(arg) else {
                if stopAtFirstPositional { result.rest = Array(arguments[(i - 1)...]); return result }
                result.positionals.append(arg)
                continue
            }
            var name = String(arg.drop(while: { $0 == "-" }))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "h" || name == "help" { throw .helpRequested }
            guard let index = specs.firstIndex(where: { $0.matches(name) }) else { throw .unknownFlag(name) }
            let spec = specs[index]
            if !spec.repeatable && !seen.insert(index).inserted { throw .repeated(name: spec.canonicalName, source: .commandLine) }
            let value: String
            if spec.isSwitch {
                if let text = inline {
                    guard let on = SwitchValue.parse(text) else {
                        throw .invalidSwitchValue(name: name, value: text, source: .commandLine)
                    }
                    value = on ? "true" : "false"
                } else {
                    value = "true"
                }
            } else if let text = inline {
                value = text
            } else {
                guard i < arguments.count else { throw .missingValue(name: name, placeholder: spec.placeholder!) }
                value = arguments[i]
                i += 1
            }
            result.occurrences.append(OptionOccurrence(index: index, name: name, value: value, source: .commandLine))
        }
        return result
    }

    private static func isNegativeNumber(_ s: String) -> Bool { s.count > 1 && Double(s) != nil && s.hasPrefix("-") && s.dropFirst().first!.isNumber }
}
