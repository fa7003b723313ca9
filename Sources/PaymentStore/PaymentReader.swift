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
        try db.execute("PRAGMA query_only = 1")
    }

    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let st = statements[sql] { return st.reset() }
        let st = try db.prepare(sql)
        statements[sql] = st
        return st
    }

    func inReadTransaction<R>(_ body: () throws -> R) throws -> R {
        try statement("BEGIN").run()
        defer {
            // A statement left on a row would keep this read snapshot alive past COMMIT.
            for st in statements.values { st.reset() }
            _ = try? statement("COMMIT").run()
        }
        return try body()
    }

    /// Decodes the payment row the statement is positioned on (columns = `paymentColumns`) and
    /// loads its attempts.
    func snapshot(row st: Statement, omitHops: Bool = false) throws -> PaymentSnapshot {
        let id = st.int64(0)
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
        var s = PaymentSnapshot(info: info, paymentIndex: UInt64(bitPattern: st.int64(2)), attempts: [],
                                failureReason: reason, lastUpdateNs: st.int64(8))
        s.attempts = try attempts(paymentID: id, omitHops: omitHops)
        return s
    }

    func attempts(paymentID: Int64, omitHops: Bool) throws -> [HTLCAttempt] {
        let st = try statement("""
            SELECT attempt_id, session_key, attempt_ns, attempt_hash, route, settle_preimage, settle_ns, fail_ns, failure
            FROM htlc_attempts WHERE payment_id = ? ORDER BY attempt_id
            """)
        st.bind(1, paymentID)
        var out: [HTLCAttempt] = []
        while try st.step() {
            var route = try PaymentCodec.decodeRoute(st.blob(4))
            if omitHops { route = route.withoutHops }
            let attemptHash = st.isNull(3) ? nil : PaymentHash(st.blob(3))
            var a = HTLCAttempt(info: HTLCAttemptInfo(attemptID: UInt64(bitPattern: st.int64(0)), sessionKey: st.blob(1),
                                                      route: route, attemptTimeNs: st.int64(2), hash: attemptHash))
            if !st.isNull(5) {
                guard let pre = PaymentHash(st.blob(5)) else { throw PaymentCodec.DecodeError(what: "preimage") }
                a.settle = HTLCSettle(preimage: pre, settleTimeNs: st.int64(6))
            }
            if !st.isNull(7) {
                a.failure = try PaymentCodec.decodeFailure(st.blob(8), failTimeNs: st.int64(7))
            }
            out.append(a)
        }
        return out
    }

    func fetch(_ hash: PaymentHash) throws -> PaymentSnapshot? {
        try inReadTransaction {
            let st = try statement("SELECT \(Self.paymentColumns) FROM payments WHERE hash = ?")
            st.bind(1, hash.bytes)
            guard try st.step() else { return nil }
            return try snapshot(row: st)
        }
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
