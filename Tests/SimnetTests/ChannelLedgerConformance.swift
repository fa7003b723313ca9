import Locks
import Foundation
import XCTest
import PostgreSQL
import PostgresTestSupport
import Routing
@testable import Simnet

/// `ChannelLedger`'s contract, the same on every backend: opening balances (kept by a second
/// open), conditional reservations that never overdraw (also under concurrency, and across two
/// ledger instances on one database, which is what two replicas are), settle and release that
/// move or free each hop exactly once, HTLC ids that never repeat, and the network built on it.
/// This class runs on `MemoryChannelLedger`; `PostgresChannelLedgerConformance` runs it unchanged
/// on PostgreSQL.
class ChannelLedgerConformance: XCTestCase {
    class var usesPostgres: Bool { false }
    var dsn = ""
    private var memory: MemoryChannelLedger?

    override func setUpWithError() throws {
        memory = nil
        if Self.usesPostgres { dsn = try PostgresCluster.shared().createDatabase() }
    }

    /// A ledger; with PostgreSQL each call is a new session on the same database (a replica).
    func open() throws -> any ChannelLedger {
        if Self.usesPostgres { return try PostgresChannelLedger(options: .init(dsn: dsn, schema: "paytrack_simnet")) }
        if let memory { return memory }
        let m = MemoryChannelLedger()
        memory = m
        return m
    }

    let a = ShortChannelID(rawValue: 1 << 40 | 1), b = ShortChannelID(rawValue: 1 << 40 | 2)

    func hold(_ id: UInt64, hop: Int = 0, on scid: ShortChannelID, _ d: Int, _ amount: UInt64) -> LedgerHold {
        LedgerHold(htlcID: id, hop: hop, channel: scid, direction: d, amountMsat: amount, expiry: 500 + UInt32(hop),
                   paymentHash: [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: 32))
    }

