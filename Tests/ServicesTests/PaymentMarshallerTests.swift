import XCTest
import LightningRPC
import Payments
@testable import Services

/// Spec §7: how a stored payment becomes an `lnrpc.Payment`.
final class PaymentMarshallerTests: XCTestCase {
    let hash = PaymentHash([UInt8](repeating: 0xab, count: 32))!
    let preimage = PaymentHash([UInt8](repeating: 0x11, count: 32))!
    let a = [UInt8](repeating: 2, count: 33), b = [UInt8](repeating: 3, count: 33)

    func route() -> Payments.Route {
        // 100,000,000 msat delivered; the first hop charges 1,500 msat.
        Payments.Route(totalTimeLock: 800_100, totalAmtMsat: 100_001_500, hops: [
            Payments.Hop(chanID: 1 << 40, pubKey: a, amtToForwardMsat: 100_000_000, feeMsat: 1_500, expiry: 800_060),
            Payments.Hop(chanID: 2 << 40, pubKey: b, amtToForwardMsat: 100_000_000, feeMsat: 0, expiry: 800_060,
                         mppRecord: MPPRecord(paymentAddr: [UInt8](repeating: 9, count: 32), totalAmtMsat: 100_000_000)),
        ])
    }

    func snapshot(_ attempts: [HTLCAttempt], reason: FailureReason? = nil) -> PaymentSnapshot {
        PaymentSnapshot(info: PaymentCreationInfo(paymentIdentifier: hash, valueMsat: 100_000_000,
                                                  creationTimeNs: 1_700_000_000_123_456_789,
                                                  paymentRequest: Array("lntb1...".utf8)),
                        paymentIndex: 7, attempts: attempts, failureReason: reason, lastUpdateNs: 1_700_000_001_000_000_000)
    }

    func testInFlightPaymentShowsZeroPreimageAndNoFees() {
        let m = PaymentMarshaller(useStatusInitiated: false)
        let attempt = HTLCAttempt(info: HTLCAttemptInfo(attemptID: 5, route: route(), attemptTimeNs: 1_700_000_000_200_000_000))
        let p = m.payment(snapshot([attempt]))
        XCTAssertEqual(p.paymentHash, String(repeating: "ab", count: 32))
        XCTAssertEqual(p.paymentPreimage, String(repeating: "0", count: 64))
        XCTAssertEqual(p.status, .inFlight)
        XCTAssertEqual(p.feeMsat, 0)
        XCTAssertEqual(p.fee, 0)
        XCTAssertEqual(p.value, 100_000)
        XCTAssertEqual(p.valueSat, 100_000)
        XCTAssertEqual(p.valueMsat, 100_000_000)
        XCTAssertEqual(p.creationDate, 1_700_000_000)
        XCTAssertEqual(p.creationTimeNs, 1_700_000_000_123_456_789)
        XCTAssertEqual(p.paymentRequest, "lntb1...")
        XCTAssertEqual(p.paymentIndex, 7)
        XCTAssertEqual(p.failureReason, .failureReasonNone)
        XCTAssertEqual(p.htlcs.count, 1)
        XCTAssertEqual(p.htlcs[0].status, .inFlight)
        XCTAssertEqual(p.htlcs[0].resolveTimeNs, 0)
        XCTAssertNil(p.htlcs[0].failure)
        let hops = p.htlcs[0].route!.hops
        XCTAssertEqual(hops[0].chanCapacity, 100_001, "chan_capacity is the hop's incoming amount in sat")
        XCTAssertEqual(hops[1].chanCapacity, 100_000)
        XCTAssertEqual(hops[0].fee, 1)
        XCTAssertEqual(hops[0].feeMsat, 1_500)
        XCTAssertEqual(hops[0].pubKey, String(repeating: "02", count: 33))
        XCTAssertTrue(hops[0].tlvPayload)
        XCTAssertEqual(hops[1].mppRecord?.totalAmtMsat, 100_000_000)
        XCTAssertEqual(p.htlcs[0].route!.totalFeesMsat, 1_500)
        XCTAssertEqual(p.htlcs[0].route!.totalAmt, 100_001)
    }

    func testInitiatedIsInFlightUnlessUseStatusInitiated() {
        XCTAssertEqual(PaymentMarshaller(useStatusInitiated: false).payment(snapshot([])).status, .inFlight)
        XCTAssertEqual(PaymentMarshaller(useStatusInitiated: true).payment(snapshot([])).status, .initiated)
    }

    func testSettledPaymentCountsFeesOfSettledAttemptsOnly() {
        let failure = HTLCFailInfo(failTimeNs: 1_700_000_000_300_000_000, reason: .message,
                                  message: StoredFailureMessage(code: .temporaryChannelFailure,
                                                          channelUpdate: StoredChannelUpdate(chanID: 2 << 40, baseFee: 1000),
                                                          htlcMsat: 42),
                                  failureSourceIndex: 1)
        let failed = HTLCAttempt(info: HTLCAttemptInfo(attemptID: 1, route: route(), attemptTimeNs: 1), failure: failure)
        let settled = HTLCAttempt(info: HTLCAttemptInfo(attemptID: 2, route: route(), attemptTimeNs: 2),
                                  settle: HTLCSettle(preimage: preimage, settleTimeNs: 3))
        let p = PaymentMarshaller(useStatusInitiated: false).payment(snapshot([failed, settled]))
        XCTAssertEqual(p.status, .succeeded)
        XCTAssertEqual(p.feeMsat, 1_500)
        XCTAssertEqual(p.paymentPreimage, String(repeating: "11", count: 32))
        XCTAssertEqual(p.htlcs[0].status, .failed)
        XCTAssertEqual(p.htlcs[0].failure?.code, .temporaryChannelFailure)
        XCTAssertEqual(p.htlcs[0].failure?.failureSourceIndex, 1)
        XCTAssertEqual(p.htlcs[0].failure?.channelUpdate?.baseFee, 1000)
        XCTAssertEqual(p.htlcs[0].failure?.htlcMsat, 0, "TEMPORARY_CHANNEL_FAILURE carries no htlc_msat")
        XCTAssertEqual(p.htlcs[1].status, .succeeded)
        XCTAssertEqual(p.htlcs[1].preimage, preimage.bytes)
        XCTAssertEqual(p.htlcs[1].resolveTimeNs, 3)
    }

    func testFailedPaymentCarriesReason() {
        let p = PaymentMarshaller(useStatusInitiated: false).payment(snapshot([], reason: .noRoute))
        XCTAssertEqual(p.status, .failed)
        XCTAssertEqual(p.failureReason, .failureReasonNoRoute)
    }

    func testLocalFailureReasonsMapToLNDCodes() {
        let m = PaymentMarshaller(useStatusInitiated: false)
        XCTAssertEqual(m.failure(HTLCFailInfo(failTimeNs: 0, reason: .unknown)).code, .unknownFailure)
        XCTAssertEqual(m.failure(HTLCFailInfo(failTimeNs: 0, reason: .unreadable)).code, .unreadableFailure)
        XCTAssertEqual(m.failure(HTLCFailInfo(failTimeNs: 0, reason: .internal)).code, .internalFailure)
        let details = m.failure(HTLCFailInfo(failTimeNs: 0, reason: .message,
                                            message: StoredFailureMessage(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 5, height: 800_001),
                                            failureSourceIndex: 2))
        XCTAssertEqual(details.code, .incorrectOrUnknownPaymentDetails)
        XCTAssertEqual(details.height, 800_001)
        XCTAssertEqual(details.failureSourceIndex, 2)
    }
}
