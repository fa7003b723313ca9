import XCTest
import SQLite
@testable import Payments
@testable import PaymentStore

/// The SQLite store on a real file in a temp dir: round trips, reopen, migration, ListPayments,
/// deletes, pruning.
final class PaymentStoreTests: XCTestCase {

    func testRoundTripOfEveryFieldAcrossReopen() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        var a = Fixture.attempt(1, amt: 4_000, mpp: MPPRecord(paymentAddr: [UInt8](repeating: 9, count: 32), totalAmtMsat: 10_000))
        a.route.hops[1].ampRecord = AMPRecord(rootShare: [1], setID: [2], childIndex: 3)
        a.route.hops[1].blindingPoint = [5]
        a.route.firstHopAmountMsat = 4_100
        a.route.customChannelData = [8, 8]
        a.route.firstHopWireCustomRecords = [65_536: [1]]
        a.hash = Fixture.hash(77)
        try h.control.registerAttempt(hash, a)
        try h.control.failAttempt(hash, attemptID: 1, Fixture.failure())
        try h.control.registerAttempt(hash, Fixture.attempt(2, amt: 6_000, mpp: a.route.hops[1].mppRecord))
        let unreadable = HTLCFailure(failTimeNs: 99, reason: .unreadable, message: nil, failureSourceIndex: 2)
        try h.control.failAttempt(hash, attemptID: 2, unreadable)
        let want = try h.control.failPayment(hash, reason: .insufficientBalance)
        try h.reopen()
        let got = try XCTUnwrap(h.control.fetchPayment(hash))
        XCTAssertEqual(got, want)
        XCTAssertEqual(got.attempts[0].info, a)
        XCTAssertEqual(got.attempts[0].failure, Fixture.failure())
        XCTAssertEqual(got.attempts[1].failure, unreadable)
        XCTAssertEqual(got.info.firstHopCustomRecords, [65_537: [1, 2]])
        XCTAssertEqual(got.status, .failed)
        XCTAssertEqual(got.failureReason, .insufficientBalance)
    }

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

    /// 30 payments, creation one second apart; every third one succeeds.
    private func populated() throws -> Harness {
        let h = try Harness()
        for n in 1...30 as ClosedRange<UInt64> {
            let hash = Fixture.hash(n)
            try h.control.initPayment(Fixture.info(n, creationNs: Int64(1_000 + n) * 1_000_000_000))
            if n % 3 == 0 {
                try h.control.registerAttempt(hash, Fixture.attempt(n))
                try h.control.settleAttempt(hash, attemptID: n, Fixture.settle(n))
            }
        }
        return h
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

    func testListPaymentsPaging() throws {
        let h = try populated()
        let c = h.control
        var q = PaymentsQuery(indexOffset: 0, maxPayments: 7, includeIncomplete: true, countTotalPayments: true)
        var seen: [UInt64] = []
        while true {
            let page = try c.listPayments(q)
            if page.payments.isEmpty { break }
            XCTAssertEqual(page.totalNumPayments, 30)
            XCTAssertEqual(page.firstIndexOffset, page.payments.first?.paymentIndex)
            XCTAssertEqual(page.lastIndexOffset, page.payments.last?.paymentIndex)
            seen += page.payments.map(\.paymentIndex)
            q.indexOffset = page.lastIndexOffset
        }
        XCTAssertEqual(seen, Array(1...30))
        // Default page size is 100; include_incomplete=false returns only Succeeded.
        let succeeded = try c.listPayments(PaymentsQuery())
        XCTAssertEqual(succeeded.payments.map(\.paymentIndex), [3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
        XCTAssertTrue(succeeded.payments.allSatisfy { $0.status == .succeeded })
        XCTAssertEqual(succeeded.totalNumPayments, 0, "not counted unless asked")
        XCTAssertEqual(try c.listPayments(PaymentsQuery(indexOffset: 30, includeIncomplete: true)).payments.count, 0)
        let empty = try c.listPayments(PaymentsQuery(indexOffset: 30, includeIncomplete: true))
        XCTAssertEqual([empty.firstIndexOffset, empty.lastIndexOffset], [0, 0])
    }

    func testListPaymentsReversed() throws {
        let h = try populated()
        var q = PaymentsQuery(maxPayments: 4, reversed: true, includeIncomplete: true)
        let newest = try h.control.listPayments(q)
        XCTAssertEqual(newest.payments.map(\.paymentIndex), [27, 28, 29, 30], "reversed pages come back ascending")
        XCTAssertEqual(newest.firstIndexOffset, 27)
        q.indexOffset = newest.firstIndexOffset
        XCTAssertEqual(try h.control.listPayments(q).payments.map(\.paymentIndex), [23, 24, 25, 26])
        q.indexOffset = 3
        XCTAssertEqual(try h.control.listPayments(q).payments.map(\.paymentIndex), [1, 2])
        let okOnly = try h.control.listPayments(PaymentsQuery(maxPayments: 2, reversed: true))
        XCTAssertEqual(okOnly.payments.map(\.paymentIndex), [27, 30])
    }

    func testListPaymentsDateRangeAndOmitHops() throws {
        let h = try populated()
        // creation seconds are 1001...1030; inclusive at both ends.
        let page = try h.control.listPayments(PaymentsQuery(includeIncomplete: true, creationDateStart: 1_005, creationDateEnd: 1_008))
        XCTAssertEqual(page.payments.map(\.paymentIndex), [5, 6, 7, 8])
        let from = try h.control.listPayments(PaymentsQuery(includeIncomplete: true, creationDateStart: 1_028))
        XCTAssertEqual(from.payments.map(\.paymentIndex), [28, 29, 30])
        let until = try h.control.listPayments(PaymentsQuery(includeIncomplete: true, creationDateEnd: 1_002))
        XCTAssertEqual(until.payments.map(\.paymentIndex), [1, 2])
        XCTAssertPaymentError(try h.control.listPayments(PaymentsQuery(creationDateStart: 1_010, creationDateEnd: 1_010)),
                              "start date(1010) must be before end date(1010)", code: 2)
        XCTAssertPaymentError(try h.control.listPayments(PaymentsQuery(creationDateStart: 1_011, creationDateEnd: 1_010)),
                              "start date(1011) must be before end date(1010)")
        let omitted = try h.control.listPayments(PaymentsQuery(omitHops: true))
        XCTAssertTrue(omitted.payments.allSatisfy { $0.attempts.allSatisfy { $0.route.hops.isEmpty } })
        XCTAssertEqual(omitted.payments.first?.feesMsat, 1_000, "fees survive omit_hops")
    }

    func testDeleteAllPaymentsRules() throws {
        let h = try populated()
        let c = h.control
        // 31: in flight with a failed attempt; 32: failed payment with a failed attempt.
        try c.initPayment(Fixture.info(31))
        try c.registerAttempt(Fixture.hash(31), Fixture.attempt(100))
        try c.failAttempt(Fixture.hash(31), attemptID: 100, Fixture.failure())
        try c.registerAttempt(Fixture.hash(31), Fixture.attempt(101))
        try c.initPayment(Fixture.info(32))
        try c.registerAttempt(Fixture.hash(32), Fixture.attempt(102))
        try c.failAttempt(Fixture.hash(32), attemptID: 102, Fixture.failure())
        try c.failPayment(Fixture.hash(32), reason: .noRoute)

        XCTAssertPaymentError(try c.deleteAllPayments(allPayments: false, failedPaymentsOnly: false, failedHtlcsOnly: false),
            "at least one of the options `all_payments`, `failed_payments_only`, or `failed_htlcs_only` must be set to true", code: 2)
        XCTAssertPaymentError(try c.deleteAllPayments(allPayments: true, failedPaymentsOnly: false, failedHtlcsOnly: true),
            "`all_payments` cannot be set to true while either `failed_payments_only` or `failed_htlcs_only` is also set to true")
        // failed_htlcs_only: failed attempts of non-in-flight payments go; 0 is reported.
        XCTAssertEqual(try c.deleteAllPayments(allPayments: false, failedPaymentsOnly: false, failedHtlcsOnly: true),
                       "0 payments deleted, failed_htlcs_only=true")
        XCTAssertEqual(try c.fetchPayment(Fixture.hash(32))?.attempts.count, 0)
        XCTAssertEqual(try c.fetchPayment(Fixture.hash(31))?.attempts.count, 2, "in-flight payments untouched")
        // failed_payments_only: only payment 32.
        XCTAssertEqual(try c.deletePayments(failedOnly: true, failedHtlcsOnly: false), 1)
        XCTAssertNil(try c.fetchPayment(Fixture.hash(32)))
        // all: every removable payment (Initiated + Succeeded); the in-flight one stays.
        XCTAssertEqual(try c.deleteAllPayments(allPayments: true, failedPaymentsOnly: false, failedHtlcsOnly: false),
                       "30 payments deleted, failed_htlcs_only=false")
        try h.reopen()
        XCTAssertEqual(try h.store.paymentCount(), 1)
        XCTAssertEqual(try h.control.inFlightPayments().map(\.paymentHash), [Fixture.hash(31)])
        // The working state followed: a deleted hash can start again.
        XCTAssertEqual(try h.control.initPayment(Fixture.info(3)).status, .initiated)
    }

    func testDeletePaymentFailedHtlcsOnly() throws {
        let h = try Harness()
        let c = h.control, hash = Fixture.hash(1)
        try c.initPayment(Fixture.info(1))
        try c.registerAttempt(hash, Fixture.attempt(1))
        try c.failAttempt(hash, attemptID: 1, Fixture.failure())
        try c.registerAttempt(hash, Fixture.attempt(2))
        try c.settleAttempt(hash, attemptID: 2, Fixture.settle(1))
        let before = try XCTUnwrap(c.fetchPayment(hash))
        try c.deletePayment(hash, failedHtlcsOnly: true)
        let after = try XCTUnwrap(c.fetchPayment(hash))
        XCTAssertEqual(after.attempts.map(\.attemptID), [2])
        XCTAssertGreaterThan(after.version, before.version, "a changed snapshot has a new version")
        try h.reopen()
        XCTAssertEqual(try h.control.fetchPayment(hash), after)
    }

    func testFailedAttemptsKeptByDefaultAndPrunedOnOption() throws {
        for keep in [true, false] {
            var o = PaymentControl.Options()
            o.keepFailedAttempts = keep
            let h = try Harness(control: o)
            let c = h.control, hash = Fixture.hash(1)
            try c.initPayment(Fixture.info(1))
            let mailbox = try h.tower.subscribePayment(hash)
            try c.registerAttempt(hash, Fixture.attempt(1))
            try c.failAttempt(hash, attemptID: 1, Fixture.failure())
            try c.registerAttempt(hash, Fixture.attempt(2))
            let final = try c.settleAttempt(hash, attemptID: 2, Fixture.settle(1))
            XCTAssertEqual(final.attempts.count, 2, "the terminal update still shows the failed attempt")
            h.store.flush()
            var last: PaymentSnapshot?
            while let s = mailbox.poll() { last = s }
            XCTAssertEqual(last, final, "pruning sends no notification")
            try h.reopen()
            let stored = try XCTUnwrap(h.control.fetchPayment(hash))
            XCTAssertEqual(stored.attempts.map(\.attemptID), keep ? [1, 2] : [2])
            XCTAssertEqual(stored.status, .succeeded)
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

extension PaymentStoreTests {
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