    func testOpenReserveSettleRelease() throws {
        let l = try open()
        try l.open([(a, [10_000, 0]), (b, [3_000, 7_000])])
        XCTAssertEqual(try l.states(nil), [a: LedgerChannelState(balanceMsat: [10_000, 0]), b: LedgerChannelState(balanceMsat: [3_000, 7_000])])
        let id1 = try l.nextHTLCID(), id2 = try l.nextHTLCID()
        XCTAssertNotEqual(id1, id2)
        XCTAssertTrue(try l.reserve(hold(id1, hop: 0, on: a, 0, 6_000)))
        XCTAssertTrue(try l.reserve(hold(id1, hop: 1, on: b, 1, 5_000)))
        XCTAssertFalse(try l.reserve(hold(id2, on: a, 0, 4_001)), "4,001 > 10,000 - 6,000 spendable")
        XCTAssertFalse(try l.reserve(hold(id2, on: a, 1, 1)), "nothing on node2's side")
        XCTAssertFalse(try l.reserve(hold(id2, on: ShortChannelID(rawValue: 99), 0, 1)), "unknown channel")
        XCTAssertTrue(try l.reserve(hold(id2, on: a, 0, 4_000)))
        try open().open([(a, [10_000, 0]), (b, [3_000, 7_000])])   // a second open (replica, restart) keeps the ledger's state
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [10_000, 0], lockedMsat: [10_000, 0]))
        XCTAssertEqual(try l.inFlightCount(), 2)
        XCTAssertEqual(try l.holds(on: b), [hold(id1, hop: 1, on: b, 1, 5_000)])
        XCTAssertEqual(try l.holds(on: nil).map(\.htlcID), [id1, id1, id2].sorted())

        try l.settle(htlcID: id1)
        try l.settle(htlcID: id1)   // idempotent
        try l.release(htlcID: id2)
        try l.release(htlcID: id2)
        let s = try l.states(nil)
        XCTAssertEqual(s[a], LedgerChannelState(balanceMsat: [4_000, 6_000]))
        XCTAssertEqual(s[b], LedgerChannelState(balanceMsat: [8_000, 2_000]))
        XCTAssertEqual(try l.inFlightCount(), 0)
        XCTAssertEqual(try l.holds(on: nil), [])
    }

    /// A hold keeps the owner it was reserved under; an owner that is live (every owner of a ledger
    /// without leases) loses nothing to a takeover or a scan, and its HTLC still settles once.
    func testOwnedHoldsOfLiveOwnersStay() throws {
        let l = try open()
        try l.open([(a, [10_000, 0])])
        try prepareOwners()
        let live = LedgerHoldOwner(scope: ownerScope, token: 1)
        let id = try l.nextHTLCID()
        var h = hold(id, on: a, 0, 3_000)
        h.owner = live
        XCTAssertTrue(try l.reserve(h))
        XCTAssertEqual(try l.holds(on: a), [h])
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: h.paymentHash, scope: ownerScope, settle: false), 0)
        XCTAssertEqual(try l.releaseOrphaned(scope: nil), 0)
        try open().open([(a, [10_000, 0])])   // another replica opens the ledger
        XCTAssertEqual(try l.holds(on: a), [h])
        try l.settle(htlcID: id)
        try l.settle(htlcID: id)
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [7_000, 3_000]))
    }

    /// The scope the ownership tests' owners live in. On PostgreSQL: a schema that answers the
    /// ledger's questions about its leases and payments as a payment store's schema does
    /// (`ledger_owner_writable`, `ledger_owner_expired`, `ledger_payment_unfinished`), from two
    /// tables the tests fill: `leases(token, writable, expired)`, `unfinished(hash)`.
    let ownerScope = "paytrack_ledger_owner_test"

    func prepareOwners() throws {
        guard Self.usesPostgres else { return }
        let c = try PostgresConnection(dsn: dsn)
        defer { c.close() }
        try c.execute("""
            CREATE SCHEMA paytrack_ledger_owner_test;
            CREATE TABLE paytrack_ledger_owner_test.leases (token BIGINT PRIMARY KEY, writable BOOLEAN NOT NULL, expired BOOLEAN NOT NULL);
            CREATE TABLE paytrack_ledger_owner_test.unfinished (hash BYTEA PRIMARY KEY);
            INSERT INTO paytrack_ledger_owner_test.leases VALUES (1, true, false);
            CREATE FUNCTION paytrack_ledger_owner_test.ledger_owner_writable(t bigint) RETURNS boolean LANGUAGE sql AS $$
                SELECT COALESCE((SELECT writable FROM paytrack_ledger_owner_test.leases WHERE token = t), false) $$;
            CREATE FUNCTION paytrack_ledger_owner_test.ledger_owner_expired(t bigint) RETURNS boolean LANGUAGE sql AS $$
                SELECT COALESCE((SELECT expired FROM paytrack_ledger_owner_test.leases WHERE token = t), true) $$;
            CREATE FUNCTION paytrack_ledger_owner_test.ledger_payment_unfinished(h bytea) RETURNS boolean LANGUAGE sql AS $$
                SELECT EXISTS (SELECT 1 FROM paytrack_ledger_owner_test.unfinished WHERE hash = h) $$;
            """)
    }

    /// Two ledgers on one store (two replicas) and many threads reserving on one channel at once:
    /// the sum reserved never exceeds the balance, and settling moves exactly that sum.
    func testConcurrentReservationsNeverOverdraw() throws {
        let ledgers = [try open(), try open()]
        try ledgers[0].open([(a, [100_000, 0])])
        try ledgers[1].open([(a, [100_000, 0])])
        let granted = Counter()
        let scid = a
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let l = ledgers[i % 2]
            guard let id = try? l.nextHTLCID() else { return }
            let h = LedgerHold(htlcID: id, hop: 0, channel: scid, direction: 0, amountMsat: 7_000, expiry: 500, paymentHash: [1])
            if (try? l.reserve(h)) == true {
                granted.add(id)
                try? l.settle(htlcID: id)
            }
        }
        XCTAssertEqual(granted.ids.count, 14, "14 × 7,000 ≤ 100,000 < 15 × 7,000")
        XCTAssertEqual(Set(granted.ids).count, granted.ids.count, "ids never repeat across ledgers")
        XCTAssertEqual(try ledgers[1].states([a])[a], LedgerChannelState(balanceMsat: [2_000, 98_000]))
    }

    /// The simulated network on the ledger: a payment moves balances, seen through a second
    /// network instance on the same ledger store (another replica), and one that the balance
    /// cannot cover fails with TEMPORARY_CHANNEL_FAILURE.
    func testNetworksOnOneLedgerShareBalances() async throws {
        let topology = Topology(nodes: [.init(alias: "alice"), .init(alias: "bob")],
                                channels: [.init(shortChannelID: a, nodeA: "alice", nodeB: "bob", capacitySat: 100,
                                                 balanceAMsat: 60_000)])
        let one = try SimulatedNetwork(topology: topology, ledger: try open())
        let two = try SimulatedNetwork(topology: topology, ledger: try open())
        let alice = one.nodeID(alias: "alice")!, bob = one.nodeID(alias: "bob")!
        let payee = TestPayee()
        one.setPayeeHandler(payee, for: bob)
        two.setPayeeHandler(payee, for: bob)
        let hash = await payee.addInvoice(preimage: [UInt8](repeating: 7, count: 32), amountMsat: 1)
        func route(_ net: SimulatedNetwork, _ amount: UInt64) -> SourceRoute {
            let c = net.channel(a, from: alice)!
            return SourceRoute.build(source: alice, segments: [SourceRoute.Segment(node: bob, chanID: a, policy: c.localPolicy!,
                                                                                   capacitySat: c.capacitySat)],
                                     amountMsat: amount, finalCLTVDelta: 18, currentHeight: net.blockHeight)!
        }
        guard case .settled = await one.send(route: route(one, 25_000), paymentHash: hash) else { return XCTFail("first payment settles") }
        XCTAssertEqual(two.channel(a, from: alice)?.localBalanceMsat, 35_000, "the other network sees the move")
        let result = await two.send(route: route(two, 35_001), paymentHash: hash)
        guard case .failed(let f) = result else { return XCTFail("35,001 > 35,000 spendable") }
        XCTAssertEqual(f.message.code, .temporaryChannelFailure)
        XCTAssertEqual(f.failureSourceIndex, 0)
        XCTAssertEqual(one.pendingHTLCCount, 0)
        XCTAssertEqual(one.channel(a, from: bob)?.localBalanceMsat, 65_000, "40,000 + 25,000")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = Lock()
    private(set) var ids: [UInt64] = []
    func add(_ id: UInt64) { lock.withLock { ids.append(id) } }
}

