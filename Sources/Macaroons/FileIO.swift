#if canImport(Glibc)
import Glibc
private let sysRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let sysRead = Darwin.read
#endif

/// The few POSIX file operations the store needs: whole-file reads with a size bound, atomic
/// replace with an exact mode, create-only writes, `mkdir -p`.
enum FileIO {
    static func errnoText(_ what: String, _ path: String) -> MacaroonError {
        MacaroonError("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// The file's permission bits.
    static func mode(_ path: String) -> UInt32? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return UInt32(st.st_mode) & 0o7777
    }

    static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(MacaroonError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw errnoText("cannot create directory", prefix) }
        }
    }

    static func read(_ path: String, limit: Int) throws(MacaroonError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errnoText("cannot open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { sysRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errnoText("cannot read", path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw MacaroonError("\(path): file larger than \(limit) bytes") }
        }
    }

    static func writeAll(_ fd: Int32, _ data: [UInt8], _ path: String) throws(MacaroonError) {
        var off = 0
        while off < data.count {
            let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errnoText("cannot write", path)
            }
            off += n
        }
    }

    /// Writes `data` to a temporary file with `mode`, fsyncs it and renames it over `path`.
    static func replaceAtomically(_ path: String, _ data: [UInt8], mode: mode_t) throws(MacaroonError) {
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw errnoText("cannot create", tmp) }
        do throws(MacaroonError) {
            guard fchmod(fd, mode) == 0 else { throw errnoText("cannot chmod", tmp) }
            try writeAll(fd, data, tmp)
            guard fsync(fd) == 0 else { throw errnoText("cannot fsync", tmp) }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw errnoText("cannot rename", tmp)
        }
        syncDirectory(of: path)
    }

    /// Creates `path` with `mode` only if it does not exist. Returns false when it existed.
    static func createExclusive(_ path: String, _ data: [UInt8], mode permissionBits: UInt32) throws(MacaroonError) -> Bool {
        let mode = mode_t(permissionBits)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw errnoText("cannot create", path)
        }
        do throws(MacaroonError) {
            guard fchmod(fd, mode) == 0 else { throw errnoText("cannot chmod", path) }
            try writeAll(fd, data, path)
            guard fsync(fd) == 0 else { throw errnoText("cannot fsync", path) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        syncDirectory(of: path)
        return true
    }

    static func syncDirectory(of path: String) {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
