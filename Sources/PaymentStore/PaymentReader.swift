import Payments
import SQLite

/// One read-only connection with its prepared statements. Used by one thread at a time (the
/// store's reader pool hands it out). Every public read runs in one read transaction, so a
/// payment and its attempts come from the same committed state.
final class PaymentReader {
    let db: Database
    private var statements: [String: Statement] = [:]

    static let paymentColumns =
        "id, hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records, failure_reason, last_update_ns"

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

    /// The payment columns (`paymentColumns`, from column 0) without attempts.
    func header(row st: Statement) throws -> PaymentSnapshot {
        guard let hash = PaymentHash(st.blob(1)) else { throw PaymentCodec.DecodeError(what: "payment hash") }
        let records = try PaymentCodec.decodeRecords(st.blob(6))
        let info = PaymentCreationInfo(paymentIdentifier: hash, valueMsat: st.int64(3), creationTimeNs: st.int64(4),
                                       paymentRequest: st.blob(5), firstHopCustomRecords: records)
        var reason: FailureReason?
        if !st.isNull(7) {
            guard let r = FailureReason(dbValue: UInt8(truncatingIfNeeded: st.int64(7))) else {
                throw PaymentCodec.DecodeError(what: "failure reason")
            }
            reason = r
        }
        return PaymentSnapshot(info: info, paymentIndex: UInt64(bitPattern: st.int64(2)), attempts: [],
                               failureReason: reason, lastUpdateNs: st.int64(8))
    }

    static let attemptColumns = "attempt_id, session_key, attempt_ns, attempt_hash, route, settle_preimage, settle_ns, fail_ns, failure"

    /// Decodes one attempt whose `attemptColumns` start at column `c`.
    func attempt(row st: Statement, at c: Int32, omitHops: Bool) throws -> HTLCAttempt {
        var route = try PaymentCodec.decodeRoute(st.blob(c + 4))
        if omitHops { route = route.withoutHops }
        let attemptHash = st.isNull(c + 3) ? nil : PaymentHash(st.blob(c + 3))
        var a = HTLCAttempt(info: HTLCAttemptInfo(attemptID: UInt64(bitPattern: st.int64(c)), sessionKey: st.blob(c + 1),
                                                  route: route, attemptTimeNs: st.int64(c + 2), hash: attemptHash))
        if !st.isNull(c + 5) {
            guard let pre = PaymentHash(st.blob(c + 5)) else { throw PaymentCodec.DecodeError(what: "preimage") }
            a.settle = HTLCSettle(preimage: pre, settleTimeNs: st.int64(c + 6))
        }
        if !st.isNull(c + 7) {
            a.failure = try PaymentCodec.decodeFailure(st.blob(c + 8), failTimeNs: st.int64(c + 7))
        }
        return a
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
