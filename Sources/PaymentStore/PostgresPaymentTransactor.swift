import Dispatch
import Locks
import Payments
import PostgreSQL

/// PostgreSQL's side of the payments group commit (`PaymentWriter`): a whole batch — BEGIN, every
/// change, the counters, the NOTIFY, COMMIT — goes to the server in one libpq pipeline: one round
/// trip per batch, not per change. The frequent changes (new payments, new attempts, resolved
/// attempts, status updates) are not one statement each: the batch's changes of one kind become
/// one multi-row statement over `unnest` of array parameters, so the server parses, plans and
/// starts one statement per kind per batch. Changes of different payments commute, so a run of
/// changes with distinct payment hashes is grouped by kind; a change of a payment already in the
/// run (or a rare change sent as its own statement: reinit, pruning, deletion) first flushes the
/// run, keeping each payment's changes in order. Rows are found by payment hash in the statement
/// itself, each statement stamps `change_xid` with its transaction id (`txid_current()`, the
/// change index replicas follow), and a statement that finds fewer rows than it was given fails
/// in the server (`payments_expect_count`), aborting the transaction before its COMMIT (the
/// writer then retries the batch's items one per transaction, naming the one that fails).
/// Deletions, whose counts the caller needs, run at once (after the changes queued before them,
/// in the same transaction).
///
/// Two sessions (`partner`): a batch whose first run holds at least `splitMinimum` changes runs as
/// two transactions at once, one per session, each with the payments of one half of the hashes, and
/// both commit only when both ran cleanly (`commitSplit`). Before any transaction, the batch's
/// new hashes are looked up in one statement (`refusedInits`), so the init of a stored hash fails
/// alone instead of failing its batch.
///
/// A lost session fails the batch; the writer retries its items one per transaction, which
/// reconnects first. (A COMMIT whose answer was lost is the one ambiguous case: its items are
/// retried and fail on the unique hash instead of being applied twice.)
///
/// Replicas (`lease` set): lifecycle changes — init, re-init, attempt registered, settled or
/// failed, payment failed — carry this process's fencing token and apply only to a payment it owns
/// while its lease is writable by the server's clock (`PostgresPaymentLeaseSchema`); without a
/// token they are refused here (`PaymentError.leaseNotHeld`) without a round trip. A multi-row
/// statement that finds fewer rows than it was given fails the batch, and the writer's
/// one-per-transaction retry then runs each change as a single-row statement whose check
/// (`payments_expect_owned`, `payments_expect_created`) says exactly why: lease not held, or
/// LND's refusal for the status of a payment another replica created meanwhile. The counters are
/// updated relative to the stored values (`payment_count + delta`, `GREATEST` for the high-water
/// marks), so several writers never overwrite each other's.
final class PostgresPaymentTransactor: PaymentTransactor {
    private let db: PostgresConnection
    /// The second session of a split batch (`partnerQueue` drives it); nil: every batch is one
    /// transaction on `db`.
    private let partner: PostgresConnection?
    private let partnerQueue = DispatchQueue(label: "paytrack.payments.writer-partner")
    /// LISTEN/NOTIFY channel told of every committed batch (`PostgresPaymentFeed`).
    private let changeChannel: String
    /// This process's lease (replicas); nil: no fencing (one writer, tests, benchmarks).
    private let lease: PaymentLeaseGate?
    /// Payments added minus deleted by the open transaction.
    private var countDelta: Int64 = 0

    /// A run of at least this many changes is split between the two sessions.
    static let splitMinimum = 128

    init(db: PostgresConnection, partner: PostgresConnection? = nil, changeChannel: String, lease: PaymentLeaseGate? = nil) {
        self.db = db
        self.partner = partner
        self.changeChannel = changeChannel
        self.lease = lease
    }

