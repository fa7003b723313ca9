import Locks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster for tests: `initdb` into a fresh temporary directory, `pg_ctl`
/// start on a free loopback port with its unix socket in the same directory, trust auth for the
/// `postgres` superuser, and stop plus removal of the directory afterwards.
///
/// When the process runs as root (CI: `Scripts/test` on a fresh machine) the server binaries run
/// as the `postgres` user (`runuser`), since PostgreSQL refuses to run as root; otherwise as the
/// current user. Binaries come from `$PAYTRACK_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/N/bin` (Debian's layout), else `PATH`.
///
/// Contract: `init` either returns a running cluster or throws with the server's own log; tests
/// that need PostgreSQL call it and fail (never skip) when it throws.
public final class PostgresCluster: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The temporary directory: `data/` (the cluster), `server.log`, and the unix socket.
    public let directory: String
    public let port: Int
    private let binDirectory: String
    private let runAsPostgres: Bool
    private var running = false
    private var databases = 0
    private let lock = Lock()

    /// Starts a new cluster. `durable: false` (the default for tests) turns off fsync: commits
    /// survive the server being killed, not the machine losing power. `settings` are extra
    /// `postgresql.conf` lines (benchmarks: the tuning a production server would have).
    public init(durable: Bool = false, settings: [String] = []) throws {
        binDirectory = try Self.findBinDirectory()
        runAsPostgres = getuid() == 0
        directory = try Self.makeDirectory()
        port = try Self.freePort()
        if runAsPostgres {
            _ = try Self.run("/bin/chown", ["-R", "postgres:postgres", directory])
        }
        do {
            try command("initdb", ["-D", directory + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            var conf = "listen_addresses = '127.0.0.1'\nport = \(port)\nunix_socket_directories = '\(directory)'\n"
            conf += "max_connections = 200\nshared_buffers = 128MB\n"
            if !durable { conf += "fsync = off\nfull_page_writes = off\n" }
            for line in settings { conf += line + "\n" }
            let confPath = directory + "/data/postgresql.conf"
            let old = try String(contentsOfFile: confPath, encoding: .utf8)
            try (old + "\n# PayTrack test cluster\n" + conf).write(toFile: confPath, atomically: false, encoding: .utf8)
            try start()
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            remove()
            throw Failure(description: "cannot start a PostgreSQL test cluster: \(error)\n\(log.suffix(2000))")
        }
    }

    deinit { stop(); remove() }

    /// `host=DIR port=PORT user=postgres dbname=NAME` (the unix socket).
    public func dsn(database: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=postgres dbname=\(database)"
    }

    /// The same database over TCP on 127.0.0.1.
    public func tcpDSN(database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(database)"
    }

    /// Creates an empty database with a fresh name (`t1`, `t2`, ...) and returns its DSN.
    public func createDatabase() throws -> String {
        let name = lock.withLock { () -> String in
            databases += 1
            return "t\(databases)"
        }
        try command("createdb", ["-h", directory, "-p", String(port), "-U", "postgres", name])
        return dsn(database: name)
    }

    /// Starts the server (again, after `stop`), waiting until it accepts connections.
    public func start() throws {
        try command("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "start"])
        lock.withLock { running = true }
    }

    /// Stops the server (`fast`: disconnects clients, rolls back open transactions; `immediate`:
    /// as a crash). Idempotent.
    public func stop(mode: String = "fast") {
        guard lock.withLock({ running }) else { return }
        _ = try? command("pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "-t", "60", "stop"])
        lock.withLock { running = false }
    }

    /// Stops the server and deletes the directory (for owners that outlive `deinit`, e.g. a
    /// global in a benchmark's main). Idempotent.
    public func destroy() {
        stop(mode: "fast")
        remove()
    }

    private func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: The shared cluster

    nonisolated(unsafe) private static var sharedCluster: PostgresCluster?
    private static let sharedLock = Lock()

    /// One cluster for the whole test process (started on first use, stopped at exit); each test
    /// takes its own database from it with `createDatabase`.
    public static func shared() throws -> PostgresCluster {
        try sharedLock.withLock {
            if let c = sharedCluster { return c }
            let c = try PostgresCluster()
            sharedCluster = c
            atexit {
                PostgresCluster.sharedCluster?.stop(mode: "immediate")
                PostgresCluster.sharedCluster?.remove()
            }
            return c
        }
    }

    // MARK: Processes

    @discardableResult
    private func command(_ tool: String, _ args: [String]) throws -> String {
        let path = binDirectory.isEmpty ? tool : binDirectory + "/" + tool
        if runAsPostgres {
            return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + args)
        }
        return try Self.run(path, args)
    }

    /// Runs a tool to completion with `posix_spawn` and `waitpid`. Its output goes to a file: the
    /// server `pg_ctl start` leaves running inherits the tool's descriptors, so anything the
    /// caller would wait on for EOF (a pipe, or Foundation `Process`'s exit-monitoring socket)
    /// would never close.
    private static func run(_ executable: String, _ args: [String]) throws -> String {
        let outPath = NSTemporaryDirectory() + "/paytrack-pg-cmd-\(UUID().uuidString).log"
        defer { unlink(outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [executable] + args
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, executable, &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(executable): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0 && (status >> 8) & 0xff == 0 else {
            throw Failure(description: "\(executable) \(args.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    private static func findBinDirectory() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["PAYTRACK_PG_BINDIR"], !dir.isEmpty { return dir }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return "\(root)/\(v)/bin"
        }
        return ""
    }

    private static func makeDirectory() throws -> String {
        var template = Array("/tmp/paytrack-pg-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: errno \(errno)") }
        let dir = String(cString: p)
        chmod(dir, 0o755)
        return dir
    }

    /// The next port `freePort` tries; starts at a place spread by pid (two test processes on one
    /// machine rarely try the same ports).
    private static let nextPort = LockedValue(20000 + Int(getpid()) &* 7919 % 12767)

    /// A loopback port nothing is bound to now, below Linux's ephemeral range (32768-60999 by
    /// default) so an outgoing connection's local port cannot take it while `initdb` runs, and
    /// not handed out before by this process. The check socket is closed before the server binds.
    private static func freePort() throws -> Int {
        for _ in 0..<12767 {
            let port = nextPort.withLock { next -> Int in
                let p = next
                next = next >= 32767 ? 20000 : next + 1
                return p
            }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw Failure(description: "no free loopback port in 20000-32767")
    }
}
