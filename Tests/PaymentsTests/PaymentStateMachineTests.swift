import XCTest
@testable import Payments
@testable import PaymentStore

/// Table tests of every transition and guard, through the real control + SQLite store path,
/// with LND's exact strings and gRPC codes.
final class PaymentStateMachineTests: XCTestCase {
    var h: Harness!
    override func setUpWithError() throws { h = try Harness() }
    override func tearDown() { h = nil }

    var c: PaymentControl { h.control }
    let hash = Fixture.hash(1)
    func addr(_ b: UInt8) -> [UInt8] { [UInt8](repeating: b, count: 32) }

    // MARK: Status derivation (§6), case by case

    func testStatusDerivationTable() {
        let a = HTLCAttempt(info: Fixture.attempt(1))
        var settled = a; settled.settle = Fixture.settle(1)
        var failed = a; failed.failure = Fixture.failure()
        let cases: [([HTLCAttempt], FailureReason?, PaymentStatus)] = [
            ([], nil, .initiated),
            ([], .timeout, .failed),
            ([a], nil, .inFlight),
            ([a], .noRoute, .inFlight),
            ([settled, a], nil, .inFlight),
            ([settled, a], .error, .inFlight),
            ([settled], nil, .succeeded),
            ([settled], .canceled, .succeeded),
            ([settled, failed], nil, .succeeded),
            ([failed], nil, .inFlight),
            ([failed], .insufficientBalance, .failed),
            ([failed, failed], .incorrectPaymentDetails, .failed),
        ]
        for (i, (attempts, reason, want)) in cases.enumerated() {
            XCTAssertEqual(PaymentStatus.derive(attempts: attempts, failureReason: reason), want, "case \(i)")
        }
        XCTAssertEqual(PaymentStatus.initiated.rpcValue(useStatusInitiated: false), 1)
        XCTAssertEqual(PaymentStatus.initiated.rpcValue(useStatusInitiated: true), 4)
        XCTAssertEqual(PaymentStatus.failed.rpcValue(useStatusInitiated: true), 3)
        XCTAssertEqual(FailureReason.timeout.rpcValue, 1)
        XCTAssertEqual(FailureReason.canceled.dbValue, 5)
    }

    // MARK: InitPayment

    func testInitPaymentGuards() throws {
        let s = try c.initPayment(Fixture.info(1))
        XCTAssertEqual(s.status, .initiated)
        XCTAssertEqual(s.paymentIndex, 1)
        XCTAssertPaymentError(try c.initPayment(Fixture.info(1)), "payment already exists", code: 6)
        try c.registerAttempt(hash, Fixture.attempt(1))
        XCTAssertPaymentError(try c.initPayment(Fixture.info(1)), "payment is in transition", code: 6)
        try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        XCTAssertPaymentError(try c.initPayment(Fixture.info(1)), "invoice is already paid", code: 6)
    }

    func testRetryOfFailedPaymentWipesAttemptsAndRenewsIndex() throws {
        try c.initPayment(Fixture.info(1))
        try c.initPayment(Fixture.info(2))
        try c.registerAttempt(hash, Fixture.attempt(1))
        try c.failAttempt(hash, attemptID: 1, Fixture.failure())
        let failed = try c.failPayment(hash, reason: .noRoute)
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(failed.paymentIndex, 1)
        let retried = try c.initPayment(Fixture.info(1, valueMsat: 10_000))
        XCTAssertEqual(retried.status, .initiated)
        XCTAssertEqual(retried.paymentIndex, 3, "a retry gets a new payment_index")
        XCTAssertTrue(retried.attempts.isEmpty)
        XCTAssertNil(retried.failureReason)
        try h.reopen()
        let loaded = try XCTUnwrap(h.control.fetchPayment(hash))
        XCTAssertEqual(loaded, retried)
        let page = try h.control.listPayments(PaymentsQuery(includeIncomplete: true))
        XCTAssertEqual(page.payments.map(\.paymentIndex), [2, 3], "the old index entry is gone")
    }

    // MARK: RegisterAttempt

