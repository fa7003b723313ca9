import Payments
import PostgreSQL

/// PostgreSQL's side of the payments group commit (`PaymentWriter`): each `PaymentWrite` is one
/// or two parameterized statements, and a whole batch — BEGIN, every change, the counters, the
/// NOTIFY, COMMIT — goes to the server in one libpq pipeline: one round trip per batch, not per
/// change. Rows are found by payment hash in the statement itself (`WITH p AS (UPDATE payments …
/// RETURNING id)`), and a change that finds no row fails in the server (`payments_expect_one`),
/// aborting the transaction before its COMMIT. Deletions, whose counts the caller needs, run at
/// once (after the changes queued before them, in the same transaction).
///
/// A lost session fails the batch; the writer retries its items one per transaction, which
/// reconnects first. (A COMMIT whose answer was lost is the one ambiguous case: its items are
/// retried and fail on the unique hash instead of being applied twice.)
final class PostgresPaymentTransactor: PaymentTransactor {
    private let db: PostgresConnection
    /// LISTEN/NOTIFY channel told of every committed batch (`PostgresPaymentFeed`).
    private let changeChannel: String

    init(db: PostgresConnection, changeChannel: String) {
        self.db = db
        self.changeChannel = changeChannel
    }

    /// Statements of the open transaction not sent yet.
    private var pending: [(sql: String, params: [PostgresValue])] = []

    func inTransaction<R>(_ body: () throws -> R) throws -> R {
        pending = [("BEGIN", [])]
        do {
            let r = try body()
            pending.append(("COMMIT", []))
            try send()
            return r
        } catch {
            pending.removeAll()
            if db.isConnected { try? db.execute("ROLLBACK") }
            throw error
        }
    }

    func rolledBack() { pending.removeAll() }

    private func send() throws {
        guard !pending.isEmpty else { return }
        let steps = pending
        pending.removeAll(keepingCapacity: true)
        _ = try db.pipeline(steps)
    }

    private func queue(_ sql: String, _ params: [PostgresValue]) { pending.append((sql, params)) }

    /// Runs `sql` now (after what is queued), for statements whose row count the caller needs.
    private func now(_ sql: String, _ params: [PostgresValue] = []) throws -> PostgresResult {
        try send()
        return try db.query(sql, params)
    }

    func saveMeta(_ m: PaymentMeta) throws {
        queue("""
            UPDATE payment_meta SET value = CASE key WHEN 'max_payment_index' THEN $1 WHEN 'max_update_ns' THEN $2 ELSE $3 END
            WHERE key IN ('max_payment_index', 'max_update_ns', 'payment_count')
            """, [.int64(Int64(bitPattern: m.maxPaymentIndex)), .int64(m.maxUpdateNs), .int64(m.paymentCount)])
        // Delivered at commit, once per batch (the server folds identical notifications of one
        // transaction): followers then read the change index.
        queue("SELECT pg_notify($1, $2)", [.text(changeChannel), .text("")])
    }

    private struct MissingRow: Error, CustomStringConvertible {
        let what: String
        var description: String { "missing row: \(what)" }
    }

    /// $1 hash, $2 status, $3 failure reason, $4 update stamp: the row's derived columns.
    private func rowParams(_ p: PaymentSnapshot) -> [PostgresValue] {
        [.bytes(p.paymentHash.bytes), .int64(Int64(p.status.rawValue)), .int64(p.failureReason.map { Int64($0.dbValue) }),
         .int64(p.lastUpdateNs)]
    }

    private func infoParams(_ p: PaymentSnapshot) -> [PostgresValue] {
        [.bytes(p.paymentHash.bytes), .int64(Int64(bitPattern: p.paymentIndex)), .int64(p.info.valueMsat),
         .int64(p.info.creationTimeNs), .bytes(p.info.paymentRequest), .bytes(PaymentCodec.encode(p.info.firstHopCustomRecords)),
         .int64(Int64(p.status.rawValue)), .int64(p.lastUpdateNs)]
    }

