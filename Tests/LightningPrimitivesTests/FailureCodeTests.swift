import LightningPrimitives
import XCTest

/// BOLT 4 failure codes: the lnrpc numbering, the wire codes with their flag bits, and the
/// flags read from them.
final class FailureCodeTests: XCTestCase {
    func testWireCodesFollowBOLT4() {
        XCTAssertEqual(FailureCode.temporaryChannelFailure.wireCode, 0x1007)
        XCTAssertEqual(FailureCode.incorrectOrUnknownPaymentDetails.wireCode, 0x400f)
        XCTAssertEqual(FailureCode.invalidOnionHmac.wireCode, 0xc005)
        XCTAssertEqual(FailureCode.requiredNodeFeatureMissing.wireCode, 0x6003)
        XCTAssertEqual(FailureCode.finalIncorrectCltvExpiry.wireCode, 18)
        XCTAssertNil(FailureCode.reserved.wireCode)
        XCTAssertNil(FailureCode.internalFailure.wireCode)
        XCTAssertNil(FailureCode.unknownFailure.wireCode)
        XCTAssertNil(FailureCode.unreadableFailure.wireCode)
    }

    func testWireCodeRoundTripsAndIsUnique() {
        var seen = Set<UInt16>()
        for c in FailureCode.allCases {
            guard let w = c.wireCode else { continue }
            XCTAssertTrue(seen.insert(w).inserted, "\(c) reuses wire code \(w)")
            XCTAssertEqual(FailureCode(wireCode: w), c)
        }
        XCTAssertEqual(seen.count, FailureCode.allCases.count - 4)
        XCTAssertNil(FailureCode(wireCode: 0x7777))
    }

    func testUpdateAndPermFlags() {
        let withUpdate = Set(FailureCode.allCases.filter(\.carriesChannelUpdate))
        XCTAssertEqual(withUpdate, [.expiryTooSoon, .amountBelowMinimum, .feeInsufficient, .incorrectCltvExpiry,
                                    .channelDisabled, .temporaryChannelFailure])
        XCTAssertTrue(FailureCode.permanentChannelFailure.isPermanent)
        XCTAssertFalse(FailureCode.temporaryNodeFailure.isPermanent)
        XCTAssertFalse(FailureCode.unknownFailure.isPermanent)
    }
}
