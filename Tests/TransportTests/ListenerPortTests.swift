import XCTest
@testable import Transport

/// Listeners are SO_REUSEPORT sockets (one per loop), and Linux lets any socket of the same user
/// with that option join a listening port. A second paytrackd started on a port another one serves
/// must therefore be refused at bind, as LND is ("address already in use"), instead of silently
/// taking a share of the first one's connections (found by the reliability campaigns: two daemons
/// given the same port answered with each other's certificates).
final class ListenerPortTests: XCTestCase {
    func testSecondServerOnAServedPortIsRefused() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let first = TLSServer.plainHTTP1(group: group, application: HTTPTestApplication())
        let port = try first.bind(host: "127.0.0.1", port: 0)
        defer { first.shutdown(gracePeriodNanos: 100_000_000) }
        let second = TLSServer.plainHTTP1(group: group, application: HTTPTestApplication())
        XCTAssertThrowsError(try second.bind(host: "127.0.0.1", port: port)) { error in
            XCTAssertEqual("\(error)", "bind 127.0.0.1:\(port): Address already in use")
        }
    }

    /// A restart on the same port (the old listeners closed, or killed with their process) binds.
    func testPortOfAShutDownServerBindsAgain() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let first = TLSServer.plainHTTP1(group: group, application: HTTPTestApplication())
        let port = try first.bind(host: "127.0.0.1", port: 0)
        first.shutdown(gracePeriodNanos: 100_000_000)
        let again = TLSServer.plainHTTP1(group: group, application: HTTPTestApplication())
        XCTAssertEqual(try again.bind(host: "127.0.0.1", port: port), port)
        again.shutdown(gracePeriodNanos: 100_000_000)
    }
}