    /// The token lifecycle changes carry: NULL without leases, else the lease's (or a refusal).
    private func fenceToken() throws(PaymentError) -> PostgresValue {
        guard let lease else { return .null }
        guard let token = lease.token() else { throw .leaseNotHeld }
        return .int64(token)
    }

    /// The condition a fenced UPDATE of `payments` joined to the batch `t` adds, its token being
    /// parameter `$n` and `t.token` (`batch`). The owner test names the batch's column, not the
    /// parameter: as a condition on `payments` alone its selectivity is a guess (a few rows), and
    /// with sequential scans off the planner then walked a whole index of `payments` outside the
    /// nested loop, probing the batch per row — O(table × batch) per statement (Benchmarks/pg/
    /// RESULTS.md, session 7). As a join condition it leaves the batch outside and one index probe
    /// per batch row by hash.
    private static func fence(_ n: Int) -> String {
        "payments.lease_token IS NOT DISTINCT FROM t.token AND ($\(n)::int8 IS NULL OR payment_lease_writable($\(n)::int8))"
    }

    /// The batch CTE `t`: the rows of `unnest(arrays)` named `columns`, and the writer's token
    /// (`$tokenParameter`) as column `token`. MATERIALIZED, so the token stays a column of the
    /// batch (inlined, it would become a constant condition on `payments` again).
    private static func batch(_ arrays: String, _ columns: String, tokenParameter n: Int) -> String {
        "WITH t AS MATERIALIZED (SELECT *, $\(n)::int8 AS token FROM unnest(\(arrays)) AS t(\(columns)))"
    }

    /// The engine's error for a change the server refused on purpose (`PostgresPaymentLeaseSchema`).
    static func paymentError(_ e: PostgresError) -> PaymentError? {
        switch e.sqlState {
        case PostgresPaymentLeaseSchema.leaseNotHeldState:
            return .leaseNotHeld
        case PostgresPaymentLeaseSchema.paymentExistsState:
            // Another writer created the hash first: LND's InitPayment refusal for its status.
            return initRefusal(e.message.split(separator: " ").last.flatMap { UInt8($0) }.flatMap(PaymentStatus.init(rawValue:)))
        default:
            return nil
        }
    }

    /// LND's InitPayment refusal for a hash stored with `status`. (A Failed payment may be
    /// started again, but only by a re-init built from its stored state: `PaymentControl` reads
    /// it and retries on this refusal.)
    private static func initRefusal(_ status: PaymentStatus?) -> PaymentError {
        switch status {
        case .inFlight: return .inTransition
        case .succeeded: return .alreadyPaid
        default: return .alreadyExists
        }
    }

    /// The batch's inits of hashes the database already holds, found in one statement. An init
    /// that follows a deletion of its hash in the same batch (or a bulk deletion) is not looked
    /// up: the row it replaces is gone by the time it runs.
    func refusedInits(_ items: [[PaymentWrite]]) throws -> [Int: PaymentError] {
        var item: [PaymentHash: Int] = [:]
        var deleted: Set<PaymentHash> = []
        var bulkDeleted = false
        for (i, writes) in items.enumerated() {
            for w in writes {
                switch w {
                case .initPayment(let s) where !bulkDeleted && !deleted.contains(s.paymentHash): item[s.paymentHash] = i
                case .deletePayment(let h): deleted.insert(h)
                case .deletePayments: bulkDeleted = true
                default: break
                }
            }
        }
        guard !item.isEmpty else { return [:] }
        let r = try db.query("SELECT hash, status FROM payments WHERE hash = ANY($1::bytea[])", [.bytesArray(item.keys.map(\.bytes))])
        var refused: [Int: PaymentError] = [:]
        for row in 0..<r.count {
            guard let hash = PaymentHash(try r.bytes(row, 0)), let i = item[hash] else { continue }
            refused[i] = Self.initRefusal(PaymentStatus(rawValue: UInt8(clamping: try r.int64(row, 1))))
        }
        return refused
    }

