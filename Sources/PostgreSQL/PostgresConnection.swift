#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibpq

/// One PostgreSQL session over libpq (thin wrapper over `PGconn*`).
///
/// Contract:
/// - Used by one thread at a time (the caller serializes access).
/// - Statements are parameterized only: `query` sends the SQL once as a named prepared statement
///   (cached per session) and the values separately in binary; nothing is spliced into SQL text.
///   `execute` runs fixed SQL with no parameters (schema scripts) and only takes `StaticString`.
/// - Every wait on the server is bounded by `Options.timeoutSeconds`: on expiry the session is
///   closed and `.timeout` thrown; a lost server gives `.connection`. The next call reconnects
///   (re-issuing LISTENs); a transaction open at the loss is gone (the server rolled it back).
/// - The DSN may hold a password: it is never logged or put in an error message.
public final class PostgresConnection: @unchecked Sendable {
    public struct Options: Sendable {
        /// Seconds any one wait on the server may take (connect, statement, commit); LND's
        /// `db.postgres.timeout`. 0 waits forever.
        public var timeoutSeconds: Double = 10
        /// Server settings applied to the session at every (re)connect (`set_config`), e.g.
        /// planner settings of a session that runs only keyed statements.
        public var settings: [String: String] = [:]
        /// `application_name` shown in `pg_stat_activity`.
        public var applicationName = "paytrackd"
        /// The schema names are resolved in first (`search_path`), e.g. one schema per served
        /// node; nil keeps the server's default.
        public var searchPath: String?
        public init() {}
    }

    private let dsn: String
    public let options: Options
    private var conn: OpaquePointer?
    private var prepared: [String: String] = [:]
    private var nextStatement = 0
    private var channels: [String] = []
    private var pending: [PostgresNotification] = []
    /// Reconnections after a lost session (statistics, tests).
    public private(set) var reconnects = 0

    /// Connects to `dsn` (a libpq connection string or URI).
    public init(dsn: String, options: Options = Options()) throws(PostgresError) {
        self.dsn = dsn
        self.options = options
        try connect()
    }

    deinit { close() }

    /// Closes the session. A later call reconnects.
    public func close() {
        if let c = conn { PQfinish(c) }
        conn = nil
        prepared.removeAll()
    }

