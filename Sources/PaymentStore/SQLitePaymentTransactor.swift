import Payments
import SQLite

/// SQLite's side of the payments group commit (`PaymentWriter`): the statements that apply each
/// `PaymentWrite` inside `BEGIN IMMEDIATE … COMMIT`, prepared once and reused.
final class SQLitePaymentTransactor: PaymentTransactor {
    private let db: Database
    private var statements: [String: Statement] = [:]
    /// Statements with constant SQL, keyed by the address of their literal (no string hashing).
    private var staticStatements: [UnsafeRawPointer: Statement] = [:]

    init(db: Database) { self.db = db }

    func inTransaction<R>(_ body: () throws -> R) throws -> R { try db.transaction(body) }

    func rolledBack() { ids.removeAll() }

    private func st(_ sql: StaticString) throws(SQLiteError) -> Statement {
        let key = UnsafeRawPointer(sql.utf8Start)
        if let s = staticStatements[key] { return s.reset() }
        let s = try db.prepare(sql.description)
        staticStatements[key] = s
        return s
    }

    private func st(dynamic sql: String) throws(SQLiteError) -> Statement {
        if let s = statements[sql] { return s.reset() }
        let s = try db.prepare(sql)
        statements[sql] = s
        return s
    }

    func saveMeta(_ m: PaymentMeta) throws {
        let s = try st("INSERT OR REPLACE INTO payment_meta (key, value) VALUES ('max_payment_index', ?1), ('max_update_ns', ?2), ('payment_count', ?3)")
        s.bind(1, Int64(bitPattern: m.0))
        s.bind(2, m.1)
        s.bind(3, m.2)
        try s.run()
    }

    private struct MissingRow: Error, CustomStringConvertible {
        let what: String
        var description: String { "missing row: \(what)" }
    }

    /// Applies one item's writes; returns the number of payments deleted.
    func apply(_ writes: [PaymentWrite], _ meta: inout PaymentMeta) throws -> Int {
        var deleted = 0
        for w in writes {
            switch w {
            case .initPayment(let s):
                let ins = try st("""
                    INSERT INTO payments (hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records,
                    failure_reason, status, last_update_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)
                    """)
                ins.bind(1, s.paymentHash.bytes)
                bindInfo(ins, s)
                try ins.run()
                rememberID(s.paymentHash, db.lastInsertRowID)
                meta.2 += 1
                meta.0 = max(meta.0, s.paymentIndex)
            case .reinitPayment(let s):
                let id = try rowID(s.paymentHash)
                let del = try st("DELETE FROM htlc_attempts WHERE payment_id = ?")
                del.bind(1, id)
                try del.run()
                let up = try st("""
                    UPDATE payments SET payment_index = ?2, value_msat = ?3, creation_ns = ?4, payment_request = ?5,
                    first_hop_records = ?6, failure_reason = NULL, status = ?7, last_update_ns = ?8 WHERE id = ?1
                    """)
                up.bind(1, id)
                bindInfo(up, s)
                try up.run()
                meta.0 = max(meta.0, s.paymentIndex)
            case .registerAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                let ins = try st("""
                    INSERT INTO htlc_attempts (payment_id, attempt_id, session_key, attempt_ns, attempt_hash, route)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    """)
                ins.bind(1, try rowID(s.paymentHash))
                ins.bind(2, Int64(bitPattern: a.attemptID))
                ins.bind(3, a.info.sessionKey)
                ins.bind(4, a.attemptTimeNs)
                ins.bind(5, a.info.hash?.bytes)
                ins.bind(6, PaymentCodec.encode(a.route))
                try ins.run()
                try updateRow(s)
            case .resolveAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                let up = try st("""
                    UPDATE htlc_attempts SET settle_preimage = ?3, settle_ns = ?4, fail_ns = ?5, failure = ?6
                    WHERE payment_id = ?1 AND attempt_id = ?2
                    """)
                up.bind(1, try rowID(s.paymentHash))
                up.bind(2, Int64(bitPattern: id))
                up.bind(3, a.settle?.preimage.bytes)
                if let t = a.settle?.settleTimeNs { up.bind(4, t) } else { up.bindNull(4) }
                if let f = a.failure {
                    up.bind(5, f.failTimeNs)
                    up.bind(6, PaymentCodec.encode(f))
                } else {
                    up.bindNull(5)
                    up.bindNull(6)
                }
                try up.run()
                guard db.changes == 1 else { throw MissingRow(what: "attempt \(id) of \(s.paymentHash)") }
                try updateRow(s)
            case .failPayment(let s):
                try updateRow(s)
            case .removeFailedAttempts(let s):
                let del = try st("DELETE FROM htlc_attempts WHERE payment_id = ?1 AND fail_ns IS NOT NULL")
                del.bind(1, try rowID(s.paymentHash))
                try del.run()
                try updateRow(s)
            case .deletePayment(let h):
                let id = try rowID(h)
                let del = try st("DELETE FROM htlc_attempts WHERE payment_id = ?1")
                del.bind(1, id)
                try del.run()
                let delP = try st("DELETE FROM payments WHERE id = ?1")
                delP.bind(1, id)
                try delP.run()
                ids[h] = nil
                let n = db.changes
                meta.2 -= Int64(n)
                deleted += n
            case .deletePayments(let failedOnly, let failedHtlcsOnly, let stamp):
                let statuses = PaymentStatus.deletableSQL(failedOnly: failedOnly)
                if failedHtlcsOnly {
                    let up = try st(dynamic: """
                        UPDATE payments SET last_update_ns = ?1 WHERE status IN \(statuses)
                        AND id IN (SELECT payment_id FROM htlc_attempts WHERE fail_ns IS NOT NULL)
                        """)
                    up.bind(1, stamp)
                    try up.run()
                    try st(dynamic: """
                        DELETE FROM htlc_attempts WHERE fail_ns IS NOT NULL
                        AND payment_id IN (SELECT id FROM payments WHERE status IN \(statuses))
                        """).run()
                } else {
                    ids.removeAll()
                    try st(dynamic: "DELETE FROM htlc_attempts WHERE payment_id IN (SELECT id FROM payments WHERE status IN \(statuses))").run()
                    try st(dynamic: "DELETE FROM payments WHERE status IN \(statuses)").run()
                    let n = db.changes
                    meta.2 -= Int64(n)
                    deleted += n
                }
                meta.1 = max(meta.1, stamp)
            }
            if case let .some(s) = w.snapshot { meta.1 = max(meta.1, s.lastUpdateNs) }
        }
        return deleted
    }

