import Locks
import Crypto
import Foundation
import PostgreSQL
import Routing

/// The simulated network's balances and HTLCs in PostgreSQL (`ChannelLedger`): one network
/// shared by every paytrackd replica on the database (`--db.backend postgres`).
///
/// Tables (schema `Options.schema`, shared by every served node): `sim_channels` (one row per
/// channel direction: balance and locked msat, with CHECKs that neither goes negative and the
/// lock never exceeds the balance), `sim_htlcs` (one row per hop of an HTLC in flight, with the
/// replica lease that reserved it: "Ownership" below), the sequence `sim_htlc_ids`, and
/// `sim_network` (a fingerprint of the channels' opening balances: replicas must derive the same
/// network from `--sim.seed` and the topology, or the second one refuses to start).
///
/// Every change is one statement, so it is atomic without an explicit transaction:
/// - reserve: `UPDATE sim_channels SET locked = locked + amt WHERE … AND balance − locked ≥ amt`
///   and the hold's INSERT in one data-modifying CTE. Row locks serialize concurrent reservations
///   on one direction and PostgreSQL re-checks the condition on the row it locked (READ
///   COMMITTED's re-evaluation), so no interleaving of replicas overdraws a channel.
/// - settle / release: DELETE the HTLC's holds and apply their sums per channel direction in
///   the same statement; a second call finds no holds and changes nothing. Two settles touching
///   the same channels in a different order can deadlock; PostgreSQL aborts one (SQLSTATE 40P01)
///   and it is retried.
///
/// Ownership: a hold records the replica lease that reserved it (`owner_scope`, the served node's
/// schema, and `owner_token`), which survives reconnects and database restarts; the owner's
/// schema answers whether that lease may still write or has expired, and whether a payment of a
/// hash is still unfinished there (functions of the payment store's lease migration, called by
/// `sim_owner_says` and `sim_hold_orphaned` with the schema quoted by `format('%I')`). A
/// reservation whose owner may no longer write is refused (fencing: a replica that lost its lease
/// reserves nothing). The replica that takes over a payment resolves the holds
/// of its dead owner (`resolveAbandoned`, by payment hash); holds no payment run will resolve are
/// released by `releaseOrphaned` (live replicas' periodic scan, and `open`).
/// One session, serialized by a lock; each call is one round trip.
public final class PostgresChannelLedger: ChannelLedger, @unchecked Sendable {
    public typealias Options = PostgresStoreOptions

