import Foundation

/// Log levels as LND names them (`--debuglevel`): trace < debug < info < warn < error < critical.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace, debug, info, warn, error, critical, off

    public init?(name: String) {
        switch name.lowercased() {
        case "trace", "trc": self = .trace
        case "debug", "dbg": self = .debug
        case "info", "inf": self = .info
        case "warn", "wrn": self = .warn
        case "error", "err": self = .error
        case "critical", "crt": self = .critical
        case "off": self = .off
        default: return nil
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    var tag: String { ["TRC", "DBG", "INF", "WRN", "ERR", "CRT", "OFF"][rawValue] }
}

/// Per-subsystem log levels parsed from LND's `--debuglevel` syntax: either one level for all
/// (`debug`) or a comma list of `SUBSYSTEM=level` pairs, optionally led by a global level
/// (`info,RPCS=debug,PAYM=trace`). Subsystem names are four letters, as LND's are.
public struct LogLevels: Sendable, Equatable {
    public var global: LogLevel
    public var subsystems: [String: LogLevel]

    public init(global: LogLevel = .info, subsystems: [String: LogLevel] = [:]) {
        self.global = global
        self.subsystems = subsystems
    }

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let s):
                return "invalid debuglevel \"\(s)\": use a level (trace, debug, info, warn, error, critical, off) or SUBSYSTEM=level pairs"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        self.init()
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if let eq = part.firstIndex(of: "=") {
                let name = part[..<eq].uppercased()
                guard !name.isEmpty, let level = LogLevel(name: String(part[part.index(after: eq)...])) else {
                    throw .invalid(text)
                }
                subsystems[name] = level
            } else {
                guard let level = LogLevel(name: part) else { throw .invalid(text) }
                global = level
            }
        }
    }

    public func level(for subsystem: String) -> LogLevel { subsystems[subsystem] ?? global }
}

/// A subsystem logger writing LND-shaped lines to stderr and the log file:
/// `2026-11-21 03:30:00.123 [INF] RPCS: message`. Thread-safe; a line is one write(2).
///
/// Contract: callers never pass secrets (keys, macaroons, preimages of unsettled payments) to it.
public struct Logger: Sendable {
    public let subsystem: String
    let sink: LogSink

    public init(subsystem: String, sink: LogSink) {
        self.subsystem = subsystem
        self.sink = sink
    }

    public func enabled(_ level: LogLevel) -> Bool { level >= sink.levels.level(for: subsystem) }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level >= sink.levels.level(for: subsystem) else { return }
        sink.write(level: level, subsystem: subsystem, message: message())
    }

    public func trace(_ m: @autoclosure () -> String) { log(.trace, m()) }
    public func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
    public func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public func warn(_ m: @autoclosure () -> String) { log(.warn, m()) }
    public func error(_ m: @autoclosure () -> String) { log(.error, m()) }
    public func critical(_ m: @autoclosure () -> String) { log(.critical, m()) }
}

/// Where log lines go (stderr, and the log file when there is one), with the configured levels.
public final class LogSink: Sendable {
    public let levels: LogLevels
    public let file: RotatingLogFile?
    public init(levels: LogLevels, file: RotatingLogFile? = nil) {
        self.levels = levels
        self.file = file
    }

    public func logger(_ subsystem: String) -> Logger { Logger(subsystem: subsystem, sink: self) }

    func write(level: LogLevel, subsystem: String, message: String) {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let stamp = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d",
                           tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday,
                           tmv.tm_hour, tmv.tm_min, tmv.tm_sec, Int(tv.tv_usec / 1000))
        let line = "\(stamp) [\(level.tag)] \(subsystem): \(message)\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        file?.write(bytes)
    }
}