/// `ChannelLedgerConformance`, unchanged, on PostgreSQL (swift-corelibs-xctest runs only the tests
/// a class declares, so each is listed here, forwarding to the shared body).
final class PostgresChannelLedgerConformance: ChannelLedgerConformance {
    override class var usesPostgres: Bool { true }

    override func testOpenReserveSettleRelease() throws { try super.testOpenReserveSettleRelease() }
    override func testConcurrentReservationsNeverOverdraw() throws { try super.testConcurrentReservationsNeverOverdraw() }
    override func testNetworksOnOneLedgerShareBalances() async throws { try await super.testNetworksOnOneLedgerShareBalances() }
    override func testOwnedHoldsOfLiveOwnersStay() throws { try super.testOwnedHoldsOfLiveOwnersStay() }

    private func sql(_ text: String) throws {
        let c = try PostgresConnection(dsn: dsn)
        defer { c.close() }
        _ = try c.query(text)
    }

    private func owned(_ id: UInt64, hop: Int = 0, on scid: ShortChannelID, _ d: Int, _ amount: UInt64, token: Int64,
                       hash: UInt8) -> LedgerHold {
        var h = hold(id, hop: hop, on: scid, d, amount)
        h.paymentHash = [UInt8](repeating: hash, count: 32)
        h.owner = LedgerHoldOwner(scope: ownerScope, token: token)
        return h
    }