    private typealias Statement = (sql: String, params: [PostgresValue])
    /// Statements of the open transaction not sent yet.
    private var pending: [Statement] = []
    /// The partner session's share of a split batch, sent at commit.
    private var partnerPending: [Statement] = []
    /// Whether the open transaction is split, decided by its first run (`splitMinimum`) and kept
    /// for every later run: a payment's changes must all go to one session, or one session
    /// would wait for a row the other holds until its commit, which waits for both (a deadlock
    /// the server cannot see). nil: not decided yet.
    private var splitting: Bool?
    /// The open transaction ran or queued a change that is not one of the frequent kinds: no
    /// more splitting (its order against every payment matters).
    private var serialized = false
    /// The partner session holds an open transaction.
    private var partnerOpen = false
    /// The payments the open transaction changed, each in its latest state, in order of first
    /// change (the NOTIFY's `PaymentChangeNotice`); nil once it deleted any or changed too many.
    private var noticed: (order: [PaymentHash], latest: [PaymentHash: PaymentSnapshot])? = ([], [:])
    /// Most payments whose snapshots a NOTIFY carries (more rarely fit its 8000 bytes).
    static let noticeMaximum = 8

    func inTransaction<R>(_ body: () throws -> R) throws -> R {
        pending = [("BEGIN", [])]
        partnerPending = []
        splitting = nil
        serialized = false
        noticed = ([], [:])
        run = PaymentRun()
        countDelta = 0
        do {
            let r = try body()
            try flushRun()
            if partnerPending.isEmpty {
                pending.append(("COMMIT", []))
                try send()
            } else {
                try commitSplit()
            }
            return r
        } catch {
            pending.removeAll()
            partnerPending.removeAll()
            if db.isConnected { try? db.execute("ROLLBACK") }
            if partnerOpen, let partner, partner.isConnected { try? partner.execute("ROLLBACK") }
            partnerOpen = false
            if let e = error as? PostgresError, let refused = Self.paymentError(e) { throw refused }
            throw error
        }
    }

    func rolledBack() {
        pending.removeAll()
        partnerPending.removeAll()
        run = PaymentRun()
    }

    /// A split batch: each session runs its share as a transaction of its own, both at once (two
    /// server processes, so the two cores share the work), and only when both shares ran without
    /// error do both commit, again at once; else both roll back (the caller's `catch`). The
    /// shares hold different payments, and only `db`'s share updates `payment_meta`, so neither
    /// waits for a row the other holds. Each share notifies the feed with its own transaction id.
    /// The one case that commits part of a batch is a COMMIT that fails on one session after the
    /// other's succeeded (a session lost at that instant): as with a COMMIT whose answer was lost,
    /// the writer's one-per-transaction retry then reports the committed changes as failed.
    private func commitSplit() throws {
        guard let partner else { return }
        let mine = pending
        let theirs = [("BEGIN", [])] + partnerPending + [notifyStatement(suffix: "")]
        pending.removeAll(keepingCapacity: true)
        partnerPending.removeAll()
        partnerOpen = true
        try both({ _ = try self.db.pipeline(mine) }, { _ = try partner.pipeline(theirs) })
        try both({ try self.db.execute("COMMIT") }, { try partner.execute("COMMIT") })
        partnerOpen = false
    }

    /// Runs `mine` on this thread and `theirs` on `partnerQueue` at once; throws the first error
    /// (this session's first) after both returned.
    private func both(_ mine: () throws -> Void, _ theirs: @escaping @Sendable () throws -> Void) throws {
        let done = Latch<Error?>()
        partnerQueue.async {
            do { try theirs(); done.fulfil(nil) } catch { done.fulfil(error) }
        }
        var failure: Error?
        do { try mine() } catch { failure = error }
        if let theirs = done.wait(), failure == nil { failure = theirs }
        if let failure { throw failure }
    }

