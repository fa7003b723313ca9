#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// Schema migrations of one component (payments, invoices, ...) in a PostgreSQL database.
///
/// `schema_migrations` (in the session's schema) holds one row per applied version per component.
/// `migrate` applies the missing versions in one transaction under a transaction-scoped advisory
/// lock, so several processes opening the database at once apply each version exactly once.
public enum PostgresMigrations {
    /// Advisory lock key serializing migrations across processes ("PAYTRACK" in ASCII).
    public static let lockKey: Int64 = 0x5041_5954_5241_434B

    /// Creates the migrations table if needed and returns `component`'s version (0: none).
    public static func version(_ c: PostgresConnection, component: String) throws(PostgresError) -> Int {
        try c.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component TEXT NOT NULL, version BIGINT NOT NULL, applied_ns BIGINT NOT NULL,
                PRIMARY KEY (component, version))
            """)
        let r = try c.query("SELECT COALESCE(MAX(version), 0)::int8 FROM schema_migrations WHERE component = $1",
                            [.text(component)])
        return Int(try r.int64(0, 0))
    }

    /// Applies every version of `migrations` (ascending) above the database's, up to `target`.
    /// Throws when the database is newer than the last of `migrations`.
    public static func migrate(_ c: PostgresConnection, component: String, migrations: [(version: Int, sql: StaticString)],
                               upTo target: Int = .max) throws {
        let current = migrations.last?.version ?? 0
        try c.transaction {
            try c.query("SELECT pg_advisory_xact_lock($1)", [.int64(lockKey)])
            let have = try version(c, component: component)
            guard have <= current else {
                throw PostgresError(kind: .server, message: "\(component) schema version \(have) is newer than this build (\(current))")
            }
            for m in migrations where m.version > have && m.version <= target {
                try c.execute(m.sql)
                try c.query("INSERT INTO schema_migrations (component, version, applied_ns) VALUES ($1, $2, $3)",
                            [.text(component), .int64(Int64(m.version)), .int64(wallClockNanos())])
            }
        }
    }

    private static func wallClockNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
