import Crypto
import XCTest
@testable import Macaroons

/// Micro benchmark (prints only; timing is never asserted). Run with
/// `swift test -c release --filter MacaroonBenchmarkTests` for representative figures.
final class MacaroonBenchmarkTests: XCTestCase {
    func testPrintCheckCostPerCall() throws {
        let checker = Fixture.checker()
        let admin = Fixture.hex(Fixture.mint(MacaroonPermission.admin, caveats: [Fixture.farFuture, "ipaddr 127.0.0.1"]))
        let method = "/routerrpc.Router/TrackPaymentV2"
        let cache = MacaroonVerificationCache(peerIP: "127.0.0.1")
        try checker.checkRequest(macaroonValues: [admin], fullMethod: method, peerIP: "127.0.0.1", cache: cache)

        func measure(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
            var ts0 = timespec(), ts1 = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts0)
            for _ in 0..<n { try body() }
            clock_gettime(CLOCK_MONOTONIC, &ts1)
            let ns = Double(ts1.tv_sec - ts0.tv_sec) * 1e9 + Double(ts1.tv_nsec - ts0.tv_nsec)
            return ns / Double(n)
        }
        let values = [admin]
        let cached = try measure(200_000) {
            try checker.checkRequest(macaroonValues: values, fullMethod: method, peerIP: "127.0.0.1", cache: cache)
        }
        let uncached = try measure(5_000) {
            try checker.checkRequest(macaroonValues: values, fullMethod: method, peerIP: "127.0.0.1")
        }
        print(String(format: "macaroon check: cached %.0f ns/call, uncached (full verify) %.0f ns/call, admin macaroon %d bytes",
                     cached, uncached, admin.utf8.count / 2))
    }
}

extension MacaroonBenchmarkTests {
    /// Where the uncached cost goes: one HMAC-SHA256 call through Crypto.
    func testPrintHMACCost() {
        let key = Fixture.rootKey, msg = Array(repeating: UInt8(7), count: 64)
        var ts0 = timespec(), ts1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts0)
        var acc: UInt8 = 0
        for _ in 0..<20_000 { acc ^= HMACSHA256.authenticate(key: key, message: msg)[0] }
        clock_gettime(CLOCK_MONOTONIC, &ts1)
        let ns = (Double(ts1.tv_sec - ts0.tv_sec) * 1e9 + Double(ts1.tv_nsec - ts0.tv_nsec)) / 20_000
        print(String(format: "HMACSHA256.authenticate: %.0f ns/call (%d)", ns, acc))
    }
}
