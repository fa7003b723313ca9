#if canImport(Glibc)
import Locks
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Payments
import PostgreSQL

/// Carries payment changes committed by other processes on the same database (replicas) into this
/// process's `ControlTower`, so TrackPaymentV2 and TrackPayments here see every payment change
/// wherever it was made.
///
/// How a change travels: the writer of any replica commits a batch and, in the same transaction,
/// NOTIFYs `Options.changeChannel` with its transaction id as the payload; each row it touched
/// carries that id (`change_xid`). The feed thread LISTENs; on a notification — or every
/// `pollSeconds` regardless, or after a reconnect — it catches up from the change index: in one
/// statement (one snapshot, one round trip) it takes the snapshot's xmin H (every transaction below
/// H has finished) and reads the payments with `from ≤ change_xid < H`, then sets `from = H`. A
/// transaction that commits later has an id ≥ H, so nothing is skipped; a lost notification or
/// connection only delays delivery until the next catch-up, which starts where the last successful
/// one ended.
/// A notified transaction at or above H committed while an older one was still open (another
/// replica's batch, a lease renewal): its change is read once that one ends, which may notify
/// nothing, so the feed looks again after 2 ms, doubling up to `pollSeconds`, until H passes it.
/// A notification may also carry the changed payments (`PaymentChangeNotice`: a transaction that
/// changed a few): those are published as it arrives, before the catch-up reads them.
/// Each changed payment is read once per catch-up by the feed, not once per subscriber. Snapshots
/// are published with `ControlTower.notifyIfNewer`, so this process's own changes, already
/// published, are not sent again. Two changes of one payment between two catch-ups arrive as its
/// latest state (versions still only grow on every stream).
public final class PostgresPaymentFeed: @unchecked Sendable {
    public struct Options: Sendable {
        public var store: PostgresPaymentStore.Options
        /// Catch up at least this often even without a notification.
        public var pollSeconds: Double = 1
        /// Most payments read per query (a catch-up pages until done).
        public var pageSize = 1_000
        public init(store: PostgresPaymentStore.Options) { self.store = store }
    }

    private let options: Options
    private let tower: ControlTower
    private let condition = Condition()
    private var stopping = false
    private var thread: pthread_t?
    /// The change ids not yet read: from `from`, skipping rows of `from` with an id ≤ `afterID`
    /// (a page boundary inside one transaction's changes).
    private var from: Int64 = 0
    private var afterID: Int64 = -1
    /// The highest transaction id notified so far (0: none, or replicas that send no id).
    private var notified: Int64 = 0
    /// The first wait before looking again for a notified change the horizon has not reached.
    static let firstRetrySeconds = 0.002
    /// The longest the thread waits before it checks whether `stop` was called.
    static let stopCheckSeconds = 0.25
    /// Catch-ups completed, payments published by them, and payment snapshots taken from
    /// notifications (statistics, tests).
    public private(set) var catchUps: UInt64 = 0
    public private(set) var published: UInt64 = 0
    public private(set) var noticed: UInt64 = 0
    private let db: PostgresConnection

    /// Connects, LISTENs and sets the starting point to "now" (changes committed before are in the
    /// store, where subscriptions read them); `start` runs the thread.
    public init(options: Options, tower: ControlTower) throws(PaymentError) {
        self.options = options
        self.tower = tower
        do {
            var o = PostgresPaymentStore.sessionOptions(options.store, role: "feed")
            if o.timeoutSeconds == 0 { o.timeoutSeconds = 30 }
            db = try PostgresConnection(dsn: options.store.dsn, options: o)
            try db.listen(options.store.changeChannel)
            from = try Self.horizon(db)
        } catch {
            throw .storage(String(describing: error))
        }
    }

    deinit { stop() }

