import Payments
import SQLite

/// One read-only connection with its prepared statements. Used by one thread at a time (the
/// store's reader pool hands it out). Every public read runs in one read transaction, so a
/// payment and its attempts come from the same committed state.
final class PaymentReader {
    let db: Database
    private var statements: [String: Statement] = [:]

    static let paymentColumns = PaymentRowDecoder.paymentColumns

    init(path: String) throws {
        db = try Database(path: path)
        try db.execute("PRAGMA query_only = 1; PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384")
    }

    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let st = statements[sql] { return st.reset() }
        let st = try db.prepare(sql)
        statements[sql] = st
        return st
    }

    private lazy var beginStatement = try? db.prepare("BEGIN")
    private lazy var commitStatement = try? db.prepare("COMMIT")
    /// One payment and its attempts by hash: the `hash` unique index, then the attempts' key.
    static let fetchByHashSQL = """
        SELECT p.id, p.hash, p.payment_index, p.value_msat, p.creation_ns, p.payment_request, p.first_hop_records,
        p.failure_reason, p.last_update_ns, a.attempt_id, a.session_key, a.attempt_ns, a.attempt_hash, a.route,
        a.settle_preimage, a.settle_ns, a.fail_ns, a.failure
        FROM payments p LEFT JOIN htlc_attempts a ON a.payment_id = p.id WHERE p.hash = ? ORDER BY a.attempt_id
        """
    /// One payment's attempts: the attempts' primary key.
    static let attemptsSQL = """
        SELECT \(attemptColumns) FROM htlc_attempts WHERE payment_id = ? ORDER BY attempt_id
        """
    private lazy var fetchStatement = try? db.prepare(Self.fetchByHashSQL)
    private lazy var attemptsStatement = try? db.prepare(Self.attemptsSQL)

    private static func prepared(_ st: Statement?) throws -> Statement {
        guard let st else { throw SQLiteError(code: 1, message: "cannot prepare payments read statement") }
        return st.reset()
    }

    func inReadTransaction<R>(_ body: () throws -> R) throws -> R {
        try Self.prepared(beginStatement).run()
        defer {
            // A statement left on a row would keep this read snapshot alive past COMMIT.
            for st in statements.values { st.reset() }
            fetchStatement?.reset()
            attemptsStatement?.reset()
            _ = try? commitStatement?.reset().run()
        }
        return try body()
    }

    /// Decodes the payment row the statement is positioned on (columns = `paymentColumns`) and
    /// loads its attempts.
    func snapshot(row st: Statement, omitHops: Bool = false) throws -> PaymentSnapshot {
        var s = try header(row: st)
        s.attempts = try attempts(paymentID: st.int64(0), omitHops: omitHops)
        return s
    }

    func header(row st: Statement) throws -> PaymentSnapshot { try PaymentRowDecoder.header(st) }

    static let attemptColumns = PaymentRowDecoder.attemptColumns

    func attempt(row st: Statement, at c: Int32, omitHops: Bool) throws -> HTLCAttempt {
        try PaymentRowDecoder.attempt(st, at: c, omitHops: omitHops)
    }

    func attempts(paymentID: Int64, omitHops: Bool) throws -> [HTLCAttempt] {
        let st = try Self.prepared(attemptsStatement)
        st.bind(1, paymentID)
        var out: [HTLCAttempt] = []
        while try st.step() { out.append(try attempt(row: st, at: 0, omitHops: omitHops)) }
        return out
    }

    /// One payment by hash: a single statement (payment LEFT JOIN attempts), so one implicit
    /// read transaction gives a consistent payment without BEGIN/COMMIT round trips.
    func fetch(_ hash: PaymentHash) throws -> PaymentSnapshot? {
        let st = try Self.prepared(fetchStatement)
        defer { st.reset() }
        st.bind(1, hash.bytes)
        guard try st.step() else { return nil }
        var s = try header(row: st)
        repeat {
            if !st.isNull(9) { s.attempts.append(try attempt(row: st, at: 9, omitHops: false)) }
        } while try st.step()
        return s
    }

    /// Runs a payments query (columns = `paymentColumns`) and loads every row's snapshot.
    func snapshots(_ sql: String, omitHops: Bool = false, bind: (Statement) -> Void) throws -> [PaymentSnapshot] {
        let st = try statement(sql)
        bind(st)
        // Collect the rows first: `snapshot(row:)` reuses the attempts statement only.
        var out: [PaymentSnapshot] = []
        while try st.step() { out.append(try snapshot(row: st, omitHops: omitHops)) }
        return out
    }

    func meta(_ key: String) throws -> Int64 {
        let st = try statement("SELECT value FROM payment_meta WHERE key = ?")
        st.bind(1, key)
        return try st.step() ? st.int64(0) : 0
    }
}
