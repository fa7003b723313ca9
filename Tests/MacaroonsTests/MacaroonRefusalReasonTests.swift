import XCTest
@testable import Macaroons

/// Every refusal the checker produces maps to one reason of the closed set.
final class MacaroonRefusalReasonTests: XCTestCase {
    func testLNDTextsMapToReasons() {
        let cases: [(MacaroonError, MacaroonRefusalReason)] = [
            (.expectedOneMacaroon(got: 0), .missing),
            (.expectedOneMacaroon(got: 2), .multiple),
            (.permissionDenied, .permissionDenied),
            (.signatureMismatch, .signatureMismatch),
            (.rootKeyNotFound(id: Array("7".utf8)), .unknownRootKey),
            (.storeLocked, .unknownRootKey),
            (.unknownPermissions(method: "/x.Y/Z"), .unknownMethod),
            (.invalidID, .malformed),
            (MacaroonError("encoding/hex: invalid byte: U+0067 'g'"), .malformed),
            (MacaroonError("unmarshal v2: section extends past end of buffer"), .malformed),
            (MacaroonError(#"caveat "time-before 2020-01-01T00:00:00Z" not satisfied: macaroon has expired"#), .caveatNotSatisfied),
            (MacaroonError(#"caveat "ipaddr 1.2.3.4" not satisfied: macaroon locked to different IP address"#), .caveatNotSatisfied),
        ]
        for (error, reason) in cases { XCTAssertEqual(MacaroonRefusalReason(error), reason, error.message) }
        XCTAssertEqual(Set(MacaroonRefusalReason.allCases.map(\.rawValue)).count, MacaroonRefusalReason.allCases.count)
    }

    func testARealCheckerRefusalIsClassified() throws {
        let keys = InMemoryRootKeyStore()
        let checker = MacaroonChecker(rootKeys: keys)
        do {
            try checker.checkRequest(macaroonValues: ["zz"], fullMethod: "/lnrpc.Lightning/GetInfo", peerIP: "127.0.0.1")
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(MacaroonRefusalReason(error), .malformed)
        }
        do {
            try checker.checkRequest(macaroonValues: [], fullMethod: "/lnrpc.Lightning/GetInfo", peerIP: "127.0.0.1")
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(MacaroonRefusalReason(error), .missing)
        }
    }
}
