import Locks
import Payments
import PostgreSQL

/// The replica lease in PostgreSQL (`PaymentLeaseDatabase`), on a session of its own so a busy
/// writer never delays a heartbeat. Tables and functions: `PostgresPaymentLeaseSchema`.
///
/// Every time is the server's `clock_timestamp()`: a lease acquired or renewed at server time n
/// lasts until n + seconds (`expires_at`, when others may take over), and lets its holder write
/// until n + seconds − margin (`fence_at`). A lease is renewed only while still writable, and a
/// lapsed token is never renewed: its holder acquires a new one (tokens only grow).
public final class PostgresPaymentLease: PaymentLeaseDatabase, @unchecked Sendable {
    private let db: PostgresConnection
    private let lock = Lock()

    /// `timeoutSeconds` bounds every wait on the server (a heartbeat must not hang past the local
    /// deadline it is meant to extend).
    public init(store: PostgresPaymentStore.Options, timeoutSeconds: Double,
                takeOverBatch: Int = PostgresPaymentLease.defaultTakeOverBatch) throws(PaymentError) {
        self.takeOverBatch = max(1, takeOverBatch)
        var o = PostgresPaymentStore.sessionOptions(store, role: "lease")
        o.timeoutSeconds = timeoutSeconds
        do {
            db = try PostgresConnection(dsn: store.dsn, options: o)
        } catch {
            throw .storage(String(describing: error))
        }
    }

    deinit { db.close() }

    private static func millis(_ s: Double) -> PostgresValue { .int64(Int64((s * 1000).rounded())) }

    public func acquire(name: String, seconds: Double, marginSeconds: Double) throws -> Int64 {
        try lock.withLock {
            // Leases that ended long ago are forgotten (a payment whose token has no row counts as
            // unowned: any replica may take it over).
            try db.query("DELETE FROM payment_leases WHERE expires_at < clock_timestamp() - interval '1 day'")
            let r = try db.query("""
                INSERT INTO payment_leases (name, acquired_at, renewed_at, fence_at, expires_at)
                SELECT $1, n, n, n + make_interval(secs => ($2::int8 - $3::int8) / 1000.0), n + make_interval(secs => $2::int8 / 1000.0)
                FROM clock_timestamp() n RETURNING token
                """, [.text(name), Self.millis(seconds), Self.millis(marginSeconds)])
            return try r.int64(0, 0)
        }
    }

    public func renew(_ token: Int64, seconds: Double, marginSeconds: Double) throws -> Bool {
        try lock.withLock {
            try db.query("""
                UPDATE payment_leases SET renewed_at = n, fence_at = n + make_interval(secs => ($2::int8 - $3::int8) / 1000.0),
                expires_at = n + make_interval(secs => $2::int8 / 1000.0)
                FROM clock_timestamp() n WHERE token = $1 AND fence_at > n
                """, [.int64(token), Self.millis(seconds), Self.millis(marginSeconds)]).affectedRows == 1
        }
    }

    /// Most payments one takeover re-owns (the rest go to the next scan): the memory of a
    /// takeover is bounded however many payments a dead replica left.
    public static let defaultTakeOverBatch = 1_000
    private let takeOverBatch: Int

    /// Locks the candidates with SKIP LOCKED: two replicas scanning at once take disjoint sets, and
    /// a row a lapsing owner is still writing is left for the next scan.
    static let takeOverSQL = """
        UPDATE payments p SET lease_token = $1
        WHERE p.id IN (SELECT q.id FROM payments q
                       WHERE q.status IN (\(PaymentStatus.initiated.rawValue), \(PaymentStatus.inFlight.rawValue))
                       AND NOT EXISTS (SELECT 1 FROM payment_leases l WHERE l.token = q.lease_token AND l.expires_at > clock_timestamp())
                       ORDER BY q.payment_index LIMIT $2 FOR UPDATE SKIP LOCKED)
        AND payment_lease_writable($1)
        RETURNING p.id
        """
    /// The payments just taken over ($1: their ids, comma-separated), as committed.
    static let takenSQL = """
        SELECT p.*, a.attempt_id, a.session_key, a.attempt_ns, a.attempt_hash, a.route, a.settle_preimage, a.settle_ns,
        a.fail_ns, a.failure
        FROM (SELECT \(PaymentRowDecoder.paymentColumns) FROM payments
              WHERE id = ANY(string_to_array($1::text, ',')::int8[]) AND lease_token = $2
              AND status IN (\(PaymentStatus.initiated.rawValue), \(PaymentStatus.inFlight.rawValue))) p
        LEFT JOIN htlc_attempts a ON a.payment_id = p.id ORDER BY p.payment_index, a.attempt_id
        """

    public func takeOver(_ token: Int64) throws -> [PaymentSnapshot] {
        try lock.withLock {
            // One statement re-owns them (row locks order it against a lapsing owner's last
            // write: whichever commits first, the other sees it); they are read after it committed.
            let taken = try db.query(Self.takeOverSQL, [.int64(token), .int64(Int64(takeOverBatch))])
            guard taken.count > 0 else { return [] }
            let ids = try (0..<taken.count).map { i throws(PostgresError) in String(try taken.int64(i, 0)) }.joined(separator: ",")
            return try PostgresPaymentStore.snapshots(db.query(Self.takenSQL, [.text(ids), .int64(token)]), omitHops: false)
        }
    }

    public func release(_ token: Int64) {
        lock.withLock {
            _ = try? db.query("""
                UPDATE payment_leases SET fence_at = LEAST(fence_at, n), expires_at = n FROM clock_timestamp() n WHERE token = $1
                """, [.int64(token)])
        }
    }
}
