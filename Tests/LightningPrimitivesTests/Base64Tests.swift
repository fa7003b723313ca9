import LightningPrimitives
import XCTest

final class Base64Tests: XCTestCase {
    func testRoundTripsWithAndWithoutPadding() {
        for n in 0..<20 {
            let b = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64.decode(bytes: Array(Base64.encode(b).utf8)), b)
            XCTAssertEqual(Base64.decode(bytes: Array(Base64.encode(b, padded: false).utf8)), b)
        }
        XCTAssertEqual(Base64.encode(Array("abc".utf8)), "YWJj")
        XCTAssertEqual(Base64.encode(Array("ab".utf8)), "YWI=")
        XCTAssertNil(Base64.decode(bytes: Array("YW=J".utf8)))
        XCTAssertNil(Base64.decode(bytes: Array("Y".utf8)))
        XCTAssertNil(Base64.decode(bytes: Array("Y!==".utf8)))
    }

    func testGatewayTexts() {
        XCTAssertEqual(Base64.encode([]), "")
        XCTAssertEqual(Base64.encode(Array("f".utf8)), "Zg==")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(Base64.encode(Array("foo".utf8)), "Zm9v")
        XCTAssertEqual(Base64.encode([0xFB, 0xFF], urlSafe: true, padded: false), "-_8")
        XCTAssertEqual(Base64.decode("Zm9vYg=="), Array("foob".utf8))
        XCTAssertEqual(Base64.decode("Zm9vYg"), Array("foob".utf8))
        XCTAssertEqual(Base64.decode("+/8="), [0xFB, 0xFF])
        XCTAssertEqual(Base64.decode("-_8"), [0xFB, 0xFF])
        XCTAssertNil(Base64.decode("Zm9vY"))      // 1 mod 4
        XCTAssertNil(Base64.decode("Zm9v===="))   // too much padding
        XCTAssertNil(Base64.decode("Zm=9v"))      // padding inside
        XCTAssertNil(Base64.decode("Zm9v\n"))
    }
}