    func testRegisterAttemptGuards() throws {
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(1)), "payment isn't initiated", code: 5)
        try c.initPayment(Fixture.info(1))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(1, amt: 9_000)),
                              "attempted value doesn't match payment amount", code: 2)
        try c.registerAttempt(hash, Fixture.attempt(1))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(1)),
                              "attempted value exceeds payment amount: attempted=20000 mSAT, payment amount=10000 mSAT")
        try c.failAttempt(hash, attemptID: 1, Fixture.failure())
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(1)), "HTLC with ID 1 already registered")
        try c.registerAttempt(hash, Fixture.attempt(2))
        try c.failPayment(hash, reason: .timeout)
        XCTAssertEqual(try c.fetchPayment(hash)?.status, .inFlight)
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(3)), "payment has failure reason")
        try c.settleAttempt(hash, attemptID: 2, Fixture.settle(1))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(3)), "payment is already succeeded")

        let h2 = Fixture.hash(2)
        try c.initPayment(Fixture.info(2))
        try c.failPayment(h2, reason: .noRoute)
        XCTAssertPaymentError(try c.registerAttempt(h2, Fixture.attempt(9)), "payment has already failed")
    }

    func testMPPCompatibilityGuards() throws {
        try c.initPayment(Fixture.info(1))
        let mpp = MPPRecord(paymentAddr: addr(1), totalAmtMsat: 10_000)
        try c.registerAttempt(hash, Fixture.attempt(1, amt: 4_000, mpp: mpp))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 10_000)), "payment has MPP attempts")
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 1_000, mpp: MPPRecord(paymentAddr: addr(2), totalAmtMsat: 10_000))),
                              "payment address mismatch")
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 1_000, mpp: MPPRecord(paymentAddr: addr(1), totalAmtMsat: 9_000))),
                              "mp payment total amount mismatch")
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 7_000, mpp: mpp)),
                              "attempted value exceeds payment amount: attempted=11000 mSAT, payment amount=10000 mSAT")
        try c.registerAttempt(hash, Fixture.attempt(2, amt: 6_000, mpp: mpp))
        // A settled shard while another is in flight: no new shard, attempt-level errors.
        try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        XCTAssertEqual(try c.fetchPayment(hash)?.status, .inFlight)
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(3, amt: 1, mpp: mpp)), "payment has settled htlcs")
        XCTAssertPaymentError(try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1)), "attempt already settled")
        XCTAssertPaymentError(try c.settleAttempt(hash, attemptID: 7, Fixture.settle(1)), "HTLC with ID 7 not registered")
        try c.settleAttempt(hash, attemptID: 2, Fixture.settle(1))
        let done = try XCTUnwrap(c.fetchPayment(hash))
        XCTAssertEqual(done.status, .succeeded)
        XCTAssertEqual(done.feesMsat, 2_000, "fees over settled HTLCs only")
        XCTAssertEqual(done.settledPreimage, Fixture.preimage(1))

        // Non-MPP in flight, then an MPP shard.
        let h2 = Fixture.hash(2)
        try c.initPayment(Fixture.info(2))
        try c.registerAttempt(h2, Fixture.attempt(10))
        XCTAssertPaymentError(try c.registerAttempt(h2, Fixture.attempt(11, amt: 1, mpp: mpp)), "payment has non-MPP attempts")
    }

    func testBlindedGuards() throws {
        try c.initPayment(Fixture.info(1))
        let mpp = MPPRecord(paymentAddr: addr(1), totalAmtMsat: 10_000)
        var withMPP = Fixture.attempt(1, amt: 5_000, blindedTotal: 10_000)
        withMPP.route.hops[1].mppRecord = mpp
        XCTAssertPaymentError(try c.registerAttempt(hash, withMPP), "blinded payment cannot contain MPP records")
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(1, amt: 5_000, blindedTotal: 0)),
                              "blinded payment final hop must set total amount")
        try c.registerAttempt(hash, Fixture.attempt(1, amt: 5_000, blindedTotal: 10_000))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 5_000, blindedTotal: 9_000)),
                              "blinded path total amount mismatch")
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2, amt: 5_000, mpp: mpp)),
                              "mixed blinded and non-blinded payments")
        try c.registerAttempt(hash, Fixture.attempt(2, amt: 5_000, blindedTotal: 10_000))
        XCTAssertEqual(try c.fetchPayment(hash)?.attempts.count, 2)
    }

    // MARK: Settle / fail attempt, fail payment

    func testResolveGuards() throws {
        XCTAssertPaymentError(try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1)), "payment isn't initiated", code: 5)
        XCTAssertPaymentError(try c.failAttempt(hash, attemptID: 1, Fixture.failure()), "payment isn't initiated")
        XCTAssertPaymentError(try c.failPayment(hash, reason: .timeout), "payment isn't initiated", code: 5)
        try c.initPayment(Fixture.info(1))
        XCTAssertPaymentError(try c.failAttempt(hash, attemptID: 3, Fixture.failure()), "HTLC with ID 3 not registered")
        let mpp = MPPRecord(paymentAddr: addr(1), totalAmtMsat: 10_000)
        try c.registerAttempt(hash, Fixture.attempt(1, amt: 5_000, mpp: mpp))
        try c.registerAttempt(hash, Fixture.attempt(2, amt: 5_000, mpp: mpp))
        try c.failAttempt(hash, attemptID: 1, Fixture.failure())
        XCTAssertPaymentError(try c.failAttempt(hash, attemptID: 1, Fixture.failure()), "attempt already failed")
        XCTAssertPaymentError(try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1)), "attempt already failed")
        try c.failPayment(hash, reason: .timeout)
        XCTAssertEqual(try c.fetchPayment(hash)?.status, .inFlight, "FailPayment never fails in-flight HTLCs")
        let last = try c.failAttempt(hash, attemptID: 2, Fixture.failure())
        XCTAssertEqual(last.status, .failed)
        XCTAssertEqual(last.failureReason, .timeout)
        XCTAssertPaymentError(try c.settleAttempt(hash, attemptID: 2, Fixture.settle(1)), "payment has already failed")
        // FailPayment overwrites the reason in any known state, even a terminal one.
        let again = try c.failPayment(hash, reason: .canceled)
        XCTAssertEqual(again.failureReason, .canceled)
        XCTAssertEqual(again.status, .failed)
    }

    func testSucceededPaymentMayCarryFailureReason() throws {
        try c.initPayment(Fixture.info(1))
        try c.registerAttempt(hash, Fixture.attempt(1))
        try c.failPayment(hash, reason: .timeout)
        let s = try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        XCTAssertEqual(s.status, .succeeded)
        XCTAssertEqual(s.failureReason, .timeout)
    }

    // MARK: Delete

    func testDeletePaymentGuards() throws {
        XCTAssertPaymentError(try c.deletePayment(hash, failedHtlcsOnly: false), "payment isn't initiated")
        XCTAssertEqual(PaymentError.notInitiated.grpcCode(deleting: true), 2)
        try c.initPayment(Fixture.info(1))
        try c.registerAttempt(hash, Fixture.attempt(1))
        XCTAssertPaymentError(try c.deletePayment(hash, failedHtlcsOnly: false),
            "payment 'ab00000000000000000000000000000000000000000000000000000000000001' has inflight HTLCsand therefore cannot be deleted: payment is in transition")
        try c.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        try c.deletePayment(hash, failedHtlcsOnly: false)
        XCTAssertNil(try c.fetchPayment(hash))
        XCTAssertPaymentError(try c.registerAttempt(hash, Fixture.attempt(2)), "payment isn't initiated")
        // Deleted: the hash can be paid again.
        XCTAssertEqual(try c.initPayment(Fixture.info(1)).status, .initiated)
        try c.deletePayment(hash, failedHtlcsOnly: false)
        try h.reopen()
        XCTAssertNil(try h.control.fetchPayment(hash))
        XCTAssertEqual(try h.store.paymentCount(), 0)
    }

    func testErrorCodesAndStrings() {
        XCTAssertEqual(PaymentError.unknownStatus.description, "unknown payment status")
        XCTAssertEqual(PaymentError.sentExceedsTotal(sentMsat: 2, totalMsat: 1).description,
                       "total sent exceeds total amount: sent=2 mSAT, total=1 mSAT")
        XCTAssertEqual(PaymentError.invalidDateRange(start: 5, end: 5).description, "start date(5) must be before end date(5)")
        XCTAssertEqual(PaymentError.alreadyPaid.grpcCode, 6)
        XCTAssertEqual(PaymentError.inTransition.grpcCode, 6)
        XCTAssertEqual(PaymentError.alreadyExists.grpcCode, 6)
        XCTAssertEqual(PaymentError.notInitiated.grpcCode, 5)
        XCTAssertEqual(PaymentError.alreadyFailed.grpcCode, 2)
    }

    func testFailureCodeNumbering() {
        XCTAssertEqual(FailureCode(wireCode: 0x1007), .temporaryChannelFailure)
        XCTAssertEqual(FailureCode(wireCode: 0x400F), .incorrectOrUnknownPaymentDetails)
        XCTAssertEqual(FailureCode(wireCode: 0xC005), .invalidOnionHmac)
        XCTAssertEqual(FailureCode(wireCode: 23), .mppTimeout)
        XCTAssertNil(FailureCode(wireCode: 0x7777))
        XCTAssertEqual(FailureCode.temporaryChannelFailure.rawValue, 15)
        XCTAssertEqual(HTLCFailInfo(failTimeNs: 1, reason: .unreadable).code, .unreadableFailure)
        XCTAssertEqual(HTLCFailInfo(failTimeNs: 1, reason: .message, message: nil).code, .unknownFailure)
        XCTAssertEqual(HTLCFailInfo(failTimeNs: 1, reason: .internal).code, .internalFailure)
        for c in FailureCode.allCases { if let w = c.wireCode { XCTAssertEqual(FailureCode(wireCode: w), c) } }
    }
}