    /// Ends splitting for the open transaction: the partner's share so far joins this session's
    /// (after what this session queued: the shares hold different payments, so only their order
    /// against what follows matters).
    private func serialize() throws {
        try flushRun()
        serialized = true
        pending += partnerPending
        partnerPending.removeAll()
    }

    private func send() throws {
        guard !pending.isEmpty else { return }
        let steps = pending
        pending.removeAll(keepingCapacity: true)
        _ = try db.pipeline(steps)
    }

    private func queue(_ sql: String, _ params: [PostgresValue]) { pending.append((sql, params)) }

    /// Runs `sql` now (after what is queued), for statements whose row count the caller needs.
    private func now(_ sql: String, _ params: [PostgresValue] = []) throws -> PostgresResult {
        try serialize()
        try send()
        return try db.query(sql, params)
    }

    func saveMeta(_ m: PaymentMeta) throws {
        try flushRun()
        // Relative to the stored values: other writers (replicas) change them too.
        queue("""
            UPDATE payment_meta SET value = CASE key WHEN 'max_payment_index' THEN GREATEST(value, $1)
            WHEN 'max_update_ns' THEN GREATEST(value, $2) ELSE value + $3 END
            WHERE key IN ('max_payment_index', 'max_update_ns', 'payment_count')
            """, [.int64(Int64(bitPattern: m.maxPaymentIndex)), .int64(m.maxUpdateNs), .int64(countDelta)])
        // Delivered at commit, once per batch (the server folds identical notifications of one
        // transaction): followers then read the change index. The payload is the transaction's id,
        // so a follower knows when its read has not yet reached it (`PostgresPaymentFeed`); after
        // it, the changed payments themselves when few (`PaymentChangeNotice`; a split batch is
        // never few).
        let changed = splitting == true ? nil : noticed.map { n in n.order.compactMap { n.latest[$0] } }
        pending.append(notifyStatement(suffix: changed.map(PaymentChangeNotice.suffix) ?? ""))
    }

    private func notifyStatement(suffix: String) -> Statement {
        ("SELECT pg_notify($1, txid_current()::text || $2)", [.text(changeChannel), .text(suffix)])
    }

