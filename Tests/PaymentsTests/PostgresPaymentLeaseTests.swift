import Foundation
import XCTest
import Locks
import PostgreSQL
import PostgresTestSupport
@testable import Payments
@testable import PaymentStore

/// Replicas on one payments schema: the lease's fencing in the database (a lapsed owner changes
/// nothing, whatever its own clock says), takeover, release, and what several writers share
/// (payment indexes from one sequence, counters, one payment per hash).
final class PostgresPaymentLeaseTests: XCTestCase {
    /// One replica's view of a database: its store (fenced by `gate`), control, lease.
    private struct Replica {
        let gate = PaymentLeaseGate()
        let store: PostgresPaymentStore
        let control: PaymentControl
        let lease: PostgresPaymentLease

        init(dsn: String, fenced: Bool = true) throws {
            var o = PostgresPaymentStore.Options(dsn: dsn)
            if fenced { o.leaseGate = gate }
            store = try PostgresPaymentStore(options: o)
            var c = PaymentControl.Options()
            c.indexSource = try PostgresPaymentIndexSequence(store: o)
            control = PaymentControl(store: store, tower: ControlTower(store: store), options: c)
            lease = try PostgresPaymentLease(store: o, timeoutSeconds: 10)
        }
    }

    private func assertRefused<T>(_ body: @autoclosure () throws -> T, _ expected: PaymentError = .leaseNotHeld,
                                  _ message: String = "", line: UInt = #line) {
        XCTAssertThrowsError(try body(), message, line: line) { e in
            XCTAssertEqual(e as? PaymentError, expected, message, line: line)
        }
    }

    func testALapsedOwnerChangesNothingAndAnotherTakesItsPaymentsOver() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        let a = try Replica(dsn: dsn), b = try Replica(dsn: dsn)
        defer { a.store.close(); b.store.close() }
        let h1 = Fixture.hash(1)

        assertRefused(try a.control.initPayment(Fixture.info(1)), .leaseNotHeld, "no lease yet: refused before any round trip")
        // A's lease lasts 1.5 s by the database's clock; A's own gate is told it never ends (a
        // clock that lies): from here on only the database fences A.
        let tA = try a.lease.acquire(name: "a", seconds: 1.5, marginSeconds: 0.3)
        a.gate.grant(tA, until: .infinity)
        let started = Date()
        let first = try a.control.initPayment(Fixture.info(1)).paymentIndex
        try a.control.registerAttempt(h1, Fixture.attempt(1))
        let tB = try b.lease.acquire(name: "b", seconds: 60, marginSeconds: 5)
        b.gate.grant(tB, until: .infinity)
        XCTAssertGreaterThan(tB, tA, "tokens only grow")
        XCTAssertEqual(try b.lease.takeOver(tB).count, 0, "A's lease is current: nothing to take")
        assertRefused(try b.control.failAttempt(h1, attemptID: 1, Fixture.failure()), .leaseNotHeld, "B does not own A's payment")

        // Past A's fence time (1.2 s) A may not write, though its lease has not expired yet.
        usleep(UInt32(max(0, 1.3 - Date().timeIntervalSince(started)) * 1_000_000))
        if Date().timeIntervalSince(started) < 1.45 {
            assertRefused(try a.control.failAttempt(h1, attemptID: 1, Fixture.failure()), .leaseNotHeld, "in the margin: no writes")
            XCTAssertEqual(try b.lease.takeOver(tB).count, 0, "and nobody takes over before the expiry")
        }
        usleep(UInt32(max(0, 1.6 - Date().timeIntervalSince(started)) * 1_000_000))
        assertRefused(try a.control.settleAttempt(h1, attemptID: 1, Fixture.settle(1)), .leaseNotHeld, "lapsed: fenced")
        XCTAssertFalse(try a.lease.renew(tA, seconds: 1.5, marginSeconds: 0.3), "a lapsed token is never renewed")
        assertRefused(try a.control.initPayment(Fixture.info(2)), .leaseNotHeld, "nor may it create payments")

        let taken = try b.lease.takeOver(tB)
        XCTAssertEqual(taken.map(\.paymentHash), [h1])
        XCTAssertEqual(taken.first?.attempts.map(\.attemptID), [1], "as A left it: its refused changes left nothing")
        XCTAssertEqual(taken.first?.status, .inFlight)
        XCTAssertEqual(try b.lease.takeOver(tB).count, 0, "taken once")
        b.control.reload(h1)
        XCTAssertEqual(try b.control.settleAttempt(h1, attemptID: 1, Fixture.settle(1)).status, .succeeded)