    func apply(_ writes: [PaymentWrite], _ meta: inout PaymentMeta) throws -> Int {
        var deleted = 0
        for w in writes {
            switch w {
            case .initPayment(let s):
                queue("""
                    INSERT INTO payments (hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records,
                    failure_reason, status, last_update_ns) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)
                    """, infoParams(s))
                meta.paymentCount += 1
                meta.maxPaymentIndex = max(meta.maxPaymentIndex, s.paymentIndex)
            case .reinitPayment(let s):
                queue("""
                    WITH d AS (DELETE FROM htlc_attempts WHERE payment_id = (SELECT id FROM payments WHERE hash = $1)),
                    u AS (UPDATE payments SET payment_index = $2, value_msat = $3, creation_ns = $4, payment_request = $5,
                    first_hop_records = $6, failure_reason = NULL, status = $7, last_update_ns = $8 WHERE hash = $1 RETURNING 1)
                    SELECT payments_expect_one(count(*), $9) FROM u
                    """, infoParams(s) + [.text("payment \(s.paymentHash)")])
                meta.maxPaymentIndex = max(meta.maxPaymentIndex, s.paymentIndex)
            case .registerAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                queue("""
                    WITH p AS (UPDATE payments SET status = $2, failure_reason = $3, last_update_ns = $4 WHERE hash = $1 RETURNING id),
                    i AS (INSERT INTO htlc_attempts (payment_id, attempt_id, session_key, attempt_ns, attempt_hash, route)
                    SELECT id, $5, $6, $7, $8, $9 FROM p RETURNING 1)
                    SELECT payments_expect_one(count(*), $10) FROM i
                    """, rowParams(s) + [.int64(Int64(bitPattern: a.attemptID)), .bytes(a.info.sessionKey), .int64(a.attemptTimeNs),
                                         .bytes(a.info.hash?.bytes), .bytes(PaymentCodec.encode(a.route)),
                                         .text("payment \(s.paymentHash)")])
            case .resolveAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                queue("""
                    WITH p AS (UPDATE payments SET status = $2, failure_reason = $3, last_update_ns = $4 WHERE hash = $1 RETURNING id),
                    u AS (UPDATE htlc_attempts a SET settle_preimage = $6, settle_ns = $7, fail_ns = $8, failure = $9
                    FROM p WHERE a.payment_id = p.id AND a.attempt_id = $5 RETURNING 1)
                    SELECT payments_expect_one(count(*), $10) FROM u
                    """, rowParams(s) + [.int64(Int64(bitPattern: id)), .bytes(a.settle?.preimage.bytes), .int64(a.settle?.settleTimeNs),
                                         .int64(a.failure?.failTimeNs), .bytes(a.failure.map { PaymentCodec.encode($0) }),
                                         .text("attempt \(id) of \(s.paymentHash)")])
            case .failPayment(let s):
                try updateRow(s)
            case .removeFailedAttempts(let s):
                try updateRow(s)
                queue("""
                    DELETE FROM htlc_attempts WHERE fail_ns IS NOT NULL AND payment_id = (SELECT id FROM payments WHERE hash = $1)
                    """, [.bytes(s.paymentHash.bytes)])
            case .deletePayment(let h):
                // The attempts go with it (ON DELETE CASCADE).
                let n = try now("DELETE FROM payments WHERE hash = $1", [.bytes(h.bytes)]).affectedRows
                guard n == 1 else { throw MissingRow(what: "payment \(h)") }
                meta.paymentCount -= Int64(n)
                deleted += n
            case .deletePayments(let failedOnly, let failedHtlcsOnly, let stamp):
                // The status sets are the store's own constants (PaymentStatus raw values), not input.
                let statuses = PaymentStatus.deletableSQL(failedOnly: failedOnly)
                if failedHtlcsOnly {
                    _ = try now("""
                        UPDATE payments SET last_update_ns = $1 WHERE status IN \(statuses)
                        AND id IN (SELECT payment_id FROM htlc_attempts WHERE fail_ns IS NOT NULL)
                        """, [.int64(stamp)])
                    _ = try now("""
                        DELETE FROM htlc_attempts WHERE fail_ns IS NOT NULL
                        AND payment_id IN (SELECT id FROM payments WHERE status IN \(statuses))
                        """)
                } else {
                    let n = try now("DELETE FROM payments WHERE status IN \(statuses)").affectedRows
                    meta.paymentCount -= Int64(n)
                    deleted += n
                }
                meta.maxUpdateNs = max(meta.maxUpdateNs, stamp)
            }
            if case let .some(s) = w.snapshot { meta.maxUpdateNs = max(meta.maxUpdateNs, s.lastUpdateNs) }
        }
        return deleted
    }

    /// Rewrites the derived status index key, failure reason and update stamp of a payment row.
    private func updateRow(_ p: PaymentSnapshot) throws {
        queue("""
            WITH u AS (UPDATE payments SET status = $2, failure_reason = $3, last_update_ns = $4 WHERE hash = $1 RETURNING 1)
            SELECT payments_expect_one(count(*), $5) FROM u
            """, rowParams(p) + [.text("payment \(p.paymentHash)")])
    }
}
