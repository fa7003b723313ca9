/// Why a command line or a configuration file was refused. Every case carries what an operator
/// needs to find the mistake: the option's name and, for a file, the path and line number.
///
/// Programs may word the command-line cases their own way (the CLI keeps lncli's texts); the
/// `description` here is the default, and the one used for files: `PATH:LINE: message`, as
/// go-flags reports an error in lnd.conf.
public enum OptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `-h` or `--help` was given (not an error: the caller prints its help).
    case helpRequested
    /// A flag no option has (the name without dashes).
    case unknownFlag(String)
    /// An option that takes a value was last on the command line.
    case missingValue(name: String, placeholder: String)
    /// A switch was given a value that is not a boolean.
    case invalidSwitchValue(name: String, value: String, source: OptionSource)
    /// A non-repeatable option given a second time in the same source.
    case repeated(name: String, source: OptionSource)
    /// A configuration-file key that names no option (with its section, `routerrpc.foo`).
    case unknownKey(key: String, path: String, line: Int)
    /// A configuration-file line that is neither a comment, a `[section]` nor `key=value`.
    case malformedLine(path: String, line: Int, reason: String)
    /// A value its option refused (the option's own message).
    case invalidValue(name: String, message: String, source: OptionSource)
    /// The configuration file could not be read.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .helpRequested:
            return "help requested"
        case .unknownFlag(let name):
            return "unknown flag --\(name)"
        case .missingValue(let name, let placeholder):
            return "--\(name) needs a value (\(placeholder))"
        case .invalidSwitchValue(let name, let value, .commandLine):
            return "--\(name) is a switch; got value \"\(value)\" (use true or false)"
        case .invalidSwitchValue(let name, let value, let source):
            return "\(source): \(name): invalid boolean value \"\(value)\" (use true or false)"
        case .repeated(let name, .commandLine):
            return "--\(name) given more than once"
        case .repeated(let name, let source):
            return "\(source): \(name): given more than once (only repeatable options may be)"
        case .unknownKey(let key, let path, let line):
            return "\(path):\(line): \(key): unknown option"
        case .malformedLine(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .invalidValue(_, let message, .commandLine):
            return message
        case .invalidValue(let name, let message, let source):
            return "\(source): \(name): \(message)"
        case .unreadableFile(let path, let reason):
            return "cannot read configuration file \(path): \(reason)"
        }
    }
}
