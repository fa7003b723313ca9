import Locks
import XCTest
import PostgreSQL
import PostgresTestSupport
@testable import Payments
@testable import PaymentStore

/// What is particular to the PostgreSQL store: migrations shared by several processes, refusing a
/// newer schema, a bad DSN, and carrying on after the server restarts.
final class PostgresPaymentStoreTests: XCTestCase {
    func testMigrationRecordedOnceWithSeveralOpeners() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        // Four stores open the empty database at once, as replicas starting together would.
        final class Opened: @unchecked Sendable {
            let lock = Lock()
            var stores: [PostgresPaymentStore] = []
            var errors: [String] = []
        }
        let opened = Opened()
        let threads = (0..<4).map { _ in
            Thread {
                do {
                    let s = try PostgresPaymentStore(options: PostgresPaymentStore.Options(dsn: dsn))
                    opened.lock.withLock { opened.stores.append(s) }
                } catch {
                    opened.lock.withLock { opened.errors.append(String(describing: error)) }
                }
            }
        }
        threads.forEach { $0.start() }
        while opened.lock.withLock({ opened.stores.count + opened.errors.count }) < 4 { usleep(10_000) }
        XCTAssertEqual(opened.errors, [])
        opened.stores.forEach { $0.close() }
        let c = try PostgresConnection(dsn: dsn)
        let r = try c.query("SELECT version FROM schema_migrations WHERE component = $1", [.text("payments")])
        XCTAssertEqual(r.count, PostgresPaymentSchema.migrations.count, "each version applied once")
        XCTAssertEqual(try PostgresPaymentSchema.version(c), PostgresPaymentSchema.currentVersion)
        // A database from a newer build is refused with a clear error.
        try c.query("INSERT INTO schema_migrations (component, version, applied_ns) VALUES ($1, $2, 0)", [.text("payments"), .int64(99)])
        XCTAssertThrowsError(try PostgresPaymentStore(options: PostgresPaymentStore.Options(dsn: dsn))) { e in
            XCTAssertTrue(String(describing: e).contains("newer than this build"), "\(e)")
        }
    }

    func testUnreachableServerIsAStorageError() {
        var o = PostgresPaymentStore.Options(dsn: "host=/nonexistent port=1 user=postgres")
        o.timeoutSeconds = 2
        XCTAssertThrowsError(try PostgresPaymentStore(options: o)) { e in
            guard case .storage = e as? PaymentError else { return XCTFail("\(e)") }
        }
    }

    /// A large group runs as two transactions at once, each with half of its payments (by the
    /// hash's last byte), committed together: a bad change on either side fails its group
    /// whole, and the writer's one-per-transaction retry fails only that change.
    func testLargeGroupsSplitOverTwoSessionsAndStayWhole() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        let store = try PostgresPaymentStore(options: PostgresPaymentStore.Options(dsn: dsn))
        defer { store.close() }
        final class Outcomes: @unchecked Sendable {
            let lock = Lock()
            var failed: [Int] = []
        }
        func snapshot(_ n: UInt64, index: UInt64) -> [PaymentWrite] {
            [.initPayment(PaymentSnapshot(info: Fixture.info(n), paymentIndex: index, attempts: [], failureReason: nil,
                                          lastUpdateNs: Int64(index)))]
        }
        /// Submits `items` while the writer is held in the completion of a change of its own (a
        /// payment numbered 100,000 + `held`), so they all wait for it and form one group.
        func submitHeld(_ items: [[PaymentWrite]], held: UInt64, _ outcomes: Outcomes) {
            let entered = Latch<Void>(), release = Latch<Void>()
            store.write(snapshot(100_000 + held, index: 100_000 + held)) { _, _ in
                entered.fulfil(())
                release.wait()
            }
            entered.wait()
            for (i, w) in items.enumerated() {
                store.write(w) { error, _ in if error != nil { outcomes.lock.withLock { outcomes.failed.append(i) } } }
            }
            release.fulfil(())
            store.flush()
        }
        // 400 new payments, then payment 7 again: the partner's half (odd last byte) fails, so
        // the half that ran cleanly is rolled back too, and the retry keeps every other payment.
        let first = Outcomes()
        submitHeld((1...400 as ClosedRange<UInt64>).map { snapshot($0, index: $0) } + [snapshot(7, index: 401)], held: 1, first)
        XCTAssertEqual(first.lock.withLock { first.failed }, [400], "only the repeated hash failed")
        XCTAssertEqual(try store.paymentCount(), 401)
        XCTAssertEqual(try store.fetchPayment(Fixture.hash(7))?.paymentIndex, 7)
        // 400 more, then payment 8 again: this session's half (even) fails this time.
        let second = Outcomes()
        submitHeld((401...800 as ClosedRange<UInt64>).map { snapshot($0, index: $0 + 1) } + [snapshot(8, index: 802)], held: 2, second)
        XCTAssertEqual(second.lock.withLock { second.failed }, [400], "only the repeated hash failed")
        XCTAssertEqual(try store.paymentCount(), 802)
        XCTAssertEqual(try store.fetchPayment(Fixture.hash(8))?.paymentIndex, 8)
        XCTAssertEqual(try store.fetchPayment(Fixture.hash(401))?.paymentIndex, 402)

        // 400 more, all good: the held change is one group, the 400 another, run as two
        // transactions (one per half), each stamping its own transaction id.
        let groupsBefore = store.committedBatches
        let third = Outcomes()
        submitHeld((801...1200 as ClosedRange<UInt64>).map { snapshot($0, index: $0 + 2) }, held: 3, third)
        XCTAssertEqual(third.lock.withLock { third.failed }, [])
        XCTAssertEqual(try store.paymentCount(), 1203)
        XCTAssertEqual(store.committedBatches - groupsBefore, 2)
        let c = try PostgresConnection(dsn: dsn)
        let xids = try c.query("SELECT count(DISTINCT change_xid) FROM payments WHERE payment_index BETWEEN 803 AND 1202")
        XCTAssertEqual(try xids.int64(0, 0), 2, "one group, two transactions")
        for n in [801, 1000, 1200] as [UInt64] {
            XCTAssertEqual(try store.fetchPayment(Fixture.hash(n))?.paymentIndex, n + 2)
        }
    }

    /// The server restarts under an open store: the calls that meet the lost sessions fail with
    /// a storage error (nothing is acknowledged that did not commit), later ones reconnect.
    func testCarriesOnAfterServerRestart() throws {
        let cluster = try PostgresCluster()
        var o = PostgresPaymentStore.Options(dsn: cluster.dsn())
        o.timeoutSeconds = 10
        let store = try PostgresPaymentStore(options: o)
        defer { store.close() }
        let tower = ControlTower(store: store)
        let control = PaymentControl(store: store, tower: tower)
        try control.initPayment(Fixture.info(1))
        XCTAssertNotNil(try store.fetchPayment(Fixture.hash(1)))
        cluster.stop(mode: "immediate")
        XCTAssertThrowsError(try control.initPayment(Fixture.info(2)), "no acknowledgement while the server is down")
        XCTAssertThrowsError(try store.fetchPayment(Fixture.hash(1)))
        try cluster.start()
        var reconnected = false
        for _ in 0..<3 where !reconnected {
            reconnected = (try? store.fetchPayment(Fixture.hash(1))) != nil
        }
        XCTAssertTrue(reconnected, "readers reconnect")
        // Payment 2's init was not read first (the writer screens new hashes), so it took index
        // 2 before its write failed: a gap, as LND's sequence has (deleted payments); never a reuse.
        XCTAssertEqual(try control.initPayment(Fixture.info(3)).paymentIndex, 3, "the writer reconnects; an index is never reused")
        XCTAssertEqual(try store.fetchPayment(Fixture.hash(3))?.status, .initiated)
        XCTAssertNil(try store.fetchPayment(Fixture.hash(2)), "the change that failed was not applied")
    }
}
