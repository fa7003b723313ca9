import Locks
import XCTest
@testable import Payments
@testable import PaymentStore

/// The payment store's behaviour, the same on every backend (as LND runs its payment DB tests on
/// bbolt, SQLite and Postgres): round trips of every field across a reopen, ListPayments paging,
/// reversal, date ranges and omit_hops, the DeleteAllPayments/DeletePayment rules, pruning of
/// failed attempts, the TrackPayments replay index, retries of failed payments, counters and
/// high-water marks restored at open, group commit and closed-store errors.
///
/// This class runs the suite on SQLite; `PostgresPaymentStoreConformance` runs it unchanged on a
/// private PostgreSQL cluster. Tests open stores only through `harness(...)`.
class PaymentStoreConformance: XCTestCase {
    /// The backend every test of this class runs on.
    class var backend: StoreBackend { .sqlite }

    func harness(control: PaymentControl.Options = PaymentControl.Options()) throws -> Harness {
        try Harness(backend: Self.backend, control: control)
    }

    func testRoundTripOfEveryFieldAcrossReopen() throws {
        let h = try harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        let a = Fixture.richAttempt()
        try h.control.registerAttempt(hash, a)
        try h.control.failAttempt(hash, attemptID: 1, Fixture.failure())
        try h.control.registerAttempt(hash, Fixture.attempt(2, amt: 6_000, mpp: a.route.hops[1].mppRecord))
        let unreadable = HTLCFailInfo(failTimeNs: 99, reason: .unreadable, message: nil, failureSourceIndex: 2)
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
    /// 30 payments, creation one second apart; every third one succeeds.
    private func populated() throws -> Harness {
        let h = try harness()
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
        let h = try harness()
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
            let h = try harness(control: o)
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
    func testReplayIndexReturnsUpdatesInStampOrderFromASince() throws {
        let h = try harness()
        let c = h.control
        for n in 1...5 as ClosedRange<UInt64> { try c.initPayment(Fixture.info(n)) }
        try c.registerAttempt(Fixture.hash(2), Fixture.attempt(1))
        try c.failPayment(Fixture.hash(4), reason: .noRoute)
        let all = try h.store.fetchPaymentsUpdated(since: 0, limit: 100)
        XCTAssertEqual(all.count, 5)
        XCTAssertEqual(all.map(\.lastUpdateNs), all.map(\.lastUpdateNs).sorted(), "ascending update stamps")
        XCTAssertEqual(all.suffix(2).map(\.paymentHash), [Fixture.hash(2), Fixture.hash(4)], "the latest changes come last")
        let stamp = try XCTUnwrap(c.fetchPayment(Fixture.hash(2))).lastUpdateNs
        let since = try h.store.fetchPaymentsUpdated(since: stamp, limit: 100)
        XCTAssertEqual(since.map(\.paymentHash), [Fixture.hash(2), Fixture.hash(4)], "since is inclusive")
        XCTAssertEqual(since.first?.attempts.count, 1, "replayed snapshots carry their attempts")
        XCTAssertEqual(try h.store.fetchPaymentsUpdated(since: 0, limit: 2).count, 2, "the limit holds")
        XCTAssertEqual(h.store.highWater.updateStamp, try XCTUnwrap(c.fetchPayment(Fixture.hash(4))).lastUpdateNs)
        try h.reopen()
        XCTAssertEqual(try h.store.fetchPaymentsUpdated(since: stamp, limit: 100), since, "the index survives a reopen")
    }

    func testRetryOfAFailedPaymentGetsANewIndexAndDropsOldAttempts() throws {
        let h = try harness()
        let c = h.control, hash = Fixture.hash(1)
        try c.initPayment(Fixture.info(1))
        try c.initPayment(Fixture.info(2))
        try c.registerAttempt(hash, Fixture.attempt(1))
        try c.failAttempt(hash, attemptID: 1, Fixture.failure())
        try c.failPayment(hash, reason: .noRoute)
        let retried = try c.initPayment(Fixture.info(1, valueMsat: 20_000))
        XCTAssertEqual(retried.paymentIndex, 3)
        XCTAssertEqual(retried.attempts.count, 0)
        XCTAssertNil(retried.failureReason)
        try h.reopen()
        let stored = try XCTUnwrap(h.control.fetchPayment(hash))
        XCTAssertEqual(stored, retried)
        XCTAssertEqual(stored.info.valueMsat, 20_000)
        XCTAssertEqual(try h.store.paymentCount(), 2, "a retry is not a new payment")
        XCTAssertEqual(h.store.highWater.paymentIndex, 3)
        XCTAssertEqual(try h.control.initPayment(Fixture.info(3)).paymentIndex, 4, "the sequence continues after a reopen")
        // A payment in flight or succeeded cannot be started again.
        XCTAssertThrowsError(try h.control.initPayment(Fixture.info(1)))
    }

    /// Payments stored but unknown to the control (a fresh one after a reopen): an init gets LND's
    /// refusal for the stored status, or restarts a Failed payment, exactly as for a payment in
    /// memory. (On PostgreSQL such an init is not read first: the writer screens its hash, and a
    /// refusal makes the control read and decide again.) Changes queued behind an init that has
    /// not committed build on the stored payment when there is one, else on that init.
    func testInitOfAStoredPaymentUnknownToTheControl() throws {
        let h = try harness()
        for n in 1...4 as ClosedRange<UInt64> { try h.control.initPayment(Fixture.info(n)) }
        try h.control.registerAttempt(Fixture.hash(2), Fixture.attempt(2))
        try h.control.registerAttempt(Fixture.hash(3), Fixture.attempt(3))
        try h.control.settleAttempt(Fixture.hash(3), attemptID: 3, Fixture.settle(3))
        try h.control.failPayment(Fixture.hash(4), reason: .noRoute)
        try h.reopen()
        let c = h.control
        XCTAssertPaymentError(try c.initPayment(Fixture.info(1)), "payment already exists", code: 6)
        XCTAssertPaymentError(try c.initPayment(Fixture.info(2)), "payment is in transition", code: 6)
        XCTAssertPaymentError(try c.initPayment(Fixture.info(3)), "invoice is already paid", code: 6)
        let restarted = try c.initPayment(Fixture.info(4, valueMsat: 30_000))
        XCTAssertEqual(restarted.status, .initiated)
        XCTAssertGreaterThan(restarted.paymentIndex, 4)
        XCTAssertEqual(try h.store.fetchPayment(Fixture.hash(4)), restarted)
        XCTAssertEqual(try h.store.fetchPayment(Fixture.hash(3))?.status, .succeeded, "a refused init changed nothing")
        XCTAssertEqual(try h.store.paymentCount(), 4)

        // Asynchronous: an attempt queued right behind an init, before the init commits.
        try h.reopen()
        let c2 = h.control
        let initNew = Latch<Result<PaymentSnapshot, PaymentError>>(), attemptNew = Latch<Result<PaymentSnapshot, PaymentError>>()
        let initPaid = Latch<Result<PaymentSnapshot, PaymentError>>(), attemptPaid = Latch<Result<PaymentSnapshot, PaymentError>>()
        c2.initPayment(Fixture.info(9)) { initNew.fulfil($0) }
        c2.registerAttempt(Fixture.hash(9), Fixture.attempt(9)) { attemptNew.fulfil($0) }
        c2.initPayment(Fixture.info(3)) { initPaid.fulfil($0) }
        c2.registerAttempt(Fixture.hash(3), Fixture.attempt(10)) { attemptPaid.fulfil($0) }
        XCTAssertEqual(try initNew.wait().get().status, .initiated)
        XCTAssertEqual(try attemptNew.wait().get().status, .inFlight)
        XCTAssertPaymentError(try initPaid.wait().get(), "invoice is already paid")
        XCTAssertThrowsError(try attemptPaid.wait().get(), "a succeeded payment takes no attempt")
        XCTAssertEqual(try h.store.fetchPayment(Fixture.hash(9))?.attempts.map(\.attemptID), [9])
        XCTAssertEqual(try h.store.fetchPayment(Fixture.hash(3))?.attempts.map(\.attemptID), [3])
    }

    func testCountersInFlightAndHighWaterRestoredAtOpen() throws {
        let h = try harness()
        let c = h.control
        for n in 1...6 as ClosedRange<UInt64> { try c.initPayment(Fixture.info(n)) }
        try c.registerAttempt(Fixture.hash(2), Fixture.attempt(1))
        try c.registerAttempt(Fixture.hash(3), Fixture.attempt(2))
        try c.settleAttempt(Fixture.hash(3), attemptID: 2, Fixture.settle(3))
        try c.failPayment(Fixture.hash(4), reason: .timeout)
        try c.deletePayment(Fixture.hash(4), failedHtlcsOnly: false)
        try h.reopen()
        XCTAssertEqual(try h.store.paymentCount(), 5)
        XCTAssertEqual(h.store.highWater.paymentIndex, 6)
        XCTAssertEqual(try h.control.inFlightPayments().map(\.paymentHash), [1, 2, 5, 6].map { Fixture.hash($0) })
        XCTAssertNil(try h.control.fetchPayment(Fixture.hash(4)))
        XCTAssertEqual(try h.control.fetchPayment(Fixture.hash(3))?.status, .succeeded)
        XCTAssertNil(try h.store.fetchPayment(Fixture.hash(99)))
    }

    /// Many changes submitted without waiting for each other (the writer groups them into
    /// transactions): completions run in submission order, and a failing change fails alone.
    func testGroupCommitKeepsOrderAndIsolatesAFailingChange() throws {
        let h = try harness()
        let n = 200
        final class Outcomes: @unchecked Sendable {
            let lock = Lock()
            var order: [Int] = []
            var failed: [Int] = []
        }
        let outcomes = Outcomes()
        var writes: [[PaymentWrite]] = (1...n).map { i in
            [.initPayment(PaymentSnapshot(info: Fixture.info(UInt64(i)), paymentIndex: UInt64(i), attempts: [],
                                          failureReason: nil, lastUpdateNs: Int64(i)))]
        }
        // Payment 7 again, under a new index: the unique hash rejects it, and only it.
        writes.insert([.initPayment(PaymentSnapshot(info: Fixture.info(7), paymentIndex: UInt64(n + 1), attempts: [],
                                                    failureReason: nil, lastUpdateNs: Int64(n + 1)))], at: 100)
        for (i, w) in writes.enumerated() {
            h.store.write(w) { error, _ in
                outcomes.lock.withLock {
                    outcomes.order.append(i)
                    if error != nil { outcomes.failed.append(i) }
                }
            }
        }
        h.store.flush()
        outcomes.lock.withLock {
            XCTAssertEqual(outcomes.order, Array(0..<writes.count), "completions in submission order")
            XCTAssertEqual(outcomes.failed, [100], "only the duplicate failed")
        }
        XCTAssertEqual(try h.store.paymentCount(), UInt64(n))
        XCTAssertEqual(try h.store.fetchPayment(Fixture.hash(7))?.paymentIndex, 7)
        XCTAssertEqual(try h.store.queryPayments(PaymentsQuery(maxPayments: 1_000, includeIncomplete: true)).payments.count, n)
        XCTAssertEqual(h.store.highWater.paymentIndex, UInt64(n), "the failed change moved no counter")
    }

    func testClosedStoreFailsCleanly() throws {
        let h = try harness()
        try h.control.initPayment(Fixture.info(1))
        h.store.close()
        h.store.close()
        XCTAssertPaymentError(try h.control.initPayment(Fixture.info(2)), "payment store is closed")
        XCTAssertPaymentError(try h.store.fetchPayment(Fixture.hash(1)), "payment store is closed")
        try h.reopen()
        XCTAssertEqual(try h.control.fetchPayment(Fixture.hash(1))?.status, .initiated)
    }
}

/// `PaymentStoreConformance`, unchanged, on PostgreSQL (a fresh database per test on the test
/// process's private cluster; the tests fail if PostgreSQL cannot start).
///
/// swift-corelibs-xctest discovers only the test methods a class declares itself, so every
/// conformance test is listed here once, forwarding to the shared body: a test added above must be
/// added here too.
final class PostgresPaymentStoreConformance: PaymentStoreConformance {
    override class var backend: StoreBackend { .postgres }

    override func testRoundTripOfEveryFieldAcrossReopen() throws { try super.testRoundTripOfEveryFieldAcrossReopen() }
    override func testListPaymentsPaging() throws { try super.testListPaymentsPaging() }
    override func testListPaymentsReversed() throws { try super.testListPaymentsReversed() }
    override func testListPaymentsDateRangeAndOmitHops() throws { try super.testListPaymentsDateRangeAndOmitHops() }
    override func testDeleteAllPaymentsRules() throws { try super.testDeleteAllPaymentsRules() }
    override func testDeletePaymentFailedHtlcsOnly() throws { try super.testDeletePaymentFailedHtlcsOnly() }
    override func testFailedAttemptsKeptByDefaultAndPrunedOnOption() throws { try super.testFailedAttemptsKeptByDefaultAndPrunedOnOption() }
    override func testReplayIndexReturnsUpdatesInStampOrderFromASince() throws { try super.testReplayIndexReturnsUpdatesInStampOrderFromASince() }
    override func testRetryOfAFailedPaymentGetsANewIndexAndDropsOldAttempts() throws { try super.testRetryOfAFailedPaymentGetsANewIndexAndDropsOldAttempts() }
    override func testInitOfAStoredPaymentUnknownToTheControl() throws { try super.testInitOfAStoredPaymentUnknownToTheControl() }
    override func testCountersInFlightAndHighWaterRestoredAtOpen() throws { try super.testCountersInFlightAndHighWaterRestoredAtOpen() }
    override func testGroupCommitKeepsOrderAndIsolatesAFailingChange() throws { try super.testGroupCommitKeepsOrderAndIsolatesAFailingChange() }
    override func testClosedStoreFailsCleanly() throws { try super.testClosedStoreFailsCleanly() }
}
