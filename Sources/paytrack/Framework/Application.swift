import Foundation
import NodeLayout

/// The `paytrack` program: global flags, then a command name, then the command's flags and
/// arguments (`paytrack [global options] command [command options] [arguments...]`, as lncli).
///
/// Contract: `run` returns the process exit status: 0 on success, 1 on any error (printed to
/// stderr as `[paytrack] ...`), 0 after printing help or the version.
struct Application {
    let commands: [Command]

    func command(named name: String) -> Command? { commands.first { $0.name == name } }

    func run(_ arguments: [String]) -> Int32 {
        let global: ParsedFlags
        let rest: [String]
        do {
            (global, rest) = try ArgumentParser.parse(arguments, flags: GlobalOptions.flags + Self.programFlags,
                                                      stopAtFirstPositional: true)
        } catch is ArgumentParser.HelpRequested {
            Output.writeStdout(Array(help().utf8)); return 0
        } catch {
            Output.printError(error); return 1
        }
        if global.bool("version") {
            Output.printLine("\(Output.program) version \(PayTrackVersion.string)"); return 0
        }
        guard let name = rest.first else { Output.writeStdout(Array(help().utf8)); return 0 }
        if name == "help" {
            if rest.count > 1 {
                guard let c = command(named: rest[1]) else { Output.printError(CLIError.usage("No help topic for '\(rest[1])'")); return 1 }
                Output.writeStdout(Array(c.help(program: Output.program).utf8))
            } else {
                Output.writeStdout(Array(help().utf8))
            }
            return 0
        }
        guard let cmd = command(named: name) else {
            Output.printError(CLIError.usage("No help topic for '\(name)'; see \(Output.program) --help"))
            return 1
        }
        let invocation: Invocation
        do {
            let (flags, _) = try ArgumentParser.parse(Array(rest.dropFirst()), flags: cmd.flags)
            invocation = Invocation(flags: flags, global: try GlobalOptions(global))
            Output.hexBytes.value = invocation.global.hexBytes
        } catch is ArgumentParser.HelpRequested {
            Output.writeStdout(Array(cmd.help(program: Output.program).utf8)); return 0
        } catch {
            Output.printError(error); return 1
        }
        defer { invocation.close() }
        do {
            try cmd.run(invocation)
            return 0
        } catch is Interrupt.Interrupted {
            return 130
        } catch {
            Output.printError(error)
            return 1
        }
    }

    static let programFlags: [Flag] = [
        Flag("version", aliases: ["v"], help: "print the version"),
    ]

    /// `paytrack --help`: usage, the commands, and every global flag.
    func help() -> String {
        let p = Output.program
        var lines = ["NAME:", "   \(p) - control plane for your PayTrack daemon (lncli-compatible)", "",
                     "USAGE:", "   \(p) [global options] command [command options] [arguments...]", "",
                     "VERSION:", "   \(PayTrackVersion.string)", "", "COMMANDS:"]
        let width = max(18, (commands.map { $0.name.count }.max() ?? 0) + 3)
        for c in commands { lines.append("   " + c.name.padding(toLength: width, withPad: " ", startingAt: 0) + c.summary) }
        lines.append("   " + "help".padding(toLength: width, withPad: " ", startingAt: 0) + "Shows a list of commands or help for one command")
        lines += ["", "GLOBAL OPTIONS:"]
        lines += HelpFormatter.flagLines(GlobalOptions.flags + Self.programFlags + [Flag("help", aliases: ["h"], help: "show help")])
        lines += ["", "Run '\(p) COMMAND --help' for the options of a command."]
        return lines.joined(separator: "\n") + "\n"
    }
}