    /// The network in the database is not the one this process derived.
    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
    }

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE sim_network (id BIGINT PRIMARY KEY CHECK (id = 1), fingerprint BYTEA NOT NULL);
        CREATE TABLE sim_channels (
          scid BIGINT NOT NULL,
          direction BIGINT NOT NULL CHECK (direction IN (0, 1)),
          balance_msat BIGINT NOT NULL CHECK (balance_msat >= 0),
          locked_msat BIGINT NOT NULL CHECK (locked_msat >= 0 AND locked_msat <= balance_msat),
          PRIMARY KEY (scid, direction)
        );
        CREATE TABLE sim_htlcs (
          htlc_id BIGINT NOT NULL,
          hop BIGINT NOT NULL,
          scid BIGINT NOT NULL,
          direction BIGINT NOT NULL,
          amount_msat BIGINT NOT NULL,
          expiry BIGINT NOT NULL,
          payment_hash BYTEA NOT NULL,
          owner_pid BIGINT NOT NULL DEFAULT pg_backend_pid(),
          PRIMARY KEY (htlc_id, hop)
        );
        CREATE INDEX sim_htlcs_by_channel ON sim_htlcs (scid);
        CREATE SEQUENCE sim_htlc_ids;
        """),
        // A hold's owner is the replica lease that reserved it, (schema, token), not the session's
        // server process (which changes with every reconnect and every database restart). Holds
        // made before keep `owner_pid` and the old rule; new ones have no pid. The owner's schema
        // answers for its lease and payments (`ledger_owner_writable`, `ledger_owner_expired`,
        // `ledger_payment_unfinished`, made by the payment store's lease migration).
        (2, """
        ALTER TABLE sim_htlcs ADD COLUMN owner_scope TEXT, ADD COLUMN owner_token BIGINT,
            ALTER COLUMN owner_pid DROP NOT NULL, ALTER COLUMN owner_pid DROP DEFAULT,
            ADD CONSTRAINT sim_htlcs_owner CHECK ((owner_scope IS NULL) = (owner_token IS NULL));
        CREATE INDEX sim_htlcs_by_payment ON sim_htlcs (payment_hash);
        CREATE FUNCTION sim_owner_says(s text, question text, t bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE
        SET search_path FROM CURRENT AS $$
        DECLARE r boolean;
        BEGIN
            EXECUTE format('SELECT %I.%I($1)', s, question) INTO r USING t;
            RETURN r;
        END $$;
        CREATE FUNCTION sim_hold_orphaned(s text, t bigint, h bytea) RETURNS boolean LANGUAGE plpgsql VOLATILE
        SET search_path FROM CURRENT AS $$
        DECLARE r boolean;
        BEGIN
            IF s IS NULL OR NOT sim_owner_says(s, 'ledger_owner_expired', t) THEN RETURN false; END IF;
            EXECUTE format('SELECT NOT %I.ledger_payment_unfinished($1)', s) INTO r USING h;
            RETURN r;
        END $$;
        """),
    ]

    private let db: PostgresConnection
    private let lock = Lock()

    public init(options: Options) throws {
        db = try .session(for: options, applicationName: "paytrackd-simnet")
        try PostgresMigrations.migrate(db, component: "simnet", migrations: Self.migrations)
    }

    /// How long a statement keeps retrying a lost session (a database restart, a network blip)
    /// before its caller sees the error.
    static let reconnectWindowSeconds = 15.0

    /// Runs one statement, retrying (up to 3 more times) a deadlock or serialization abort, and a
    /// lost session for up to `reconnectWindowSeconds` (backing off from 50 ms to 1 s): every
    /// statement of the ledger is safe to run again (reads; settle and release find nothing the
    /// second time; a reservation whose first try committed unseen fails its second on the hold's
    /// key, `alreadyApplied`).
    private func run(_ sql: String, _ params: [PostgresValue], alreadyApplied: ((PostgresError) -> Bool)? = nil) throws -> PostgresResult {
        try lock.withLock {
            var aborts = 0
            var lostSince: UInt64?
            var pause: UInt32 = 50_000
            while true {
                do {
                    return try db.query(sql, params)
                } catch let e as PostgresError where aborts < 3 && (e.sqlState == "40P01" || e.sqlState == "40001") {
                    aborts += 1
                } catch let e as PostgresError where e.kind == .connection {
                    let now = DispatchTime.now().uptimeNanoseconds
                    let since = lostSince ?? now
                    lostSince = since
                    guard Double(now - since) / 1e9 < Self.reconnectWindowSeconds else { throw e }
                    usleep(pause)
                    pause = min(pause * 2, 1_000_000)
                } catch let e as PostgresError where lostSince != nil && alreadyApplied?(e) == true {
                    throw AlreadyApplied()
                }
            }
        }
    }

    /// A retried statement whose first try had committed (its answer lost with the session).
    private struct AlreadyApplied: Error {}

    public func open(_ channels: [(channel: ShortChannelID, balanceMsat: [UInt64])]) throws {
        var print: [UInt8] = []
        for c in channels {
            for v in [c.channel.rawValue, c.balanceMsat[0], c.balanceMsat[1]] { withUnsafeBytes(of: v.bigEndian) { print += $0 } }
        }
        let fingerprint = SHA256.hash(print)
        try lock.withLock {
            try db.transaction {
                try db.query("SELECT pg_advisory_xact_lock($1)", [.int64(PostgresMigrations.lockKey)])
                try db.query("INSERT INTO sim_network (id, fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [.bytes(fingerprint)])
                let stored = try db.query("SELECT fingerprint FROM sim_network WHERE id = 1").bytes(0, 0)
                guard stored == fingerprint else {
                    throw Mismatch(description: "the database holds a different simulated network (was --sim.seed or the topology changed?)")
                }
                for c in channels {
                    for d in 0..<2 {
                        try db.query("""
                            INSERT INTO sim_channels (scid, direction, balance_msat, locked_msat) VALUES ($1, $2, $3, 0)
                            ON CONFLICT (scid, direction) DO NOTHING
                            """, [.int64(Int64(bitPattern: c.channel.rawValue)), .int64(Int64(d)), .int64(Int64(c.balanceMsat[d]))])
                    }
                }
                // Holds made before owners were leases (schema version 1): released once their
                // server process is gone.
                try db.query(Self.releaseSQL(where: "owner_scope IS NULL AND owner_pid NOT IN (SELECT pid FROM pg_stat_activity)"), [])
            }
        }
        // The holds no payment run will resolve (best effort: the periodic scans retry).
        _ = try? releaseOrphaned(scope: nil)
    }

    public func nextHTLCID() throws -> UInt64 {
        UInt64(bitPattern: try run("SELECT nextval('sim_htlc_ids')", []).int64(0, 0))
    }

    public func reserve(_ hold: LedgerHold) throws -> Bool {
        guard hold.direction == 0 || hold.direction == 1, hold.amountMsat <= UInt64(Int64.max) else { return false }
        let r: PostgresResult
        do {
            r = try run("""
            WITH r AS (UPDATE sim_channels SET locked_msat = locked_msat + $3
                       WHERE scid = $1 AND direction = $2 AND balance_msat - locked_msat >= $3
                       AND ($8::text IS NULL OR sim_owner_says($8::text, 'ledger_owner_writable', $9::int8)) RETURNING 1)
            INSERT INTO sim_htlcs (htlc_id, hop, scid, direction, amount_msat, expiry, payment_hash, owner_scope, owner_token)
            SELECT $4, $5, $1, $2, $3, $6, $7, $8, $9 FROM r RETURNING 1
            """, [.int64(Int64(bitPattern: hold.channel.rawValue)), .int64(Int64(hold.direction)), .int64(Int64(hold.amountMsat)),
                  .int64(Int64(bitPattern: hold.htlcID)), .int64(Int64(hold.hop)), .int64(Int64(hold.expiry)), .bytes(hold.paymentHash),
                  hold.owner.map { .text($0.scope) } ?? .null, hold.owner.map { .int64($0.token) } ?? .null],
                alreadyApplied: { $0.sqlState == "23505" })
        } catch is AlreadyApplied {
            return true   // the hold exists: this very reservation committed before the session was lost
        }
        return r.count == 1
    }

    /// Deletes the holds matching `condition` and applies them: released locks, and with
    /// `settle` the amounts moved to the other side. One statement; per channel direction one
    /// UPDATE row (sums), so a route crossing a channel twice is still applied exactly. Answers
    /// one row: the number of HTLCs resolved.
    static func releaseSQL(where condition: String, settle: Bool = false) -> String {
        """
        WITH h AS (DELETE FROM sim_htlcs WHERE \(condition) RETURNING htlc_id, scid, direction, amount_msat),
        d AS (SELECT scid, direction, amount_msat AS unlock, \(settle ? "-amount_msat" : "0::int8") AS delta FROM h
              UNION ALL SELECT scid, 1 - direction, 0, \(settle ? "amount_msat" : "0") FROM h),
        t AS (SELECT scid, direction, sum(unlock)::int8 AS unlock, sum(delta)::int8 AS delta FROM d GROUP BY scid, direction),
        u AS (UPDATE sim_channels c SET locked_msat = c.locked_msat - t.unlock, balance_msat = c.balance_msat + t.delta
              FROM t WHERE c.scid = t.scid AND c.direction = t.direction RETURNING 1)
        SELECT count(DISTINCT htlc_id)::int8 FROM h
        """
    }

    private static let settleSQL = releaseSQL(where: "htlc_id = $1", settle: true)
    private static let releaseOneSQL = releaseSQL(where: "htlc_id = $1")
    private static let abandonedCondition = "payment_hash = $1 AND owner_scope = $2 AND sim_owner_says(owner_scope, 'ledger_owner_expired', owner_token)"
    private static let settleAbandonedSQL = releaseSQL(where: abandonedCondition, settle: true)
    private static let releaseAbandonedSQL = releaseSQL(where: abandonedCondition)
    /// $1: the scope, or NULL for every scope. Each owner's lease is asked once (DISTINCT owners,
    /// then the volatile question, which PostgreSQL does not push below the DISTINCT); only holds
    /// of expired owners are asked about their payment.
    private static let releaseOrphanedSQL = releaseSQL(where: """
        owner_scope IS NOT NULL AND ($1::text IS NULL OR owner_scope = $1::text)
        AND (owner_scope, owner_token) IN (SELECT s, t FROM (SELECT DISTINCT owner_scope AS s, owner_token AS t FROM sim_htlcs
                                                              WHERE owner_scope IS NOT NULL) o
                                           WHERE sim_owner_says(s, 'ledger_owner_expired', t))
        AND sim_hold_orphaned(owner_scope, owner_token, payment_hash)
        """)

    public func settle(htlcID: UInt64) throws {
        _ = try run(Self.settleSQL, [.int64(Int64(bitPattern: htlcID))])
    }

    public func release(htlcID: UInt64) throws {
        _ = try run(Self.releaseOneSQL, [.int64(Int64(bitPattern: htlcID))])
    }

    @discardableResult
    public func resolveAbandoned(paymentHash: [UInt8], scope: String, settle: Bool) throws -> Int {
        Int(try run(settle ? Self.settleAbandonedSQL : Self.releaseAbandonedSQL, [.bytes(paymentHash), .text(scope)]).int64(0, 0))
    }

    @discardableResult
    public func releaseOrphaned(scope: String?) throws -> Int {
        Int(try run(Self.releaseOrphanedSQL, [scope.map { .text($0) } ?? .null]).int64(0, 0))
    }

    public func states(_ channels: [ShortChannelID]?) throws -> [ShortChannelID: LedgerChannelState] {
        let r: PostgresResult
        if let channels {
            guard !channels.isEmpty else { return [:] }
            r = try run("SELECT scid, direction, balance_msat, locked_msat FROM sim_channels WHERE scid = ANY($1)",
                        [.int64Array(channels.map { Int64(bitPattern: $0.rawValue) })])
        } else {
            r = try run("SELECT scid, direction, balance_msat, locked_msat FROM sim_channels", [])
        }
        var out: [ShortChannelID: LedgerChannelState] = [:]
        for row in 0..<r.count {
            let scid = ShortChannelID(rawValue: UInt64(bitPattern: try r.int64(row, 0)))
            let d = Int(try r.int64(row, 1))
            var s = out[scid] ?? LedgerChannelState(balanceMsat: [0, 0])
            s.balanceMsat[d] = UInt64(try r.int64(row, 2))
            s.lockedMsat[d] = UInt64(try r.int64(row, 3))
            out[scid] = s
        }
        return out
    }

    public func holds(on channel: ShortChannelID?) throws -> [LedgerHold] {
        let columns = "htlc_id, hop, scid, direction, amount_msat, expiry, payment_hash, owner_scope, owner_token"
        let r = try channel.map {
            try run("SELECT \(columns) FROM sim_htlcs WHERE scid = $1 ORDER BY htlc_id, hop", [.int64(Int64(bitPattern: $0.rawValue))])
        } ?? run("SELECT \(columns) FROM sim_htlcs ORDER BY htlc_id, hop", [])
        return try (0..<r.count).map { row in
            LedgerHold(htlcID: UInt64(bitPattern: try r.int64(row, 0)), hop: Int(try r.int64(row, 1)),
                       channel: ShortChannelID(rawValue: UInt64(bitPattern: try r.int64(row, 2))),
                       direction: Int(try r.int64(row, 3)), amountMsat: UInt64(try r.int64(row, 4)),
                       expiry: UInt32(clamping: try r.int64(row, 5)), paymentHash: try r.bytes(row, 6),
                       owner: r.isNull(row, 7) ? nil : LedgerHoldOwner(scope: try r.text(row, 7), token: try r.int64(row, 8)))
        }
    }

    public func inFlightCount() throws -> Int {
        Int(try run("SELECT count(DISTINCT htlc_id)::int8 FROM sim_htlcs", []).int64(0, 0))
    }
}