    /// A hold belongs to its lease, not to the session that reserved it: the reserving session
    /// killed (a database restart or a lost connection ends every backend) and another replica
    /// opening the ledger afterwards release nothing, and the reconnected ledger's settle moves
    /// the balances exactly once.
    func testHoldsSurviveTheLossOfTheirSession() throws {
        let l = try open()
        try l.open([(a, [10_000, 0])])
        try prepareOwners()
        let id = try l.nextHTLCID()
        XCTAssertTrue(try l.reserve(owned(id, on: a, 0, 4_000, token: 1, hash: 9)))
        try sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'paytrackd-simnet' AND datname = current_database() AND pid <> pg_backend_pid()")
        try open().open([(a, [10_000, 0])])
        XCTAssertEqual(try l.holds(on: a).map(\.htlcID), [id], "the hold survived")
        try l.settle(htlcID: id)
        try open().settle(htlcID: id)
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [6_000, 4_000]))
    }

    /// Fencing: an owner whose lease may no longer write reserves nothing.
    func testReservationOfAnOwnerThatMayNotWriteIsRefused() throws {
        let l = try open()
        try l.open([(a, [10_000, 0])])
        try prepareOwners()
        try sql("INSERT INTO paytrack_ledger_owner_test.leases VALUES (2, false, false)")
        XCTAssertFalse(try l.reserve(owned(try l.nextHTLCID(), on: a, 0, 1_000, token: 2, hash: 1)))
        XCTAssertFalse(try l.reserve(owned(try l.nextHTLCID(), on: a, 0, 1_000, token: 77, hash: 1)), "no such lease")
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [10_000, 0]))
        XCTAssertEqual(try l.inFlightCount(), 0)
    }

    /// A takeover resolves, by payment hash and in one step, the holds its dead owner (expired
    /// lease) reserved: released, or settled when the payee had settled; a live owner's holds of
    /// the same hash and other hashes stay. A second call finds nothing.
    func testTakeoverResolvesTheExpiredOwnersHolds() throws {
        let l = try open()
        try l.open([(a, [10_000, 0]), (b, [10_000, 0])])
        try prepareOwners()
        try sql("INSERT INTO paytrack_ledger_owner_test.leases VALUES (2, true, false)")
        let dead1 = try l.nextHTLCID(), dead2 = try l.nextHTLCID(), live = try l.nextHTLCID(), other = try l.nextHTLCID()
        XCTAssertTrue(try l.reserve(owned(dead1, hop: 0, on: a, 0, 1_000, token: 2, hash: 5)))
        XCTAssertTrue(try l.reserve(owned(dead1, hop: 1, on: b, 0, 900, token: 2, hash: 5)))
        XCTAssertTrue(try l.reserve(owned(dead2, on: a, 0, 2_000, token: 2, hash: 5)))
        XCTAssertTrue(try l.reserve(owned(live, on: a, 0, 3_000, token: 1, hash: 5)))
        XCTAssertTrue(try l.reserve(owned(other, on: b, 0, 500, token: 2, hash: 6)))
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: [UInt8](repeating: 5, count: 32), scope: ownerScope, settle: false), 0,
                       "token 2 has not expired yet")
        try sql("UPDATE paytrack_ledger_owner_test.leases SET writable = false, expired = true WHERE token = 2")
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: [UInt8](repeating: 5, count: 32), scope: "paytrack_elsewhere", settle: false), 0)
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: [UInt8](repeating: 5, count: 32), scope: ownerScope, settle: false), 2)
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: [UInt8](repeating: 5, count: 32), scope: ownerScope, settle: false), 0)
        XCTAssertEqual(try l.holds(on: nil).map(\.htlcID), [live, other].sorted())
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [10_000, 0], lockedMsat: [3_000, 0]))
        XCTAssertEqual(try l.resolveAbandoned(paymentHash: [UInt8](repeating: 6, count: 32), scope: ownerScope, settle: true), 1)
        XCTAssertEqual(try l.states([b])[b], LedgerChannelState(balanceMsat: [9_500, 500]), "settled: the payee has it")
    }

    /// The scan releases the holds of expired owners that no payment run will resolve (their
    /// payment is not unfinished in the owner's scope), and nothing else: not the holds of a
    /// payment still to be taken over, not a live owner's held invoice HTLC, not owner-less holds.
    func testScanReleasesOnlyOrphanedHolds() throws {
        let l = try open()
        try l.open([(a, [10_000, 0])])
        try prepareOwners()
        try sql("INSERT INTO paytrack_ledger_owner_test.leases VALUES (3, true, false)")
        try sql("INSERT INTO paytrack_ledger_owner_test.unfinished VALUES (decode(repeat('07', 32), 'hex'))")
        let forwarded = try l.nextHTLCID(), pending = try l.nextHTLCID(), held = try l.nextHTLCID(), ownerless = try l.nextHTLCID()
        XCTAssertTrue(try l.reserve(owned(forwarded, on: a, 0, 1_000, token: 3, hash: 8)))
        XCTAssertTrue(try l.reserve(owned(pending, on: a, 0, 1_000, token: 3, hash: 7)))
        XCTAssertTrue(try l.reserve(owned(held, on: a, 0, 1_000, token: 1, hash: 8)))
        XCTAssertTrue(try l.reserve(hold(ownerless, on: a, 0, 1_000)))
        XCTAssertEqual(try l.releaseOrphaned(scope: nil), 0, "token 3 is live")
        try sql("UPDATE paytrack_ledger_owner_test.leases SET writable = false, expired = true WHERE token = 3")
        XCTAssertEqual(try l.releaseOrphaned(scope: "paytrack_elsewhere"), 0)
        XCTAssertEqual(try l.releaseOrphaned(scope: nil), 1)
        XCTAssertEqual(try l.holds(on: a).map(\.htlcID), [pending, held, ownerless].sorted())
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [10_000, 0], lockedMsat: [3_000, 0]))
        try sql("DELETE FROM paytrack_ledger_owner_test.unfinished")   // the payment ended
        try open().open([(a, [10_000, 0])])   // opening scans too
        XCTAssertEqual(try l.holds(on: a).map(\.htlcID), [held, ownerless].sorted())
    }

    /// A replica that derived another network (other seed or topology) refuses the database's.
    func testDifferentNetworkIsRefused() throws {
        try open().open([(a, [10_000, 0])])
        XCTAssertThrowsError(try open().open([(a, [9_000, 1_000])])) {
            XCTAssertTrue("\($0)".contains("different simulated network"), "\($0)")
        }
    }
}
