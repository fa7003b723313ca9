import Foundation
import XCTest
@testable import Transport

/// A cleartext HTTP/1.1 listener (`TLSServer.plainHTTP1`, the Komodo API's default): bytes pass
/// through a `TLSEngine` without SSL; a keep-alive connection gets two answers in order.
final class CleartextHTTP1Tests: XCTestCase {
    func testPlainKeepAliveEcho() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let app = HTTPTestApplication()
        let server = TLSServer.plainHTTP1(group: group, application: app)
        let port = try server.bind(host: "127.0.0.1", port: 0)
        defer { server.shutdown(gracePeriodNanos: 100_000_000) }

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(rc, 0)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nworld"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var received = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).hasSuffix("world") {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { break }
            received += buf[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), text)
        let hello = try XCTUnwrap(text.range(of: "hello")), world = try XCTUnwrap(text.range(of: "world"))
        XCTAssertTrue(hello.upperBound <= world.lowerBound)
    }
}
