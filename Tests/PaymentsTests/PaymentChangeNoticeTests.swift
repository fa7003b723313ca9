import LightningPrimitives
import XCTest
@testable import Payments
@testable import PaymentStore

/// The NOTIFY payload that carries a few changed payments to other replicas: every field survives
/// the trip as a database read would return it, the payload stays within PostgreSQL's limit, and
/// malformed payloads fail with a decode error.
final class PaymentChangeNoticeTests: XCTestCase {
    /// A payment with every kind of field set: MPP, AMP and blinded route fields, custom records, a
    /// failed attempt with a channel update, an unreadable failure, a settled attempt with a hash.
    private func rich() -> PaymentSnapshot {
        let a = Fixture.richAttempt()
        var second = Fixture.attempt(2, amt: 6_000)
        second.hash = Fixture.hash(78)
        let unreadable = HTLCFailInfo(failTimeNs: 99, reason: .unreadable, message: nil, failureSourceIndex: 2)
        return PaymentSnapshot(info: Fixture.info(1), paymentIndex: 42, attempts: [
            HTLCAttempt(info: a, failure: Fixture.failure()),
            HTLCAttempt(info: second, failure: unreadable),
            HTLCAttempt(info: Fixture.attempt(3), settle: Fixture.settle(1)),
        ], failureReason: .insufficientBalance, lastUpdateNs: 1_700_000_003_000_000_000)
    }

    func testSnapshotsRoundTripThroughThePayload() throws {
        let bare = PaymentSnapshot(info: Fixture.info(2), paymentIndex: 7, attempts: [], failureReason: nil, lastUpdateNs: -5)
        let snapshots = [rich(), bare]
        let payload = "12345" + PaymentChangeNotice.suffix(snapshots)
        let (xid, got) = try PaymentChangeNotice.parse(payload)
        XCTAssertEqual(xid, 12_345)
        XCTAssertEqual(got, snapshots)
        XCTAssertEqual(try PaymentChangeNotice.parse("987").xid, 987, "the id alone, as a large batch sends it")
        XCTAssertEqual(try PaymentChangeNotice.parse("987").snapshots, [])
    }

    func testTooMuchForOneNotificationSendsTheIdAlone() {
        var big = rich()
        big.info.paymentRequest = [UInt8](repeating: 0x6c, count: PaymentChangeNotice.maxHexCount / 2)
        XCTAssertEqual(PaymentChangeNotice.suffix([big]), "")
        XCTAssertEqual(PaymentChangeNotice.suffix([]), "")
        let fits = PaymentChangeNotice.suffix([rich()])
        XCTAssertLessThanOrEqual(fits.utf8.count, PaymentChangeNotice.maxHexCount + 1)
        XCTAssertLessThan(("18446744073709551615" + fits).utf8.count, 8_000, "within PostgreSQL's payload limit")
    }

    func testMalformedPayloadsAreDecodeErrors() {
        let good = PaymentChangeNotice.encode([rich()])
        var badTag = good
        badTag[2] = 7   // the first cell's tag
        var wrongKind = good
        wrongKind[2] = 0   // the row id as NULL: an integer column
        let cases: [String] = [
            "", "x", "12:", "12:zz", "12:0", ":00", "12:" + Hex.encode([2]),            // id, hex, version
            "12:" + Hex.encode(good.dropLast()),                                      // truncated
            "12:" + Hex.encode(good + [0]),                                           // trailing bytes
            "12:" + Hex.encode(badTag), "12:" + Hex.encode(wrongKind),
            "12:" + Hex.encode([1, 0xff, 0xff, 0xff, 0xff, 0x0f]),                    // a count beyond the bytes
        ]
        for payload in cases {
            XCTAssertThrowsError(try PaymentChangeNotice.parse(payload), payload) { e in
                XCTAssertTrue(e is PaymentCodec.DecodeError, "\(payload): \(e)")
            }
        }
    }
}
