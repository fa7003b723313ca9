import Options

/// One command-line flag: `--name VALUE`, `--name=VALUE`, or a boolean switch `--name`.
///
/// Names follow lncli (snake_case where lncli uses it, e.g. `--fee_limit`); `aliases` hold the
/// other spellings accepted (`--fee-limit`). `placeholder` is nil for a switch.
struct Flag: Sendable {
    let name: String
    let aliases: [String]
    let placeholder: String?
    let help: String
    /// Shown in help as "(default X)"; not applied by the parser (commands read `ParsedFlags`
    /// with their own fallback so the default lives in one place: the command).
    let defaultText: String?
    /// May be given more than once (values accumulate).
    let repeatable: Bool

    init(_ name: String, aliases: [String] = [], value placeholder: String? = nil, help: String,
         default defaultText: String? = nil, repeatable: Bool = false) {
        self.name = name
        self.aliases = aliases
        self.placeholder = placeholder
        self.help = help
        self.defaultText = defaultText
        self.repeatable = repeatable
    }

    var isSwitch: Bool { placeholder == nil }
    func matches(_ n: String) -> Bool { n == name || aliases.contains(n) }

    /// What the shared option parser (the `Options` target) needs of this flag.
    var spec: OptionSpec { OptionSpec(names: [name] + aliases, placeholder: placeholder, repeatable: repeatable) }

    /// The left column of help output, e.g. `--amt SAT`.
    var synopsis: String {
        let names = ([name] + aliases).map { $0.count == 1 ? "-\($0)" : "--\($0)" }.joined(separator: ", ")
        return placeholder.map { "\(names) \($0)" } ?? names
    }
}

/// Flag values and positional arguments after parsing.
struct ParsedFlags: Sendable {
    private(set) var values: [String: [String]] = [:]
    private(set) var positionals: [String] = []

    mutating func add(_ flag: Flag, _ value: String) { values[flag.name, default: []].append(value) }
    mutating func addPositional(_ v: String) { positionals.append(v) }

    func isSet(_ name: String) -> Bool { values[name] != nil }

    /// The last value given for `name`.
    func string(_ name: String) -> String? { values[name]?.last }
    func strings(_ name: String) -> [String] { values[name] ?? [] }

    /// A switch: set (and not `=false`).
    func bool(_ name: String) -> Bool { values[name]?.last == "true" }

    func int64(_ name: String) throws(CLIError) -> Int64? {
        guard let s = string(name) else { return nil }
        guard let v = Int64(s) else { throw .usage("invalid value \"\(s)\" for flag --\(name): want an integer") }
        return v
    }

    func uint64(_ name: String) throws(CLIError) -> UInt64? {
        guard let s = string(name) else { return nil }
        guard let v = UInt64(s) else { throw .usage("invalid value \"\(s)\" for flag --\(name): want an unsigned integer") }
        return v
    }

    func int32(_ name: String) throws(CLIError) -> Int32? {
        guard let s = string(name) else { return nil }
        guard let v = Int32(s) else { throw .usage("invalid value \"\(s)\" for flag --\(name): want a 32-bit integer") }
        return v
    }

    func uint32(_ name: String) throws(CLIError) -> UInt32? {
        guard let s = string(name) else { return nil }
        guard let v = UInt32(s) else { throw .usage("invalid value \"\(s)\" for flag --\(name): want an unsigned 32-bit integer") }
        return v
    }
}

/// Parses `arguments` against `flags` with the shared ``CommandLineScanner`` (the daemon's parser
/// too), keeping lncli's error texts.
///
/// Contract: `--name VALUE` and `--name=VALUE` (one or two leading dashes); switches take no
/// separate value but accept `=true`/`=false`; flags and positionals may interleave; `--` ends
/// flag parsing. With `stopAtFirstPositional` (the global flags before a command name), parsing
/// stops at the first positional and returns the rest untouched. `-h`/`--help` throws
/// ``HelpRequested``. Unknown flags, missing values and repeated single-valued flags are
/// usage errors.
enum ArgumentParser {
    struct HelpRequested: Error {}

    static func parse(_ arguments: [String], flags: [Flag], stopAtFirstPositional: Bool = false)
        throws -> (ParsedFlags, rest: [String]) {
        let scanned: CommandLineScanner.Result
        do {
            scanned = try CommandLineScanner.scan(arguments, specs: flags.map(\.spec), stopAtFirstPositional: stopAtFirstPositional)
        } catch {
            switch error {
            case .helpRequested: throw HelpRequested()
            case .unknownFlag(let name): throw CLIError.usage("flag provided but not defined: -\(name)")
            case .missingValue(let name, _): throw CLIError.usage("flag needs an argument: -\(name)")
            case .invalidSwitchValue(let name, let value, _): throw CLIError.usage("invalid boolean value \"\(value)\" for -\(name)")
            case .repeated(let name, _): throw CLIError.usage("flag --\(name) given more than once")
            default: throw CLIError.usage("\(error)")
            }
        }
        var parsed = ParsedFlags()
        for o in scanned.occurrences { parsed.add(flags[o.index], o.value) }
        for p in scanned.positionals { parsed.addPositional(p) }
        return (parsed, scanned.rest)
    }
}