    /// Records `w`'s payment state for the NOTIFY (`noticed`).
    private func notice(_ w: PaymentWrite) {
        guard var n = noticed else { return }
        guard let s = w.snapshot else { return noticed = nil }
        if n.latest.updateValue(s, forKey: s.paymentHash) == nil { n.order.append(s.paymentHash) }
        noticed = n.order.count > Self.noticeMaximum ? nil : n
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

    private static func infoParams(_ p: PaymentSnapshot) -> [PostgresValue] {
        [.bytes(p.paymentHash.bytes), .int64(Int64(bitPattern: p.paymentIndex)), .int64(p.info.valueMsat),
         .int64(p.info.creationTimeNs), .bytes(p.info.paymentRequest), .bytes(PaymentCodec.encode(p.info.firstHopCustomRecords)),
         .int64(Int64(p.status.rawValue)), .int64(p.lastUpdateNs)]
    }

    func apply(_ writes: [PaymentWrite], _ meta: inout PaymentMeta) throws -> Int {
        var deleted = 0
        for w in writes {
            notice(w)
            switch w {
            case .initPayment(let s):
                try admit(s.paymentHash)
                run.inits.append(s)
                meta.paymentCount += 1
                countDelta += 1
                meta.maxPaymentIndex = max(meta.maxPaymentIndex, s.paymentIndex)
            case .reinitPayment(let s):
                try serialize()
                queue("""
                    WITH d AS (DELETE FROM htlc_attempts WHERE payment_id = (SELECT id FROM payments WHERE hash = $1)),
                    u AS (UPDATE payments SET payment_index = $2, value_msat = $3, creation_ns = $4, payment_request = $5,
                    first_hop_records = $6, failure_reason = NULL, status = $7, last_update_ns = $8, lease_token = $9::int8,
                    change_xid = txid_current()
                    WHERE hash = $1 AND status = \(PaymentStatus.failed.rawValue) AND ($9::int8 IS NULL OR payment_lease_writable($9::int8))
                    RETURNING 1)
                    SELECT payments_expect_created(count(*), $1, $9::int8) FROM u
                    """, Self.infoParams(s) + [try fenceToken()])
                meta.maxPaymentIndex = max(meta.maxPaymentIndex, s.paymentIndex)
            case .registerAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                try admit(s.paymentHash)
                run.registered.append((s, a))
            case .resolveAttempt(let s, let id):
                guard let a = s.attempts.first(where: { $0.attemptID == id }) else { throw MissingRow(what: "attempt \(id)") }
                try admit(s.paymentHash)
                run.resolved.append((s, a))
            case .failPayment(let s):
                try admit(s.paymentHash)
                run.updated.append(s)
            case .removeFailedAttempts(let s):
                try serialize()
                try updateRow(s)
                queue("""
                    DELETE FROM htlc_attempts WHERE fail_ns IS NOT NULL AND payment_id = (SELECT id FROM payments WHERE hash = $1)
                    """, [.bytes(s.paymentHash.bytes)])
            case .deletePayment(let h):
                // The attempts go with it (ON DELETE CASCADE).
                let n = try now("DELETE FROM payments WHERE hash = $1", [.bytes(h.bytes)]).affectedRows
                guard n == 1 else { throw MissingRow(what: "payment \(h)") }
                meta.paymentCount -= Int64(n)
                countDelta -= Int64(n)
                deleted += n
            case .deletePayments(let failedOnly, let failedHtlcsOnly, let stamp):
                // The status sets are the store's own constants (PaymentStatus raw values), not input.
                let statuses = PaymentStatus.deletableSQL(failedOnly: failedOnly)
                if failedHtlcsOnly {
                    _ = try now("""
                        UPDATE payments SET last_update_ns = $1, change_xid = txid_current() WHERE status IN \(statuses)
                        AND id IN (SELECT payment_id FROM htlc_attempts WHERE fail_ns IS NOT NULL)
                        """, [.int64(stamp)])
                    _ = try now("""
                        DELETE FROM htlc_attempts WHERE fail_ns IS NOT NULL
                        AND payment_id IN (SELECT id FROM payments WHERE status IN \(statuses))
                        """)
                } else {
                    let n = try now("DELETE FROM payments WHERE status IN \(statuses)").affectedRows
                    meta.paymentCount -= Int64(n)
                    countDelta -= Int64(n)
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
            WITH u AS (UPDATE payments SET status = $2, failure_reason = $3, last_update_ns = $4, change_xid = txid_current()
            WHERE hash = $1 RETURNING 1)
            SELECT payments_expect_one(count(*), $5) FROM u
            """, rowParams(p) + [.text("payment \(p.paymentHash)")])
    }

    // MARK: Multi-row statements

    /// The frequent changes of the open run, by kind; every payment at most once.
    private struct PaymentRun {
        var hashes: Set<PaymentHash> = []
        var inits: [PaymentSnapshot] = []
        var registered: [(PaymentSnapshot, HTLCAttempt)] = []
        var resolved: [(PaymentSnapshot, HTLCAttempt)] = []
        var updated: [PaymentSnapshot] = []

        var count: Int { inits.count + registered.count + resolved.count + updated.count }
        var isEmpty: Bool { count == 0 }

        /// The changes of payments `mine` accepts, and the others (`hashes` is not carried: the
        /// halves are only queued).
        func split(_ mine: (PaymentHash) -> Bool) -> (PaymentRun, PaymentRun) {
            var a = PaymentRun(), b = PaymentRun()
            for s in inits { if mine(s.paymentHash) { a.inits.append(s) } else { b.inits.append(s) } }
            for c in registered { if mine(c.0.paymentHash) { a.registered.append(c) } else { b.registered.append(c) } }
            for c in resolved { if mine(c.0.paymentHash) { a.resolved.append(c) } else { b.resolved.append(c) } }
            for s in updated { if mine(s.paymentHash) { a.updated.append(s) } else { b.updated.append(s) } }
            return (a, b)
        }
    }
    private var run = PaymentRun()

    /// Makes room in the run for a change of `hash`: a second change of one payment starts a new run.
    private func admit(_ hash: PaymentHash) throws {
        if !run.hashes.insert(hash).inserted {
            try flushRun()
            run.hashes.insert(hash)
        }
    }

    /// What a multi-row statement names when it finds fewer rows than it was given: the payment
    /// (and attempt) when it carried one change (the writer's one-per-transaction retry), else the count.
    private static func what(_ n: Int, _ one: () -> String) -> PostgresValue { .text(n == 1 ? one() : "\(n) payments of a batch") }

    /// $1 hashes, $2 statuses, $3 failure reasons, $4 update stamps: the rows' derived columns.
    private static func rowArrays(_ ps: [PaymentSnapshot]) -> [PostgresValue] {
        [.bytesArray(ps.map { $0.paymentHash.bytes }), .int64Array(ps.map { Int64($0.status.rawValue) }),
         .int64Array(ps.map { p in p.failureReason.map { Int64($0.dbValue) } }), .int64Array(ps.map(\.lastUpdateNs))]
    }

    /// Queues the run's changes: one statement per kind (in the pipeline, before what follows), a
    /// multi-row statement for several changes, the single-row statement (with its exact refusal)
    /// for one.
    private func flushRun() throws {
        let r = run
        run = PaymentRun()
        guard !r.isEmpty else { return }
        let token = try fenceToken()
        if splitting == nil {
            splitting = partner != nil && !serialized && r.count >= Self.splitMinimum
            if splitting == true {
                // A safety net: the halves never wait for each other's rows, but if they did, the
                // group would fail (and be retried one change per transaction) instead of hanging.
                pending.append(Self.lockTimeout)
                partnerPending.append(Self.lockTimeout)
            }
        }
        if splitting == true && !serialized {
            // Payments whose hash ends in an odd byte go to the partner; a payment's changes stay
            // on one session, in order.
            let (mine, theirs) = r.split { $0.bytes[31] & 1 == 0 }
            Self.queue(mine, token, into: &pending)
            Self.queue(theirs, token, into: &partnerPending)
        } else {
            Self.queue(r, token, into: &pending)
        }
    }

    private static let lockTimeout: Statement = ("SET LOCAL lock_timeout = '10s'", [])

    private static func queue(_ r: PaymentRun, _ token: PostgresValue, into statements: inout [Statement]) {
        guard !r.isEmpty else { return }
        func queue(_ sql: String, _ params: [PostgresValue]) { statements.append((sql, params)) }
        if r.inits.count == 1, let s = r.inits.first {
            queue("""
                WITH i AS (INSERT INTO payments (hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records,
                failure_reason, status, last_update_ns, lease_token, change_xid) SELECT $1, $2, $3, $4, $5, $6, NULL, $7, $8, $9::int8,
                txid_current() WHERE $9::int8 IS NULL OR payment_lease_writable($9::int8) ON CONFLICT (hash) DO NOTHING RETURNING 1)
                SELECT payments_expect_created(count(*), $1, $9::int8) FROM i
                """, infoParams(s) + [token])
        } else if !r.inits.isEmpty {
            let ps = r.inits
            queue(Self.insertPaymentsSQL, [
                .bytesArray(ps.map { $0.paymentHash.bytes }), .int64Array(ps.map { Int64(bitPattern: $0.paymentIndex) }),
                .int64Array(ps.map(\.info.valueMsat)), .int64Array(ps.map(\.info.creationTimeNs)),
                .bytesArray(ps.map(\.info.paymentRequest)), .bytesArray(ps.map { PaymentCodec.encode($0.info.firstHopCustomRecords) }),
                .int64Array(ps.map { Int64($0.status.rawValue) }), .int64Array(ps.map(\.lastUpdateNs)),
                token, .int64(Int64(ps.count)), .text("\(ps.count) payments of a batch"),
            ])
        }
        if !r.registered.isEmpty {
            let ps = r.registered.map(\.0), atts = r.registered.map(\.1)
            queue(ps.count == 1 ? Self.registerAttemptSQL : Self.registerAttemptsSQL, Self.rowArrays(ps) + [
                .int64Array(atts.map { Int64(bitPattern: $0.attemptID) }), .bytesArray(atts.map(\.info.sessionKey)),
                .int64Array(atts.map(\.attemptTimeNs)), .bytesArray(atts.map { $0.info.hash?.bytes }),
                .bytesArray(atts.map { PaymentCodec.encode($0.route) }),
                .int64(Int64(ps.count)), Self.what(ps.count) { "payment \(ps[0].paymentHash)" }, token,
            ])
        }
        if !r.resolved.isEmpty {
            let ps = r.resolved.map(\.0), atts = r.resolved.map(\.1)
            queue(ps.count == 1 ? Self.resolveAttemptSQL : Self.resolveAttemptsSQL, Self.rowArrays(ps) + [
                .int64Array(atts.map { Int64(bitPattern: $0.attemptID) }), .bytesArray(atts.map { $0.settle?.preimage.bytes }),
                .int64Array(atts.map { $0.settle?.settleTimeNs }), .int64Array(atts.map { $0.failure?.failTimeNs }),
                .bytesArray(atts.map { $0.failure.map { PaymentCodec.encode($0) } }),
                .int64(Int64(ps.count)), Self.what(ps.count) { "attempt \(atts[0].attemptID) of \(ps[0].paymentHash)" }, token,
            ])
        }
        if !r.updated.isEmpty {
            let ps = r.updated
            queue(ps.count == 1 ? Self.updatePaymentSQL : Self.updatePaymentsSQL, Self.rowArrays(ps) + [
                .int64(Int64(ps.count)), Self.what(ps.count) { "payment \(ps[0].paymentHash)" }, token,
            ])
        }
    }

    static let insertPaymentsSQL = """
        WITH n AS (INSERT INTO payments (hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records,
        failure_reason, status, last_update_ns, lease_token, change_xid)
        SELECT h, i, v, c, r, f, NULL, s, u, $9::int8, txid_current()
        FROM unnest($1::bytea[], $2::int8[], $3::int8[], $4::int8[], $5::bytea[], $6::bytea[], $7::int8[], $8::int8[])
        AS t(h, i, v, c, r, f, s, u)
        WHERE $9::int8 IS NULL OR payment_lease_writable($9::int8)
        ON CONFLICT (hash) DO NOTHING RETURNING 1)
        SELECT payments_expect_count(count(*), $10, $11) FROM n
        """

    /// The rows' derived columns from `rowArrays` ($1...$4), as `t(hash, status, reason, stamp, …)`.
    private static let rowUnnest = "$1::bytea[], $2::int8[], $3::int8[], $4::int8[]"
    private static let rowUpdate = """
        UPDATE payments SET status = t.status, failure_reason = t.reason, last_update_ns = t.stamp, change_xid = txid_current()
        FROM t WHERE payments.hash = t.hash AND \(fence(12))
        """

    static let registerAttemptsSQL = """
        \(batch("\(rowUnnest), $5::int8[], $6::bytea[], $7::int8[], $8::bytea[], $9::bytea[]",
                 "hash, status, reason, stamp, attempt_id, session_key, attempt_ns, attempt_hash, route", tokenParameter: 12)),
        p AS (\(rowUpdate) RETURNING payments.id, t.attempt_id, t.session_key, t.attempt_ns, t.attempt_hash, t.route),
        i AS (INSERT INTO htlc_attempts (payment_id, attempt_id, session_key, attempt_ns, attempt_hash, route)
              SELECT id, attempt_id, session_key, attempt_ns, attempt_hash, route FROM p RETURNING 1)
        SELECT payments_expect_count(count(*), $10, $11) FROM i
        """

    static let resolveAttemptsSQL = """
        \(batch("\(rowUnnest), $5::int8[], $6::bytea[], $7::int8[], $8::int8[], $9::bytea[]",
                 "hash, status, reason, stamp, attempt_id, preimage, settle_ns, fail_ns, failure", tokenParameter: 12)),
        p AS (\(rowUpdate) RETURNING payments.id, t.attempt_id, t.preimage, t.settle_ns, t.fail_ns, t.failure),
        u AS (UPDATE htlc_attempts a SET settle_preimage = p.preimage, settle_ns = p.settle_ns, fail_ns = p.fail_ns, failure = p.failure
              FROM p WHERE a.payment_id = p.id AND a.attempt_id = p.attempt_id RETURNING 1)
        SELECT payments_expect_count(count(*), $10, $11) FROM u
        """

    static let updatePaymentsSQL = """
        \(batch(rowUnnest, "hash, status, reason, stamp", tokenParameter: 7)),
        u AS (UPDATE payments SET status = t.status, failure_reason = t.reason, last_update_ns = t.stamp, change_xid = txid_current()
              FROM t WHERE payments.hash = t.hash AND \(fence(7)) RETURNING 1)
        SELECT payments_expect_count(count(*), $5, $6) FROM u
        """

    // Single-row forms (one change of a kind in the run, and the writer's one-per-transaction
    // retry): the same parameters, checked by `payments_expect_owned` so that a refusal says why.

    static let registerAttemptSQL = """
        \(batch("\(rowUnnest), $5::int8[], $6::bytea[], $7::int8[], $8::bytea[], $9::bytea[]",
                 "hash, status, reason, stamp, attempt_id, session_key, attempt_ns, attempt_hash, route", tokenParameter: 12)),
        p AS (\(rowUpdate) RETURNING payments.id, t.attempt_id, t.session_key, t.attempt_ns, t.attempt_hash, t.route),
        i AS (INSERT INTO htlc_attempts (payment_id, attempt_id, session_key, attempt_ns, attempt_hash, route)
              SELECT id, attempt_id, session_key, attempt_ns, attempt_hash, route FROM p RETURNING 1)
        SELECT payments_expect_owned(count(*), ($1::bytea[])[1], $12::int8, $11) FROM i
        """

    static let resolveAttemptSQL = """
        \(batch("\(rowUnnest), $5::int8[], $6::bytea[], $7::int8[], $8::int8[], $9::bytea[]",
                 "hash, status, reason, stamp, attempt_id, preimage, settle_ns, fail_ns, failure", tokenParameter: 12)),
        p AS (\(rowUpdate) RETURNING payments.id, t.attempt_id, t.preimage, t.settle_ns, t.fail_ns, t.failure),
        u AS (UPDATE htlc_attempts a SET settle_preimage = p.preimage, settle_ns = p.settle_ns, fail_ns = p.fail_ns, failure = p.failure
              FROM p WHERE a.payment_id = p.id AND a.attempt_id = p.attempt_id RETURNING 1)
        SELECT payments_expect_owned(count(*), ($1::bytea[])[1], $12::int8, $11) FROM u
        """

    static let updatePaymentSQL = """
        \(batch(rowUnnest, "hash, status, reason, stamp", tokenParameter: 7)),
        u AS (UPDATE payments SET status = t.status, failure_reason = t.reason, last_update_ns = t.stamp, change_xid = txid_current()
              FROM t WHERE payments.hash = t.hash AND \(fence(7)) RETURNING 1)
        SELECT payments_expect_owned(count(*), ($1::bytea[])[1], $7::int8, $6) FROM u
        """
}
