/// Where one option value came from: the command line, or a line of a configuration file.
public enum OptionSource: Sendable, Equatable, CustomStringConvertible {
    case commandLine
    case file(path: String, line: Int)

    /// `path:line` for a file (as go-flags' `IniError` prints), "command line" otherwise.
    public var description: String {
        switch self {
        case .commandLine: return "command line"
        case .file(let path, let line): return "\(path):\(line)"
        }
    }
}
