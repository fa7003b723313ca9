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
        XCTAssertEqual(try control.initPayment(Fixture.info(3)).paymentIndex, 2, "the writer reconnects; the failed change used no index")
        XCTAssertEqual(try store.fetchPayment(Fixture.hash(3))?.status, .initiated)
        XCTAssertNil(try store.fetchPayment(Fixture.hash(2)), "the change that failed was not applied")
    }
}