    public func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { ctx in
            let feed = Unmanaged<PostgresPaymentFeed>.fromOpaque(ctx!).takeRetainedValue()
            feed.run()
            return nil
        }, box)
        precondition(rc == 0, "cannot start the payment feed thread")
        condition.lock.withLock { thread = tid }
    }

    /// Stops the thread (within about `stopCheckSeconds`) and waits for it. Idempotent.
    public func stop() {
        let t = condition.lock.withLock { () -> pthread_t? in
            stopping = true
            defer { thread = nil }
            return thread
        }
        if let t, pthread_equal(t, pthread_self()) == 0 { pthread_join(t, nil) }
    }

    private var isStopping: Bool { condition.lock.withLock { stopping } }

    private func run() {
        var healthy = true
        var retry = 0.0   // > 0: a notified change lies at or above the horizon; look again this soon
        while !isStopping {
            do {
                // Wait for a notification (or the poll interval); any batch of them means one catch-up.
                let timeout = !healthy ? min(options.pollSeconds, 0.5) : retry > 0 ? retry : options.pollSeconds
                for n in try waitForNotifications(timeout) {
                    // A notice that carries the changed payments is published at once; the
                    // catch-up below reads them again and finds those versions published.
                    guard let notice = try? PaymentChangeNotice.parse(n.payload) else { continue }
                    if notice.xid > notified { notified = notice.xid }
                    for s in notice.snapshots.sorted(by: { $0.lastUpdateNs < $1.lastUpdateNs }) { tower.notifyIfNewer(s) }
                    noticed += UInt64(notice.snapshots.count)
                }
                if isStopping { break }
                try catchUp()
                healthy = true
                retry = notified >= from ? min(max(retry * 2, Self.firstRetrySeconds), options.pollSeconds) : 0
            } catch {
                // Connection lost or a read failed: back off briefly; the next round reconnects
                // (re-LISTENing) and catches up from `from`, which only a completed read advances.
                healthy = false
                usleep(200_000)
            }
        }
        db.close()
    }

    /// Waits up to `seconds` for notifications, in slices of at most `stopCheckSeconds`, so that
    /// `stop` takes effect within one slice whatever `pollSeconds` is.
    private func waitForNotifications(_ seconds: Double) throws(PostgresError) -> [PostgresNotification] {
        let end = monotonicSeconds() + seconds
        while true {
            let left = end - monotonicSeconds()
            let got = try db.notifications(timeout: max(0, min(left, Self.stopCheckSeconds)))
            if !got.isEmpty || left <= Self.stopCheckSeconds || isStopping { return got }
        }
    }

    /// The current snapshot's xmin: every transaction with a smaller id has committed or aborted.
    private static func horizon(_ db: PostgresConnection) throws -> Int64 {
        try db.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").int64(0, 0)
    }

    /// One catch-up page in one statement, so in one snapshot (READ COMMITTED takes a snapshot per
    /// statement): the snapshot's xmin H (`pg_snapshot_xmin(pg_current_snapshot())`: every
    /// transaction with a smaller id has committed or aborted) and the payments changed by
    /// transactions in [$1, H), keyset-paged on (change_xid, id) after ($1, $3), at most $2 of
    /// them, each joined with its attempts. H is the last column of every row; with nothing
    /// changed there is one row of NULLs but H. One round trip: a catch-up runs while the
    /// fan-out of the change it reads may be keeping the cores busy, and every extra round trip
    /// then waits for the database's backend to be scheduled again.
    static let changedSQL = """
        WITH hz AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8 AS h),
        p AS (SELECT \(PaymentRowDecoder.paymentColumns), change_xid FROM payments
              WHERE change_xid < (SELECT h FROM hz) AND (change_xid > $1 OR (change_xid = $1 AND id > $3))
              ORDER BY change_xid, id LIMIT $2)
        SELECT p.*, a.attempt_id, a.session_key, a.attempt_ns, a.attempt_hash, a.route, a.settle_preimage, a.settle_ns,
        a.fail_ns, a.failure, hz.h
        FROM hz LEFT JOIN p ON true LEFT JOIN htlc_attempts a ON a.payment_id = p.id
        ORDER BY p.change_xid, p.id, a.attempt_id
        """
    /// Where `changedSQL` puts the change id (after the payment's columns), the attempts and H.
    static let changeColumn = 9, attemptsColumn: Int32 = 10, horizonColumn = 19

    /// Reads every payment changed by transactions in [from, horizon) and publishes it, page by
    /// page, each page in update-stamp order. A later page's statement may see a newer horizon:
    /// each is valid when taken and the keyset only moves forward, so no change is skipped (a
    /// payment changed again between two pages is read again, in its newer state).
    func catchUp() throws {
        while true {
            let r = try db.query(Self.changedSQL, [.int64(from), .int64(Int64(options.pageSize)), .int64(afterID)])
            guard r.count > 0 else { throw PostgresError(kind: .server, message: "catch-up returned no row") }
            let h = try r.int64(0, Self.horizonColumn)
            let snapshots = r.isNull(0, 0) ? [] : try PostgresPaymentStore.snapshots(r, omitHops: false, attemptsAt: Self.attemptsColumn)
            for s in snapshots.sorted(by: { $0.lastUpdateNs < $1.lastUpdateNs }) { tower.notifyIfNewer(s) }
            published += UInt64(snapshots.count)
            if snapshots.count < options.pageSize {
                from = max(from, h)
                afterID = -1
                break
            }
            let last = r.count - 1
            from = try r.int64(last, Self.changeColumn)
            afterID = try r.int64(last, 0)
        }
        catchUps += 1
    }
}
