#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Payments
import SQLite

/// The single writer of the payments database: a thread that drains a queue of changes and
/// commits them in groups (group commit): up to `maxBatch` queued items go into one
/// `BEGIN IMMEDIATE … COMMIT`, then their completions run in order. Under light load a batch is
/// one item (no added latency); under heavy load one fsync covers many changes.
///
/// If a batch fails, it is rolled back and its items are retried one per transaction, so one bad
/// item fails alone. The queue itself is bounded by `PaymentControl`'s admission.
final class PaymentWriter: @unchecked Sendable {
    typealias Completion = @Sendable (PaymentError?, Int) -> Void
    private struct Item {
        var writes: [PaymentWrite]
        var completion: Completion
    }

    private let db: Database
    private let maxBatch: Int
    private let condition = PaymentCondition()
    private var queue: [Item] = []
    private var stopping = false
    private var writerIdle = false
    private var flushWaiters = 0
    private var submitted: UInt64 = 0
    private var completed: UInt64 = 0
    private var thread: pthread_t?
    private var statements: [String: Statement] = [:]
    /// Statements with constant SQL, keyed by the address of their literal (no string hashing).
    private var staticStatements: [UnsafeRawPointer: Statement] = [:]
    /// Batches committed and items written (statistics for benchmarks).
    private(set) var batches: UInt64 = 0

    /// Meta counters as of the last commit (read under `condition.lock`).
    private(set) var maxPaymentIndex: UInt64
    private(set) var maxUpdateNs: Int64
    private var paymentCount: Int64

    init(db: Database, maxBatch: Int, maxPaymentIndex: UInt64, maxUpdateNs: Int64, paymentCount: Int64) {
        self.db = db
        self.maxBatch = maxBatch
        self.maxPaymentIndex = maxPaymentIndex
        self.maxUpdateNs = maxUpdateNs
        self.paymentCount = paymentCount
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { ctx in
            let writer = Unmanaged<PaymentWriter>.fromOpaque(ctx!).takeRetainedValue()
            writer.run()
            return nil
        }, box)
        precondition(rc == 0, "cannot start the payments writer thread")
        condition.lock.withLock { thread = tid }
    }

    var isWriterThread: Bool {
        guard let t = condition.lock.withLock({ thread }) else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    func submit(_ writes: [PaymentWrite], completion: @escaping Completion) {
        condition.lock.lock()
        if stopping {
            condition.lock.unlock()
            completion(.storeClosed, 0)
            return
        }
        queue.append(Item(writes: writes, completion: completion))
        submitted += 1
        if writerIdle { condition.broadcast() }
        condition.lock.unlock()
    }

    /// Waits until everything submitted before the call has completed.
    func flush() {
        condition.lock.lock()
        let target = submitted
        flushWaiters += 1
        while completed < target { condition.wait() }
        flushWaiters -= 1
        condition.lock.unlock()
    }

    var count: Int64 { condition.lock.withLock { paymentCount } }

    /// Stops after draining the queue, and joins the thread.
    func stop() {
        condition.lock.lock()
        stopping = true
        condition.broadcast()
        let t = thread
        condition.lock.unlock()
        if let t, pthread_equal(t, pthread_self()) == 0 { pthread_join(t, nil) }
    }

    private func run() {
        while true {
            condition.lock.lock()
            while queue.isEmpty && !stopping {
                writerIdle = true
                condition.wait()
                writerIdle = false
            }
            if queue.isEmpty && stopping {
                condition.lock.unlock()
                return
            }
            let n = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(n))
            queue.removeFirst(n)
            condition.lock.unlock()

            var results: [(PaymentError?, Int)]
            var meta = (maxPaymentIndex, maxUpdateNs, paymentCount)
            do {
                var deleted: [Int] = []
                try db.transaction {
                    for item in batch { deleted.append(try apply(item.writes, &meta)) }
                    try saveMeta(meta)
                }
                results = deleted.map { (nil, $0) }
            } catch {
                ids.removeAll()   // may hold ids of rolled-back inserts
                // Isolate the failing item(s): retry one per transaction.
                meta = (maxPaymentIndex, maxUpdateNs, paymentCount)
                results = []
                for item in batch {
                    var m = meta
                    do {
                        let d = try db.transaction {
                            let d = try apply(item.writes, &m)
                            try saveMeta(m)
                            return d
                        }
                        meta = m
                        results.append((nil, d))
                    } catch {
                        ids.removeAll()
                        results.append((.storage(String(describing: error)), 0))
                    }
                }
            }
            condition.lock.withLock {
                (maxPaymentIndex, maxUpdateNs, paymentCount) = meta
                batches += 1
            }
            for (item, r) in zip(batch, results) { item.completion(r.0, r.1) }
            condition.lock.lock()
            completed += UInt64(batch.count)
            if flushWaiters > 0 { condition.broadcast() }
            condition.lock.unlock()
        }
    }

    // MARK: Applying changes (writer thread, inside a transaction)

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

    private func saveMeta(_ m: (UInt64, Int64, Int64)) throws {
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
    private func apply(_ writes: [PaymentWrite], _ meta: inout (UInt64, Int64, Int64)) throws -> Int {
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
                let statuses = failedOnly
                    ? "(\(PaymentStatus.failed.rawValue))"
                    : "(\(PaymentStatus.initiated.rawValue), \(PaymentStatus.succeeded.rawValue), \(PaymentStatus.failed.rawValue))"
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

extension PaymentWrite {
    var snapshot: PaymentSnapshot? {
        switch self {
        case .initPayment(let s), .reinitPayment(let s), .registerAttempt(let s, _), .resolveAttempt(let s, _),
             .failPayment(let s), .removeFailedAttempts(let s): return s
        case .deletePayment, .deletePayments: return nil
        }
    }
}
