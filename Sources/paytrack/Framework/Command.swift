/// One `paytrack` subcommand: its name, help text, flags, and what it does.
///
/// `run` gets the parsed command flags and a lazily opened ``RPCConnection`` (built from the global
/// flags on first use, so `--help` and argument errors never touch the network). It prints its
/// output itself (see ``Output``) and throws ``CLIError`` on failure.
struct Command: Sendable {
    let name: String
    /// Positional arguments, e.g. `PAYREQ` or `HASH | --all`.
    let arguments: String
    /// One line for the command list.
    let summary: String
    /// Extra paragraphs for `paytrack NAME --help`.
    let details: String
    let flags: [Flag]
    let run: @Sendable (Invocation) throws -> Void

    init(_ name: String, arguments: String = "", summary: String, details: String = "", flags: [Flag] = [],
         run: @escaping @Sendable (Invocation) throws -> Void) {
        self.name = name
        self.arguments = arguments
        self.summary = summary
        self.details = details
        self.flags = flags
        self.run = run
    }

    /// `paytrack NAME --help` text: usage line, description, every flag.
    func help(program: String) -> String {
        var lines = ["NAME:", "   \(program) \(name) - \(summary)", "",
                     "USAGE:", "   \(program) [global options] \(name) [command options] \(arguments)"]
        if !details.isEmpty { lines += ["", "DESCRIPTION:"] + details.split(separator: "\n", omittingEmptySubsequences: false).map { "   " + $0 } }
        lines += ["", "OPTIONS:"] + HelpFormatter.flagLines(flags + [Flag("help", aliases: ["h"], help: "show help")])
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What a running command gets: its flags and positionals, and the connection to the node.
final class Invocation: @unchecked Sendable {
    let flags: ParsedFlags
    let global: GlobalOptions
    private var opened: RPCConnection?

    init(flags: ParsedFlags, global: GlobalOptions) {
        self.flags = flags
        self.global = global
    }

    /// The connection, opened on first use (main thread only).
    func connection() throws(CLIError) -> RPCConnection {
        if let c = opened { return c }
        let c = try RPCConnection(options: global)
        opened = c
        return c
    }

    /// Closes the connection if one was opened.
    func close() { opened?.close() }

    var positionals: [String] { flags.positionals }

    /// The positional at `index`, or the value of `flag` (lncli accepts most arguments both
    /// ways); a usage error naming `what` when neither is present.
    func argument(_ index: Int, orFlag flag: String? = nil, _ what: String) throws(CLIError) -> String {
        if let f = flag, let v = flags.string(f) { return v }
        guard positionals.count > index else { throw .usage("\(what) argument missing") }
        return positionals[index]
    }

    /// The one hex value a command takes, as its only positional or as `--flag` (lncli's
    /// settleinvoice, cancelinvoice, subscribeinvoice); usage errors name the flag.
    func soleHexArgument(_ flag: String) throws(CLIError) -> [UInt8] {
        try expectAtMost(1)
        return try Parse.hex(try argument(0, orFlag: flag, flag), what: flag)
    }

    /// Rejects positionals beyond `count`.
    func expectAtMost(_ count: Int) throws(CLIError) {
        if positionals.count > count {
            throw .usage("unexpected argument \"\(positionals[count])\" (see --help)")
        }
    }
}

/// Help text layout shared by the top-level and per-command help.
enum HelpFormatter {
    static func flagLines(_ flags: [Flag]) -> [String] {
        let width = max(30, (flags.map { $0.synopsis.count }.max() ?? 0) + 3)
        return flags.map { f in
            var help = f.help
            if let d = f.defaultText { help += " (default: \(d))" }
            return "   " + f.synopsis.padding(toLength: width, withPad: " ", startingAt: 0) + help
        }
    }
}
