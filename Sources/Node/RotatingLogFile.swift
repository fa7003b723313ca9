import Locks
import Foundation

/// The daemon's log file, rotated by size as LND's (`--maxlogfilesize`, `--maxlogfiles`):
/// `paytrackd.log` is the live file; when a line would take it past `maximumBytes` it becomes
/// `paytrackd.log.1`, `.1` becomes `.2`, and so on, and the oldest beyond `keptFiles` is removed.
///
/// Contract: thread-safe; a line is written whole with write(2) under the lock, straight to the
/// file (no buffer of our own, so memory stays constant whatever the log volume and a crash loses
/// nothing already logged). A line longer than `maximumBytes` is written to a fresh file on its
/// own. With `keptFiles` 0 the file is never rotated (LND's `--maxlogfiles=0`). Files are
/// created 0600 in directories created 0700. Unlike LND's rotator, old files are not gzipped.
/// Write errors (disk full) drop the line: logging never stops the daemon.
public final class RotatingLogFile: Sendable {
    public let path: String
    public let maximumBytes: Int
    public let keptFiles: Int
    private let state: LockedValue<(fd: Int32, size: Int)>

    public init(path: String, maximumBytes: Int, keptFiles: Int) throws {
        precondition(maximumBytes > 0 && keptFiles >= 0)
        self.path = path
        self.maximumBytes = maximumBytes
        self.keptFiles = keptFiles
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let fd = try Self.open(path, truncate: false)
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        state = LockedValue((fd, size))
    }

    deinit { state.withLock { _ = close($0.fd) } }

    /// Appends `line` (one log line, newline included), rotating first if it would not fit.
    public func write(_ line: [UInt8]) {
        state.withLock { s in
            if keptFiles > 0, s.size > 0, s.size + line.count > maximumBytes, let fd = try? rotate(closing: s.fd) {
                s = (fd, 0)
            }
            var done = 0
            line.withUnsafeBytes { raw in
                while done < raw.count {
                    let n = Foundation.write(s.fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    done += n
                }
            }
            s.size += done
        }
    }

    /// The files that exist: the live one, then `.1`, `.2`, ... (for tests and operators).
    public func existingFiles() -> [String] {
        ([path] + (0..<max(keptFiles, 1)).map { "\(path).\($0 + 1)" }).filter { FileManager.default.fileExists(atPath: $0) }
    }

    private func rotate(closing fd: Int32) throws -> Int32 {
        close(fd)
        unlink("\(path).\(keptFiles)")
        if keptFiles > 1 {
            for i in stride(from: keptFiles - 1, through: 1, by: -1) { rename("\(path).\(i)", "\(path).\(i + 1)") }
        }
        rename(path, "\(path).1")
        return try Self.open(path, truncate: true)
    }

    private static func open(_ path: String, truncate: Bool) throws -> Int32 {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o600)
        guard fd >= 0 else { throw ConfigError(description: "cannot open log file \(path): \(String(cString: strerror(errno)))") }
        return fd
    }
}