    // MARK: Row ids (hash → payments.id), cached to skip the hash index on every change

    private var ids: [PaymentHash: Int64] = [:]

    private func rememberID(_ h: PaymentHash, _ id: Int64) {
        if ids.count >= 65_536 { ids.removeAll(keepingCapacity: true) }
        ids[h] = id
    }

    private func rowID(_ h: PaymentHash) throws -> Int64 {
        if let id = ids[h] { return id }
        let find = try st("SELECT id FROM payments WHERE hash = ?")
        find.bind(1, h.bytes)
        let id: Int64? = try find.step() ? find.int64(0) : nil
        find.reset()
        guard let id else { throw MissingRow(what: "payment \(h)") }
        rememberID(h, id)
        return id
    }

    private func bindInfo(_ s: Statement, _ p: PaymentSnapshot) {
        s.bind(2, Int64(bitPattern: p.paymentIndex))
        s.bind(3, p.info.valueMsat)
        s.bind(4, p.info.creationTimeNs)
        s.bind(5, p.info.paymentRequest)
        s.bind(6, PaymentCodec.encode(p.info.firstHopCustomRecords))
        s.bind(7, Int64(p.status.rawValue))
        s.bind(8, p.lastUpdateNs)
    }

    /// Rewrites the derived status index key, failure reason and update stamp of a payment row.
    private func updateRow(_ p: PaymentSnapshot) throws {
        let up = try st("UPDATE payments SET status = ?2, failure_reason = ?3, last_update_ns = ?4 WHERE id = ?1")
        up.bind(1, try rowID(p.paymentHash))
        up.bind(2, Int64(p.status.rawValue))
        if let r = p.failureReason { up.bind(3, Int64(r.dbValue)) } else { up.bindNull(3) }
        up.bind(4, p.lastUpdateNs)
        try up.run()
        guard db.changes == 1 else { throw MissingRow(what: "payment \(p.paymentHash)") }
    }
}