        // A acquires anew (a new token): it works again, and takes nothing of B's (current).
        let tA2 = try a.lease.acquire(name: "a again", seconds: 60, marginSeconds: 5)
        a.gate.grant(tA2, until: .infinity)
        XCTAssertGreaterThan(tA2, tB)
        XCTAssertGreaterThan(try a.control.initPayment(Fixture.info(3)).paymentIndex, first)
        try b.control.initPayment(Fixture.info(4))
        XCTAssertEqual(try a.lease.takeOver(tA2).count, 0)
        // B stops gracefully: releasing makes its in-flight payment A's at once.
        b.lease.release(tB)
        XCTAssertEqual(try a.lease.takeOver(tA2).map(\.paymentHash), [Fixture.hash(4)])
        assertRefused(try b.control.registerAttempt(Fixture.hash(4), Fixture.attempt(5)), .leaseNotHeld, "released: fenced")
        // A local revocation refuses at once, without asking the database.
        a.gate.revoke()
        assertRefused(try a.control.registerAttempt(Fixture.hash(3), Fixture.attempt(6)))
    }

    /// The database's own clock decides: a lease row shows fence and expiry times set by the
    /// server, and a renewal moves both from the server's now.
    func testRenewalExtendsFromTheServersClock() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        let a = try Replica(dsn: dsn)
        defer { a.store.close() }
        let t = try a.lease.acquire(name: "a", seconds: 2, marginSeconds: 0.5)
        let c = try PostgresConnection(dsn: dsn)
        func spans() throws -> (fence: Int64, expiry: Int64) {
            let r = try c.query("""
                SELECT (EXTRACT(EPOCH FROM fence_at - renewed_at) * 1000)::int8, (EXTRACT(EPOCH FROM expires_at - renewed_at) * 1000)::int8
                FROM payment_leases WHERE token = $1
                """, [.int64(t)])
            return (try r.int64(0, 0), try r.int64(0, 1))
        }
        XCTAssertEqual(try spans().fence, 1_500)
        XCTAssertEqual(try spans().expiry, 2_000)
        let before = try c.query("SELECT (EXTRACT(EPOCH FROM expires_at) * 1e6)::int8 FROM payment_leases WHERE token = $1", [.int64(t)]).int64(0, 0)
        usleep(100_000)
        XCTAssertTrue(try a.lease.renew(t, seconds: 2, marginSeconds: 0.5))
        let after = try c.query("SELECT (EXTRACT(EPOCH FROM expires_at) * 1e6)::int8 FROM payment_leases WHERE token = $1", [.int64(t)]).int64(0, 0)
        XCTAssertGreaterThanOrEqual(after - before, 100_000)
    }

    /// Two replicas take a dead one's payments over at once, in batches: each payment is taken by
    /// exactly one of them, none is missed, no batch is larger than the bound.
    func testConcurrentTakeoversTakeDisjointBoundedBatches() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        let dead = try Replica(dsn: dsn)
        defer { dead.store.close() }
        let t = try dead.lease.acquire(name: "dead", seconds: 1, marginSeconds: 0.2)
        dead.gate.grant(t, until: .infinity)
        for n in 1...40 as ClosedRange<UInt64> { try dead.control.initPayment(Fixture.info(n)) }
        usleep(1_100_000)
        var o = PostgresPaymentStore.Options(dsn: dsn)
        o.timeoutSeconds = 10
        let takers = try (0..<2).map { _ in try PostgresPaymentLease(store: o, timeoutSeconds: 10, takeOverBatch: 7) }
        let tokens = try takers.map { try $0.acquire(name: "taker", seconds: 60, marginSeconds: 5) }
        final class Taken: @unchecked Sendable {
            let lock = Lock()
            var byTaker: [[PaymentHash]] = [[], []]
            var batches: [Int] = []
            var errors: [String] = []
        }
        let taken = Taken()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            while true {
                do {
                    let batch = try takers[i].takeOver(tokens[i])
                    taken.lock.withLock { taken.byTaker[i] += batch.map(\.paymentHash); taken.batches.append(batch.count) }
                    if batch.isEmpty { return }
                } catch {
                    taken.lock.withLock { taken.errors.append("\(error)") }
                    return
                }
            }
        }
        XCTAssertEqual(taken.errors, [])
        XCTAssertLessThanOrEqual(taken.batches.max() ?? 0, 7)
        let all = taken.byTaker[0] + taken.byTaker[1]
        XCTAssertEqual(all.count, 40, "none taken twice")
        XCTAssertEqual(Set(all), Set((1...40 as ClosedRange<UInt64>).map(Fixture.hash)), "none missed")
    }

    func testWritersShareOneIndexSequenceOneCountAndOnePaymentPerHash() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        // No leases here: what several writers share regardless.
        let a = try Replica(dsn: dsn, fenced: false), b = try Replica(dsn: dsn, fenced: false)
        defer { a.store.close(); b.store.close() }
        var indexes: [UInt64] = []
        for n in 1...10 as ClosedRange<UInt64> {
            indexes.append(try (n % 2 == 0 ? a : b).control.initPayment(Fixture.info(n)).paymentIndex)
        }
        XCTAssertEqual(indexes, Array(1...10), "one sequence, in creation order, whichever writer")
        XCTAssertEqual(try a.store.paymentCount(), 10, "each writer's count adds to the other's")
        XCTAssertEqual(try b.store.paymentCount(), 10)

        // Both writers create the same 40 hashes at once: each hash exists once; the loser gets
        // LND's refusal for an Initiated payment.
        final class Outcomes: @unchecked Sendable {
            let lock = Lock()
            var ok = 0
            var refused: [PaymentError] = []
        }
        let out = Outcomes()
        DispatchQueue.concurrentPerform(iterations: 80) { i in
            let w = i % 2 == 0 ? a : b
            do {
                try w.control.initPayment(Fixture.info(UInt64(100 + i / 2)))
                out.lock.withLock { out.ok += 1 }
            } catch {
                out.lock.withLock { out.refused.append(error as? PaymentError ?? .storage("\(error)")) }
            }
        }
        XCTAssertEqual(out.ok, 40)
        XCTAssertEqual(out.refused.count, 40)
        XCTAssertEqual(Set(out.refused), [.alreadyExists])
        XCTAssertEqual(try a.store.paymentCount(), 50)
        let all = try a.store.queryPayments(PaymentsQuery(maxPayments: 1000, includeIncomplete: true))
        XCTAssertEqual(all.payments.count, 50)
        XCTAssertEqual(Set(all.payments.map(\.paymentIndex)).count, 50, "no index twice")
    }
}
