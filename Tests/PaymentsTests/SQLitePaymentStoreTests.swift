import XCTest
import SQLite
@testable import Payments
@testable import PaymentStore

/// What is particular to the SQLite store (its file, WAL mode, migrations, query plans, codec).
/// The behaviour both backends share is in `PaymentStoreConformance`.
final class SQLitePaymentStoreTests: XCTestCase {


    func testOpenSetsWALAndPrivateMode() throws {
        let h = try Harness()
        let db = try Database(path: h.path)
        let st = try db.prepare("PRAGMA journal_mode")
        XCTAssertTrue(try st.step())
        XCTAssertEqual(st.text(0), "wal")
        let attrs = try FileManager.default.attributesOfItem(atPath: h.path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(SQLitePaymentStore.defaultPath(dataDirectory: "/d", network: "testnet"), "/d/data/graph/testnet/payments.sqlite")
    }

    func testMigrationFromVersion1() throws {
        let dir = Fixture.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/payments.sqlite"
        do {
            // A version-1 file with one payment, written as version 1 would.
            let db = try Database(path: path)
            try PaymentSchema.migrate(db, upTo: 1)
            XCTAssertEqual(try PaymentSchema.version(db), 1)
            try db.execute("""
                INSERT INTO payments (hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records,
                failure_reason, status, last_update_ns)
                VALUES (X'\(Fixture.hash(5).hex)', 41, 1000, 5000000000, X'', X'0100', NULL, 1, 123)
                """)
        }
        let h = try Harness(dir: dir)
        let db = try Database(path: path)
        XCTAssertEqual(try PaymentSchema.version(db), PaymentSchema.currentVersion)
        XCTAssertEqual(try h.store.paymentCount(), 1)
        XCTAssertEqual(h.store.highWater.paymentIndex, 41)
        XCTAssertEqual(h.store.highWater.updateStamp, 123)
        let p = try XCTUnwrap(h.control.fetchPayment(Fixture.hash(5)))
        XCTAssertEqual(p.paymentIndex, 41)
        XCTAssertEqual(p.status, .initiated)
        XCTAssertEqual(try h.control.initPayment(Fixture.info(6)).paymentIndex, 42, "sequence continues after migration")
        // Opening a file from a newer build fails cleanly.
        try db.execute("INSERT INTO schema_migrations (version, applied_ns) VALUES (99, 0)")
        h.store.close()
        XCTAssertThrowsError(try SQLitePaymentStore(path: path))
    }

    /// Point 2: the hot reads — by hash, in-flight payments, the TrackPayments replay, every shape
    /// of ListPayments page (offset or not, reversed, incomplete or not, date ranges) — are served
    /// by an index: no statement scans every payment (LND's startup and ListPayments do, lnd
    /// #9729 / #9015). Checked on SQLite's own query plans for the statements the store runs.
    func testHotReadsAreServedByIndexesNotFullScans() throws {
        let h = try Harness()
        let db = try Database(path: h.path)
        func plan(_ sql: String) throws -> [String] {
            let st = try db.prepare("EXPLAIN QUERY PLAN " + sql)
            var lines: [String] = []
            while try st.step() { lines.append(st.text(3)) }
            return lines
        }
        var statements = [SQLitePaymentStore.inFlightSQL, SQLitePaymentStore.updatedSinceSQL,
                          PaymentReader.fetchByHashSQL, PaymentReader.attemptsSQL]
        for reversed in [false, true] {
            for incomplete in [false, true] {
                for offset: UInt64 in [0, 5] {
                    for (start, end): (UInt64, UInt64) in [(0, 0), (1_700_000_000, 0), (0, 1_800_000_000), (1_700_000_000, 1_800_000_000)] {
                        statements.append(SQLitePaymentStore.querySQL(PaymentsQuery(
                            indexOffset: offset, reversed: reversed, includeIncomplete: incomplete,
                            creationDateStart: start, creationDateEnd: end)))
                    }
                }
            }
        }
        for sql in statements {
            let lines = try plan(sql)
            XCTAssertFalse(lines.isEmpty, sql)
            for line in lines {
                // "SEARCH t USING ...": an index lookup or range; "SCAN t USING INDEX": an ordered
                // index walk that the statement's LIMIT ends; a bare "SCAN t" reads every row.
                XCTAssertFalse(line.hasPrefix("SCAN") && !line.contains("USING"), "full scan: \(line) in \(sql)")
            }
        }
    }







    func testCodecRejectsCorruptBlobs() {
        let good = PaymentCodec.encode(Fixture.route(amt: 5))
        XCTAssertEqual(try PaymentCodec.decodeRoute(good), Fixture.route(amt: 5))
        for cut in 0..<good.count {
            XCTAssertThrowsError(try PaymentCodec.decodeRoute(Array(good.prefix(cut))))
        }
        XCTAssertThrowsError(try PaymentCodec.decodeRoute([2] + good.dropFirst()))
        XCTAssertThrowsError(try PaymentCodec.decodeFailure([1, 9, 0, 0], failTimeNs: 0))
        XCTAssertThrowsError(try PaymentCodec.decodeRecords([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))
    }
}

extension SQLitePaymentStoreTests {
    func testEngineOpenCloseAndClosedErrors() throws {
        let dir = Fixture.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/data/graph/regtest", withIntermediateDirectories: true)
        let path = SQLitePaymentStore.defaultPath(dataDirectory: dir, network: "regtest")
        let engine = try PaymentEngine(path: path, keepFailedAttempts: false)
        XCTAssertFalse(engine.control.options.keepFailedAttempts)
        try engine.control.initPayment(Fixture.info(1))
        engine.close()
        XCTAssertPaymentError(try engine.control.initPayment(Fixture.info(2)), "payment store is closed")
        XCTAssertPaymentError(try engine.store.fetchPayment(Fixture.hash(1)), "payment store is closed")
        let again = try PaymentEngine(path: path)
        XCTAssertEqual(try again.control.fetchPayment(Fixture.hash(1))?.status, .initiated)
        XCTAssertEqual(try again.control.inFlightPayments().count, 1)
        again.close()
    }
}
