import XCTest
import LightningPrimitives

/// Go's base64 `DecodeString` error offsets, which grpc-gateway reports for bytes path variables
/// (`illegal base64 data at input byte N`).
final class GoBase64Tests: XCTestCase {
    func offset(_ s: String, url: Bool) -> Int? {
        do { _ = try Base64.decodeGo(s, urlSafe: url); return nil } catch { return error.offset }
    }

    func testValidPaddedInputs() throws {
        XCTAssertEqual(try Base64.decodeGo("", urlSafe: false), [])
        XCTAssertEqual(try Base64.decodeGo("AQID", urlSafe: false), [1, 2, 3])
        XCTAssertEqual(try Base64.decodeGo("AQI=", urlSafe: false), [1, 2])
        XCTAssertEqual(try Base64.decodeGo("AQ==", urlSafe: false), [1])
        XCTAssertEqual(try Base64.decodeGo("-_8=", urlSafe: true), [0xfb, 0xff])
        XCTAssertEqual(try Base64.decodeGo("+/8=", urlSafe: false), [0xfb, 0xff])
        XCTAssertEqual(try Base64.decodeGo("AQ\r\nID", urlSafe: false), [1, 2, 3], "CR and LF are skipped")
    }

    func testErrorOffsetsAsGo() {
        XCTAssertEqual(offset("abc", url: false), 0, "a short final quantum without padding")
        XCTAssertEqual(offset("AQIDa", url: false), 4)
        XCTAssertEqual(offset("+/8=", url: true), 0, "'+' is not in the URL alphabet")
        XCTAssertEqual(offset("ab+c", url: true), 2)
        XCTAssertEqual(offset("A===", url: false), 1, "padding after one character")
        XCTAssertEqual(offset("AQ=x", url: false), 2, "'=' must be followed by '='")
        XCTAssertEqual(offset("AQ=", url: false), 3, "not enough padding")
        XCTAssertEqual(offset("AQ==AQ==", url: false), 4, "data after padding")
        XCTAssertEqual(offset("AQ*D", url: false), 2)
    }

    /// 64 hex characters are valid base64: LND reads a hex hash as 48 bytes (lnd #7821).
    func testHexIsValidBase64Of48Bytes() throws {
        let hex = String(repeating: "ab", count: 32)
        XCTAssertEqual(try Base64.decodeGo(hex, urlSafe: false).count, 48)
    }
}
