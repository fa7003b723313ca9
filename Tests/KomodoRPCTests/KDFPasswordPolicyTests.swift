import XCTest
import KomodoRPC
import JSON

final class KDFPasswordPolicyTests: XCTestCase {
    func testKDFMessages() {
        XCTAssertNil(KDFPasswordPolicy.check("RPC_UserP@SSW0RD", allowWeak: false))
        XCTAssertEqual(KDFPasswordPolicy.check("", allowWeak: true), "rpc_password must not be empty")
        XCTAssertEqual(KDFPasswordPolicy.check("Ab1@", allowWeak: false), "Password length should be at least 8 characters long")
        XCTAssertEqual(KDFPasswordPolicy.check("Abcdefg@", allowWeak: false), "Password should contain at least 1 digit")
        XCTAssertEqual(KDFPasswordPolicy.check("myPassword1@", allowWeak: false), "Password can't contain the word password")
        XCTAssertEqual(KDFPasswordPolicy.check("Aaaa1@bcd", allowWeak: false), "Password can't contain the same character 3 times in a row")
        XCTAssertEqual(KDFPasswordPolicy.check("abcdef1@", allowWeak: false), "Password should contain at least 1 uppercase character")
        XCTAssertEqual(KDFPasswordPolicy.check("Abcdef12", allowWeak: false), "Password should contain at least 1 special character")
        XCTAssertNil(KDFPasswordPolicy.check("weak", allowWeak: true))
    }

    func testGeneratedPasswordsPass() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let p = KDFPasswordPolicy.generate { n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } }
            XCTAssertNil(KDFPasswordPolicy.check(p, allowWeak: false), p)
        }
    }

    func testSerdeUnexpectedRendering() {
        XCTAssertEqual(SerdeMessage.unexpected(.bool(true)), "boolean `true`")
        XCTAssertEqual(SerdeMessage.unexpected(.number("5")), "integer `5`")
        XCTAssertEqual(SerdeMessage.unexpected(.number("2.0")), "floating point `2.0`")
        XCTAssertEqual(SerdeMessage.unexpected(.string("a\"b")), #"string "a\"b""#)
        XCTAssertEqual(SerdeMessage.unexpected(.array([])), "sequence")
        XCTAssertEqual(SerdeMessage.unexpected(.object([])), "map")
        XCTAssertEqual(SerdeMessage.unknownVariant("x", expected: ["a"]), "unknown variant `x`, expected `a`")
    }

    func testUserpassGuardIsBounded() {
        let g = UserpassGuard(password: "Secret1@x", capacity: 4)
        for i in 0..<100 { _ = g.check("bad", ip: "10.0.0.\(i)") }
        XCTAssertEqual(g.check("Secret1@x", ip: "10.0.0.1"), .allowed)
        XCTAssertEqual(g.check(nil, ip: "x"), .notSet)
    }
}