    /// True while the session is up (as far as libpq knows without a round trip).
    public var isConnected: Bool { conn.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The server process serving this session (`pg_backend_pid()`), 0 when disconnected.
    public var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    private func connect() throws(PostgresError) {
        close()
        let timeout = options.timeoutSeconds > 0 ? String(max(2, Int(options.timeoutSeconds.rounded(.up)))) : "0"
        // `dbname` first with expand_dbname: the DSN is expanded in its place; the later keys
        // override what it says about timeouts and keepalives.
        let keys = ["dbname", "connect_timeout", "application_name", "keepalives", "keepalives_idle",
                    "keepalives_interval", "keepalives_count"]
        let values = [dsn, timeout, options.applicationName, "1", "5", "2", "3"]
        let c = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let c else { throw PostgresError(kind: .connection, message: "out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(kind: .connection, message: message)
        }
        PQsetnonblocking(c, 1)
        // Server notices (NOTICE/WARNING, e.g. "relation already exists, skipping") are not errors:
        // they are dropped instead of being printed on stderr.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        conn = c
        if options.timeoutSeconds > 0 {
            // The server gives up on a statement a little before we give up on the server.
            let ms = String(Int(options.timeoutSeconds * 1000))
            try query("SELECT set_config('statement_timeout', $1, false)", [.text(ms)])
        }
        if let path = options.searchPath {
            try query("SELECT set_config('search_path', $1, false)", [.text(path)])
        }
        for (name, value) in options.settings.sorted(by: { $0.key < $1.key }) {
            try query("SELECT set_config($1, $2, false)", [.text(name), .text(value)])
        }
        for ch in channels { try listenStatement(ch) }
    }

    /// Reconnects if the session was lost; no-op when connected.
    ///
    /// An idle session whose server went away (a restart sends a FATAL message and closes the
    /// socket) is noticed here, before anything is sent, with a zero-timeout poll: outside a
    /// transaction it is replaced at once, so the statement about to be sent runs on a fresh
    /// session instead of failing; inside a transaction it throws `.connection` (the server rolled
    /// the transaction back; its remaining statements must not run on another session).
    public func ensureConnected() throws(PostgresError) {
        if let c = conn, PQstatus(c) == CONNECTION_OK {
            var p = pollfd(fd: PQsocket(c), events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) > 0 {
                let transaction = PQtransactionStatus(c)
                if PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK {
                    let e = lost(c)
                    if transaction != PQTRANS_IDLE { throw e }
                }
            }
        }
        if !isConnected {
            reconnects += 1
            try connect()
        }
    }

    // MARK: Statements

    /// Runs fixed SQL (one or more statements, no parameters, no rows): schema scripts, BEGIN/COMMIT.
    public func execute(_ sql: StaticString) throws(PostgresError) {
        try ensureConnected()
        let c = conn!
        guard PQsendQuery(c, sql.description) == 1 else { throw lost(c) }
        _ = try results(c)
    }

    /// Runs a parameterized statement (prepared once per session) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        try ensureConnected()
        if prepared[sql] == nil { try prepare(sql, params) }
        let c = conn!
        try sendPrepared(c, prepared[sql]!, params)
        let r = try results(c)
        guard let last = r.last else { throw PostgresError(kind: .server, message: "no result") }
        return last
    }

    /// Runs parameterized statements in one libpq pipeline: all are sent, then one sync, then the
    /// results are read, so N statements cost one round trip instead of N. Statements not yet
    /// prepared on this session are prepared first (one round trip each, once per session).
    ///
    /// Errors: as in the protocol, the first failing statement aborts the rest up to the sync (an
    /// explicit transaction the pipeline opened is then in the failed state: roll it back); that
    /// first error is thrown after every result was read, so the session stays usable.
    public func pipeline(_ steps: [(sql: String, params: [PostgresValue])]) throws(PostgresError) -> [PostgresResult] {
        try ensureConnected()
        for step in steps where prepared[step.sql] == nil { try prepare(step.sql, step.params) }
        let c = conn!
        guard PQenterPipelineMode(c) == 1 else { throw lost(c) }
        var failure: PostgresError?
        var out: [PostgresResult] = []
        out.reserveCapacity(steps.count)
        do throws(PostgresError) {
            for step in steps { try sendPrepared(c, prepared[step.sql]!, step.params) }
            guard PQpipelineSync(c) == 1 else { throw lost(c) }
            let deadline = options.timeoutSeconds > 0 ? Self.deadline(options.timeoutSeconds) : .infinity
            try flush(c, deadline: deadline)
            for _ in steps {
                guard let r = try nextResult(c, deadline: deadline) else { throw PostgresError(kind: .server, message: "pipeline: missing result") }
                switch PQresultStatus(r) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                    out.append(PostgresResult(handle: r))
                case PGRES_PIPELINE_ABORTED:
                    PQclear(r)
                default:
                    let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                    if failure == nil { failure = PostgresError(kind: .server, sqlState: state, message: Self.trimmed(PQresultErrorMessage(r))) }
                    PQclear(r)
                }
                // Each statement's results end with a NULL.
                if let extra = try nextResult(c, deadline: deadline) { PQclear(extra) }
            }
            guard let sync = try nextResult(c, deadline: deadline), PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
                throw PostgresError(kind: .connection, message: "pipeline: out of step")
            }
            PQclear(sync)
            guard PQexitPipelineMode(c) == 1 else { throw lost(c) }
        } catch {
            if isConnected { close() }   // a session out of step with its pipeline is not reused
            throw error
        }
        drainNotifies(c)
        if let failure { throw failure }
        return out
    }

    private func prepare(_ sql: String, _ params: [PostgresValue]) throws(PostgresError) {
        let c = conn!
        let name = "s\(nextStatement)"
        nextStatement += 1
        let types = params.map(\.typeOID)
        let sent = types.withUnsafeBufferPointer { t in PQsendPrepare(c, name, sql, Int32(params.count), t.baseAddress) }
        guard sent == 1 else { throw lost(c) }
        _ = try results(c)
        prepared[sql] = name
    }

    private func sendPrepared(_ c: OpaquePointer, _ name: String, _ params: [PostgresValue]) throws(PostgresError) {
        let bodies = params.map(\.binary)
        let lengths = bodies.map { Int32($0?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: params.count)
        var pointers: [UnsafeMutablePointer<CChar>?] = bodies.map { b in
            guard let b else { return nil }
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, b.count))
            b.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: b.count) }
            }
            return p
        }
        defer { for p in pointers { p?.deallocate() } }
        let sent = pointers.withUnsafeMutableBufferPointer { vp in
            lengths.withUnsafeBufferPointer { lp in
                formats.withUnsafeBufferPointer { fp in
                    vp.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, params.count)) { vals in
                        PQsendQueryPrepared(c, name, Int32(params.count), params.isEmpty ? nil : vals,
                                            lp.baseAddress, fp.baseAddress, 1)
                    }
                }
            }
        }
        guard sent == 1 else { throw lost(c) }
    }

    /// Sends everything buffered, reading meanwhile so the server never blocks on a full socket.
    private func flush(_ c: OpaquePointer, deadline: Double) throws(PostgresError) {
        while true {
            let f = PQflush(c)
            if f == 0 { return }
            if f < 0 { throw lost(c) }
            _ = try waitReadable(c, deadline: deadline, failOnTimeout: true, writable: true)
            guard PQconsumeInput(c) == 1 else { throw lost(c) }
        }
    }

    /// The next result (nil: the end of one statement's results), waiting for input as needed.
    private func nextResult(_ c: OpaquePointer, deadline: Double) throws(PostgresError) -> OpaquePointer? {
        while PQisBusy(c) == 1 {
            _ = try waitReadable(c, deadline: deadline, failOnTimeout: true)
            guard PQconsumeInput(c) == 1 else { throw lost(c) }
        }
        return PQgetResult(c)
    }

    /// Runs `body` inside `BEGIN … COMMIT` (or `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`
    /// with `readOnly`), rolling back if it throws. A lost session fails the transaction with
    /// `.connection`/`.timeout`: the caller cannot know whether a COMMIT in flight took effect.
    @discardableResult
    public func transaction<R>(readOnly: Bool = false, _ body: () throws -> R) throws -> R {
        if readOnly { try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") } else { try execute("BEGIN") }
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            if isConnected { try? execute("ROLLBACK") }
            throw error
        }
    }

    // MARK: LISTEN/NOTIFY

    /// Subscribes this session to `channel` (lowercase letters, digits, `_`; starting with a
    /// letter). Re-issued after every reconnect.
    public func listen(_ channel: String) throws(PostgresError) {
        guard Self.isChannelName(channel) else {
            throw PostgresError(kind: .server, sqlState: "42602", message: "invalid channel name \"\(channel)\"")
        }
        if !channels.contains(channel) { channels.append(channel) }
        try ensureConnected()
        try listenStatement(channel)
    }

    private func listenStatement(_ channel: String) throws(PostgresError) {
        try identifierStatement("LISTEN ", channel)
    }

    /// `CREATE SCHEMA IF NOT EXISTS name` (a name as for `listen`).
    public func createSchema(_ name: String) throws(PostgresError) {
        guard Self.isChannelName(name) else {
            throw PostgresError(kind: .server, sqlState: "42602", message: "invalid schema name \"\(name)\"")
        }
        try ensureConnected()
        try identifierStatement("CREATE SCHEMA IF NOT EXISTS ", name)
    }

    /// A statement whose only variable part is one identifier (LISTEN and CREATE SCHEMA take no
    /// parameters): the name was checked by the caller and is quoted by libpq.
    private func identifierStatement(_ prefix: StaticString, _ name: String) throws(PostgresError) {
        let c = conn!
        guard let quoted = PQescapeIdentifier(c, name, name.utf8.count) else { throw lost(c) }
        let sql = prefix.description + String(cString: quoted)
        PQfreemem(quoted)
        guard PQsendQuery(c, sql) == 1 else { throw lost(c) }
        _ = try results(c)
    }

    /// Sends `payload` to every session listening on `channel` (delivered at commit when inside a
    /// transaction). Payloads are limited by the server to under 8000 bytes.
    public func notify(_ channel: String, _ payload: String) throws(PostgresError) {
        try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Notifications received so far, waiting up to `timeout` seconds for the first one when
    /// there are none (0: do not wait). Throws `.connection` when the session is lost (the caller
    /// reconnects and catches up: notifications sent meanwhile are gone).
    public func notifications(timeout: Double) throws(PostgresError) -> [PostgresNotification] {
        try ensureConnected()
        let c = conn!
        drainNotifies(c)
        if pending.isEmpty && timeout > 0 {
            _ = try waitReadable(c, deadline: Self.deadline(timeout), failOnTimeout: false)
            guard PQconsumeInput(c) == 1 else { throw lost(c) }
            drainNotifies(c)
        } else if pending.isEmpty {
            guard PQconsumeInput(c) == 1 else { throw lost(c) }
            drainNotifies(c)
        }
        defer { pending.removeAll() }
        return pending
    }

    /// The socket to poll for readability between `notifications` calls (-1 when disconnected).
    public var socket: Int32 { conn.map { PQsocket($0) } ?? -1 }

    private func drainNotifies(_ c: OpaquePointer) {
        while let n = PQnotifies(c) {
            pending.append(PostgresNotification(channel: String(cString: n.pointee.relname),
                                                payload: String(cString: n.pointee.extra), senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
    }

    static func isChannelName(_ s: String) -> Bool {
        guard let first = s.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), s.utf8.count <= 63 else { return false }
        return s.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    // MARK: Waiting for the server

    private static func deadline(_ seconds: Double) -> Double { monotonicSeconds() + seconds }

    private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Flushes the request and collects every result until libpq has no more; the last error
    /// result (if any) is thrown after the statement finished, so the session stays in step.
    private func results(_ c: OpaquePointer) throws(PostgresError) -> [PostgresResult] {
        let deadline = options.timeoutSeconds > 0 ? Self.deadline(options.timeoutSeconds) : .infinity
        while true {
            let f = PQflush(c)
            if f == 0 { break }
            if f < 0 { throw lost(c) }
            _ = try waitReadable(c, deadline: deadline, failOnTimeout: true, writable: true)
            guard PQconsumeInput(c) == 1 else { throw lost(c) }
        }
        var out: [PostgresResult] = []
        var failure: PostgresError?
        while true {
            while PQisBusy(c) == 1 {
                _ = try waitReadable(c, deadline: deadline, failOnTimeout: true)
                guard PQconsumeInput(c) == 1 else { throw lost(c) }
            }
            guard let r = PQgetResult(c) else { break }
            switch PQresultStatus(r) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                out.append(PostgresResult(handle: r))
            default:
                let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                let message = Self.trimmed(PQresultErrorMessage(r))
                PQclear(r)
                if PQstatus(c) != CONNECTION_OK { throw lost(c) }
                failure = PostgresError(kind: .server, sqlState: state, message: message)
            }
        }
        if PQstatus(c) != CONNECTION_OK { throw lost(c) }
        drainNotifies(c)
        if let failure { throw failure }
        return out
    }

    /// Waits until the socket is readable (or writable); on the deadline either closes the session
    /// and throws `.timeout` or returns false.
    private func waitReadable(_ c: OpaquePointer, deadline: Double, failOnTimeout: Bool, writable: Bool = false) throws(PostgresError) -> Bool {
        var p = pollfd(fd: PQsocket(c), events: Int16(POLLIN) | (writable ? Int16(POLLOUT) : 0), revents: 0)
        while true {
            let left = deadline - Self.monotonicSeconds()
            if left <= 0 {
                guard failOnTimeout else { return false }
                close()
                throw PostgresError(kind: .timeout, message: "no answer from the server within \(options.timeoutSeconds) s")
            }
            let ms = left.isInfinite ? -1 : Int32(min(left * 1000 + 1, 3_600_000))
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n < 0 && errno != EINTR { throw lost(c) }
        }
    }

    /// Closes a broken session and describes why.
    private func lost(_ c: OpaquePointer) -> PostgresError {
        let message = Self.trimmed(PQerrorMessage(c))
        close()
        return PostgresError(kind: .connection, message: message.isEmpty ? "connection lost" : message)
    }

    private static func trimmed(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "" }
        var s = String(cString: p)
        while s.last?.isNewline == true || s.last == " " { s.removeLast() }
        return s
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for p in copies { free(p) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
