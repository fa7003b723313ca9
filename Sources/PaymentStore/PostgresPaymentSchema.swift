import Payments
import PostgreSQL

/// The payments schema on PostgreSQL and its migrations: the same tables, columns and indexes
/// as `PaymentSchema` (SQLite), in PostgreSQL's types, so `PaymentRowDecoder` reads both.
///
/// Several processes may open one database at once (replicas): `migrate` holds a transaction-scoped
/// advisory lock, so exactly one applies each missing version and the others then see it.
/// `schema_migrations` is shared by every PayTrack store in the database, keyed by component.
///
/// Differences from SQLite: `htlc_attempts.payment_id` cascades on delete (one statement removes a
/// payment with its attempts); `payment_meta` starts with its three counters.
enum PostgresPaymentSchema {
    static let component = "payments"

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE payments (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            hash BYTEA NOT NULL UNIQUE,
            payment_index BIGINT NOT NULL UNIQUE,
            value_msat BIGINT NOT NULL,
            creation_ns BIGINT NOT NULL,
            payment_request BYTEA NOT NULL,
            first_hop_records BYTEA NOT NULL,
            failure_reason BIGINT,
            status BIGINT NOT NULL,
            last_update_ns BIGINT NOT NULL
        );
        CREATE INDEX payments_status ON payments (status, payment_index);
        CREATE INDEX payments_update ON payments (last_update_ns);
        CREATE INDEX payments_creation ON payments (creation_ns);
        CREATE TABLE htlc_attempts (
            payment_id BIGINT NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
            attempt_id BIGINT NOT NULL,
            session_key BYTEA NOT NULL,
            attempt_ns BIGINT NOT NULL,
            attempt_hash BYTEA,
            route BYTEA NOT NULL,
            settle_preimage BYTEA,
            settle_ns BIGINT,
            fail_ns BIGINT,
            failure BYTEA,
            PRIMARY KEY (payment_id, attempt_id)
        );
        CREATE INDEX htlc_attempts_failed ON htlc_attempts (payment_id) WHERE fail_ns IS NOT NULL;
        CREATE TABLE payment_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO payment_meta (key, value) VALUES ('payment_count', 0), ('max_payment_index', 0), ('max_update_ns', 0);
        """),
    ]

    static var currentVersion: Int { migrations.last!.version }

    /// Advisory lock key serializing migrations across processes ("PAYTRACK" in ASCII).
    static let migrationLock: Int64 = 0x5041_5954_5241_434B

    /// Creates the shared migrations table if needed and returns this component's version (0: none).
    static func version(_ c: PostgresConnection) throws -> Int {
        try c.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component TEXT NOT NULL, version BIGINT NOT NULL, applied_ns BIGINT NOT NULL,
                PRIMARY KEY (component, version))
            """)
        let r = try c.query("SELECT COALESCE(MAX(version), 0)::int8 FROM schema_migrations WHERE component = $1",
                            [.text(component)])
        return Int(try r.int64(0, 0))
    }

    /// Applies every missing version up to `target`, all in one transaction under the advisory lock.
    static func migrate(_ c: PostgresConnection, upTo target: Int = currentVersion) throws {
        try c.transaction {
            try c.query("SELECT pg_advisory_xact_lock($1)", [.int64(migrationLock)])
            let have = try version(c)
            guard have <= currentVersion else {
                throw PostgresError(kind: .server, message: "payments schema version \(have) is newer than this build (\(currentVersion))")
            }
            for m in migrations where m.version > have && m.version <= target {
                try c.execute(m.sql)
                try c.query("INSERT INTO schema_migrations (component, version, applied_ns) VALUES ($1, $2, $3)",
                            [.text(component), .int64(Int64(m.version)), .int64(unixNanosNow())])
            }
        }
    }
}
