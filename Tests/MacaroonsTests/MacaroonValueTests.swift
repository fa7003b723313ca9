import XCTest
@testable import Macaroons

final class MacaroonValueTests: XCTestCase {
    func testRFC3339() throws {
        let t = try MacaroonTime.parseRFC3339Nano("2026-01-01T00:00:00Z")
        XCTAssertEqual(t.seconds, 1_767_225_600)
        XCTAssertEqual(t.rfc3339Nano, "2026-01-01T00:00:00Z")
        let f = try MacaroonTime.parseRFC3339Nano("2026-01-01T02:00:00.120+02:00")
        XCTAssertEqual(f, MacaroonTime(seconds: 1_767_225_600, nanoseconds: 120_000_000))
        XCTAssertEqual(f.rfc3339Nano, "2026-01-01T00:00:00.12Z")
        XCTAssertEqual(try MacaroonTime.parseRFC3339Nano("1969-12-31T23:59:59.000000001Z").rfc3339Nano, "1969-12-31T23:59:59.000000001Z")
        XCTAssertEqual(try MacaroonTime.parseRFC3339Nano("2000-02-29T1:02:03Z").rfc3339Nano, "2000-02-29T01:02:03Z")
        XCTAssertEqual(try MacaroonTime.parseRFC3339Nano("9999-12-31T23:59:59.9999999999Z").nanoseconds, 999_999_999)
        for bad in ["", "2026", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z",
                    "2026-01-01T00:60:00Z", "2026-01-01T00:00:00+0200", "2001-02-29T00:00:00Z", "2026-01-01t00:00:00Z"] {
            XCTAssertThrowsError(try MacaroonTime.parseRFC3339Nano(bad), bad)
        }
        XCTAssertThrowsError(try MacaroonTime.parseRFC3339Nano("2026-01-01T00:00:00")) {
            XCTAssertEqual(($0 as? MacaroonError)?.message,
                "parsing time \"2026-01-01T00:00:00\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"\" as \"Z07:00\"")
        }
        XCTAssertThrowsError(try MacaroonTime.parseRFC3339Nano("2026-01-01T25:00:00Z")) {
            XCTAssertEqual(($0 as? MacaroonError)?.message, "parsing time \"2026-01-01T25:00:00Z\": hour out of range")
        }
    }

    func testIPParsing() {
        XCTAssertEqual(IPAddress("127.0.0.1"), IPAddress("::ffff:127.0.0.1"))
        XCTAssertEqual(IPAddress("::1")?.description, "0:0:0:0:0:0:0:1")
        XCTAssertEqual(IPAddress("2001:db8::1"), IPAddress("2001:0db8:0:0:0:0:0:1"))
        XCTAssertEqual(IPAddress("::"), IPAddress("0:0:0:0:0:0:0:0"))
        XCTAssertNotNil(IPAddress("1:2:3:4:5:6:7:8"))
        XCTAssertNotNil(IPAddress("::ffff:1.2.3.4"))
        for bad in ["", "1.2.3", "1.2.3.256", "01.2.3.4", "1.2.3.4.5", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
                    "[::1]", "fe80::1%eth0", "1.2.3.4:80", ":1", "1:", "::1.2.3"] {
            XCTAssertNil(IPAddress(bad), bad)
        }
        let v4 = IPNetwork(cidr: "10.1.0.0/16")!
        XCTAssertTrue(v4.contains(IPAddress("10.1.255.3")!))
        XCTAssertFalse(v4.contains(IPAddress("10.2.0.1")!))
        XCTAssertFalse(v4.contains(IPAddress("::1")!))
        XCTAssertTrue(IPNetwork(cidr: "0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        XCTAssertFalse(IPNetwork(cidr: "::/0")!.contains(IPAddress("8.8.8.8")!))
        XCTAssertTrue(IPNetwork(cidr: "::/0")!.contains(IPAddress("::1")!))
        XCTAssertTrue(IPNetwork(cidr: "10.0.0.1/32")!.contains(IPAddress("10.0.0.1")!))
        XCTAssertNil(IPNetwork(cidr: "10.0.0.0/33"))
        XCTAssertNil(IPNetwork(cidr: "10.0.0.0"))
        XCTAssertNil(IPNetwork(cidr: "::/129"))
    }
}
