import LightningPrimitives
import XCTest

final class HexTests: XCTestCase {
    func testEncodeIsLowercase() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xab, 0xff]), "000fabff")
        XCTAssertEqual(Hex.encode([UInt8]()), "")
        XCTAssertEqual(Hex.encode([UInt8](repeating: 0xcd, count: 3)[1...]), "cdcd")
    }

    func testDecodeEitherCaseAndRejects() {
        XCTAssertEqual(Hex.decode("000FabfF"), [0x00, 0x0f, 0xab, 0xff])
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("0g"))
        XCTAssertNil(Hex.decode("é0"))
    }

    func testNibble() {
        for (i, c) in "0123456789abcdef".utf8.enumerated() { XCTAssertEqual(Hex.nibble(c), UInt8(i)) }
        for (i, c) in "ABCDEF".utf8.enumerated() { XCTAssertEqual(Hex.nibble(c), UInt8(10 + i)) }
        for c: UInt8 in [0x2f, 0x3a, 0x40, 0x47, 0x60, 0x67, 0xff] { XCTAssertNil(Hex.nibble(c)) }
    }

    func testRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        XCTAssertEqual(Hex.decode(Hex.encode(bytes)), bytes)
    }

    /// Go `encoding/hex.Decode`'s order: within a pair the first byte is checked first; an odd
    /// trailing byte that is not hex is an invalid byte, not an odd length.
    func testDecodeFailureInGoOrder() {
        XCTAssertNil(Hex.decodeFailure("00aB"))
        XCTAssertNil(Hex.decodeFailure(""))
        XCTAssertEqual(Hex.decodeFailure("zg"), .invalidByte(UInt8(ascii: "z")))
        XCTAssertEqual(Hex.decodeFailure("0g"), .invalidByte(UInt8(ascii: "g")))
        XCTAssertEqual(Hex.decodeFailure("abc"), .oddLength)
        XCTAssertEqual(Hex.decodeFailure("abx"), .invalidByte(UInt8(ascii: "x")))
        XCTAssertEqual(Hex.decodeFailure("xbc"), .invalidByte(UInt8(ascii: "x")))
        XCTAssertEqual(Hex.decodeFailure("é"), .invalidByte(0xc3))
        for text in ["", "0", "00", "0g", "g0", "abc", "ABCDEF", "é0", "0é"] {
            XCTAssertEqual(Hex.decode(text) == nil, Hex.decodeFailure(text) != nil, text)
        }
    }

    /// Go's texts (`%#U` of the byte; the quoted character only when strconv.IsPrint).
    func testDecodeFailureTexts() {
        XCTAssertEqual(Hex.DecodeFailure.oddLength.description, "encoding/hex: odd length hex string")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0x67).description, "encoding/hex: invalid byte: U+0067 'g'")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0x20).description, "encoding/hex: invalid byte: U+0020 ' '")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0x00).description, "encoding/hex: invalid byte: U+0000")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0x7f).description, "encoding/hex: invalid byte: U+007F")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0xa0).description, "encoding/hex: invalid byte: U+00A0")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0xad).description, "encoding/hex: invalid byte: U+00AD")
        XCTAssertEqual(Hex.DecodeFailure.invalidByte(0xc3).description, "encoding/hex: invalid byte: U+00C3 'Ã'")
    }
}
