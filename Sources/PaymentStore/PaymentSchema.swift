import Payments
import SQLite

/// The payments database schema and its migrations.
///
/// `schema_migrations` holds one row per applied version; `migrate` applies the missing ones in
/// order, each in its own transaction, so a crash mid-migration leaves the previous version.
///
/// Tables (version 2):
/// - `payments`: one row per payment. `id` is a stable row key; `payment_index` is LND's
///   sequence number (renewed on retry). `status` is the §6 status *derived* from the attempts and
///   reason at every write, kept only as an index key (in-flight lookup, Succeeded-only listing,
///   DeleteAllPayments); snapshots read back recompute their status and never trust the column.
///   `last_update_ns` is the update stamp (replay-since index).
/// - `htlc_attempts`: one row per attempt (route and failure as `PaymentCodec` blobs).
/// - `payment_meta`: counters (`payment_count`, `max_payment_index`, `max_update_ns`) kept in the
///   same transactions, so nothing at open or in ListPayments needs to scan all payments.
enum PaymentSchema {
    static let migrations: [(version: Int, sql: String)] = [
        (1, """
        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            payment_index INTEGER NOT NULL UNIQUE,
            value_msat INTEGER NOT NULL,
            creation_ns INTEGER NOT NULL,
            payment_request BLOB NOT NULL,
            first_hop_records BLOB NOT NULL,
            failure_reason INTEGER,
            status INTEGER NOT NULL,
            last_update_ns INTEGER NOT NULL
        );
        CREATE INDEX payments_status ON payments(status, payment_index);
        CREATE TABLE htlc_attempts (
            payment_id INTEGER NOT NULL REFERENCES payments(id),
            attempt_id INTEGER NOT NULL,
            session_key BLOB NOT NULL,
            attempt_ns INTEGER NOT NULL,
            attempt_hash BLOB,
            route BLOB NOT NULL,
            settle_preimage BLOB,
            settle_ns INTEGER,
            fail_ns INTEGER,
            failure BLOB,
            PRIMARY KEY (payment_id, attempt_id)
        ) WITHOUT ROWID;
        """),
        (2, """
        CREATE INDEX payments_update ON payments(last_update_ns);
        CREATE INDEX payments_creation ON payments(creation_ns);
        CREATE INDEX htlc_attempts_failed ON htlc_attempts(payment_id) WHERE fail_ns IS NOT NULL;
        CREATE TABLE payment_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO payment_meta SELECT 'payment_count', COUNT(*) FROM payments;
        INSERT INTO payment_meta SELECT 'max_payment_index', COALESCE(MAX(payment_index), 0) FROM payments;
        INSERT INTO payment_meta SELECT 'max_update_ns', COALESCE(MAX(last_update_ns), 0) FROM payments;
        """),
    ]

    static var currentVersion: Int { migrations.last!.version }

    /// The highest applied version (0 for a new file).
    static func version(_ db: Database) throws -> Int {
        try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)")
        let st = try db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        _ = try st.step()
        return st.int(0)
    }

    /// Applies every migration above the file's version, up to `target`.
    static func migrate(_ db: Database, upTo target: Int = currentVersion) throws {
        let have = try version(db)
        guard have <= currentVersion else {
            throw SQLiteError(code: 1, message: "payments database schema version \(have) is newer than this build (\(currentVersion))")
        }
        for m in migrations where m.version > have && m.version <= target {
            try db.transaction {
                try db.execute(m.sql)
                let st = try db.prepare("INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)")
                st.bind(1, m.version)
                st.bind(2, unixNanosNow())
                try st.run()
            }
        }
    }
}
