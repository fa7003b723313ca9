#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The node's long-lived identity key (its Lightning node id), kept in one file in the datadir.
///
/// Contract: the file holds exactly the 32 raw secret-key bytes, mode 0600, owned by the daemon.
/// `loadOrCreate(path:)` creates it on first start (exclusive create with mode 0600, written to a
/// temporary file and renamed into place, so a crash never leaves a half-written key) and loads it
/// afterwards. A file that is readable or writable by group/others, of the wrong size, or not a
/// valid secp256k1 scalar is refused with a typed error; the key is never logged.
public struct NodeIdentity: Sendable {
    public let privateKey: PrivateKey
    /// The 33-byte compressed node id.
    public var publicKey: PublicKey { privateKey.publicKey }

    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// The file could not be read, created or written (errno).
        case io(path: String, errno: Int32)
        /// The file grants group or other access (mode shown in octal).
        case insecurePermissions(path: String, mode: UInt32)
        /// The file is not exactly 32 bytes.
        case invalidLength(path: String, length: Int)
        /// The 32 bytes are not a valid secp256k1 secret key.
        case invalidKey(path: String)

        public var description: String {
            switch self {
            case let .io(path, e): return "node identity \(path): \(String(cString: strerror(e)))"
            case let .insecurePermissions(path, mode):
                return "node identity \(path) has mode \(String(mode, radix: 8)); it must be 0600"
            case let .invalidLength(path, n): return "node identity \(path) is \(n) bytes, want 32"
            case let .invalidKey(path): return "node identity \(path) is not a valid secp256k1 key"
            }
        }
    }

    public init(privateKey: PrivateKey) { self.privateKey = privateKey }

    /// Loads the key at `path`, or creates a fresh one there (mode 0600) when no file exists.
    public static func loadOrCreate(path: String) throws(Error) -> NodeIdentity {
        if let existing = try load(path: path) { return existing }
        let key = PrivateKey.generate()
        do {
            try writeKey(key, to: path)
        } catch .io(_, EEXIST) {
            // Lost a race with another creator: use theirs.
            if let existing = try load(path: path) { return existing }
            throw .io(path: path, errno: ENOENT)
        }
        return NodeIdentity(privateKey: key)
    }

    /// Loads the key at `path`; nil if the file does not exist.
    public static func load(path: String) throws(Error) -> NodeIdentity? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(path: path, errno: errno)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, errno: errno) }
        let mode = UInt32(st.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        var buf = [UInt8](repeating: 0, count: 33)
        var total = 0
        while total < buf.count {
            let n = buf.withUnsafeMutableBytes { sysRead(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 { if errno == EINTR { continue }; throw .io(path: path, errno: errno) }
            if n == 0 { break }
            total += n
        }
        guard total == 32 else {
            buf.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
            throw .invalidLength(path: path, length: total)
        }
        guard let key = try? PrivateKey(rawRepresentation: Array(buf[0..<32])) else { throw .invalidKey(path: path) }
        buf.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
        return NodeIdentity(privateKey: key)
    }

    /// Writes `key` to `path` (which must not exist) with mode 0600, via a temporary file and rename.
    static func writeKey(_ key: PrivateKey, to path: String) throws(Error) {
        let tmp = path + ".tmp-" + Hex.encode(SecureRandom.bytes(6))
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: tmp, errno: errno) }
        var ok = fchmod(fd, 0o600) == 0
        let bytes = key.rawRepresentation
        var written = 0
        while ok && written < bytes.count {
            let n = bytes.withUnsafeBytes { sysWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            written += n
        }
        ok = ok && fsync(fd) == 0
        let savedErrno = errno
        close(fd)
        guard ok else { unlink(tmp); throw .io(path: tmp, errno: savedErrno) }
        // link() fails with EEXIST instead of replacing an existing identity (rename would replace it).
        if link(tmp, path) != 0 {
            let e = errno
            unlink(tmp)
            throw .io(path: path, errno: e)
        }
        unlink(tmp)
    }
}

#if canImport(Glibc)
private let sysWrite = Glibc.write
private let sysRead = Glibc.read
#elseif canImport(Darwin)
private let sysWrite = Darwin.write
private let sysRead = Darwin.read
#endif
