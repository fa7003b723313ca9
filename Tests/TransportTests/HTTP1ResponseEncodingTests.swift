import Glibc
import XCTest
@testable import Transport

/// The response head: status line digits and reason, the application's fields minus the ones the
/// transport owns (any case), `extra`, and a Date in IMF-fixdate that follows the clock.
final class HTTP1ResponseEncodingTests: XCTestCase {
    func testHeadLayout() {
        var out: [UInt8] = []
        HTTP1ResponseEncoding.appendHead(to: &out, status: 404, headers: HTTPHeaders([
            ("Access-Control-Allow-Origin", "*"), ("CONTENT-LENGTH", "9"), ("Date", "x"), ("Connection", "close"),
            ("Keep-Alive", "1"), ("Transfer-Encoding", "chunked"), ("upgrade", "h2c"), ("X-Ok", "1"), ("Bad Name", "v"),
        ]), extra: [("Content-Length", "0")])
        let text = String(decoding: out, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        XCTAssertEqual(Array(lines.prefix(4)), ["HTTP/1.1 404 Not Found", "Access-Control-Allow-Origin: *", "X-Ok: 1", "Content-Length: 0"])
        XCTAssertTrue(lines[4].hasPrefix("Date: "), lines[4])
        XCTAssertEqual(Array(lines.suffix(2)), ["", ""])
        XCTAssertEqual(lines.count, 7)
        out = []
        HTTP1ResponseEncoding.appendHead(to: &out, status: 1000, headers: HTTPHeaders([]), extra: [])
        XCTAssertTrue(String(decoding: out, as: UTF8.self).hasPrefix("HTTP/1.1 1000 "))
    }

    func testDateIsTodaysIMFFixdate() {
        XCTAssertEqual(HTTP1ResponseEncoding.httpDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        let before = time(nil)
        let cached = String(decoding: HTTP1ResponseEncoding.DateCache.shared.current(), as: UTF8.self)
        let after = time(nil)
        XCTAssertTrue([HTTP1ResponseEncoding.httpDate(before), HTTP1ResponseEncoding.httpDate(after)].contains(cached), cached)
    }
}
