import XCTest
@testable import Macaroons

/// The interceptor's per-call entry point (`checkRequest(macaroonCount:macaroon:...)`, raw header
/// bytes, per-connection memo of the method's rule) must decide exactly as the String one.
final class MacaroonRawCheckTests: XCTestCase {
    let track = "/routerrpc.Router/TrackPaymentV2"

    func raw(_ values: [String], _ method: String, cache: MacaroonVerificationCache, checker: MacaroonChecker,
             now: MacaroonTime = Fixture.now) throws(MacaroonError) {
        let first = Array((values.first ?? "").utf8)
        var failure: MacaroonError?
        first.withUnsafeBytes { b in
            do {
                try checker.checkRequest(macaroonCount: values.count, macaroon: b, fullMethod: method, cache: cache, now: now)
            } catch let e as MacaroonError { failure = e } catch { XCTFail("\(error)") }
        }
        if let failure { throw failure }
    }

    func outcome(_ body: () throws(MacaroonError) -> Void) -> String {
        do { try body(); return "ok" } catch { return error.message }
    }

    func testSameOutcomesAsTheStringPath() {
        let checker = Fixture.checker()
        let good = Fixture.hex(Fixture.mint(caveats: [Fixture.farFuture]))
        let other = Fixture.hex(Fixture.mint(rootKey: Array(repeating: 7, count: 32)))
        let open = checker.openMethods.sorted().first ?? track
        let cases: [([String], String)] = [
            ([good], track), ([good.uppercased()], track), ([], track), ([good, good], track), (["0g"], track),
            (["abc"], track), ([""], track), ([other], track), ([good], "/foo.Bar/Baz"), ([], "/foo.Bar/Baz"),
            ([good], "/lnrpc.Lightning/GetInfo"), ([], open), ([Fixture.hex(Fixture.mint(caveats: ["ipaddr 10.0.0.9"]))], track),
        ]
        for (values, method) in cases {
            let viaString = outcome { () throws(MacaroonError) in
                try checker.checkRequest(macaroonValues: values, fullMethod: method, peerIP: "127.0.0.1",
                                         cache: MacaroonVerificationCache(peerIP: "127.0.0.1"), now: Fixture.now)
            }
            let cache = MacaroonVerificationCache(peerIP: "127.0.0.1")
            // Twice on one connection: the second goes through the cache / the method memo.
            let first = outcome { () throws(MacaroonError) in try raw(values, method, cache: cache, checker: checker) }
            let second = outcome { () throws(MacaroonError) in try raw(values, method, cache: cache, checker: checker) }
            XCTAssertEqual(first, viaString, "\(values.map { $0.prefix(12) }) \(method)")
            XCTAssertEqual(second, viaString, "cached: \(values.map { $0.prefix(12) }) \(method)")
        }
    }

    func testCacheHitExpiryAndMethodChanges() throws {
        let checker = Fixture.checker()
        let cache = MacaroonVerificationCache(peerIP: "127.0.0.1")
        let expiry = Fixture.now.adding(seconds: 10)
        let m = Fixture.hex(Fixture.mint(caveats: [expiry.timeBeforeCondition]))
        try raw([m], track, cache: cache, checker: checker)
        XCTAssertEqual(cache.count, 1)
        try raw([m], track, cache: cache, checker: checker, now: Fixture.now.adding(seconds: 9))
        // Another method on the same connection: the memo follows it.
        XCTAssertMacaroonError("permission denied") { try raw([m], "/lnrpc.Lightning/GetInfo", cache: cache, checker: checker) }
        try raw([m], track, cache: cache, checker: checker)
        XCTAssertMacaroonError("caveat \"\(expiry.timeBeforeCondition)\" not satisfied: macaroon has expired") {
            try raw([m], track, cache: cache, checker: checker, now: expiry)
        }
        // A value differing in one byte (the signature's last hex digit) is not a hit.
        var tampered = Array(m.utf8)
        tampered[tampered.count - 1] = tampered[tampered.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") {
            try raw([String(decoding: tampered, as: UTF8.self)], track, cache: cache, checker: checker)
        }
    }

    func testConstantTimeEqualsOnBytes() {
        for n in [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 630] {
            let a = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            a.withUnsafeBytes { pa in
                XCTAssertTrue(MacaroonVerificationCache.constantTimeEquals(pa, pa))
                for i in 0..<n {
                    var b = a
                    b[i] ^= 0x40
                    b.withUnsafeBytes { XCTAssertFalse(MacaroonVerificationCache.constantTimeEquals(pa, $0), "n \(n) i \(i)") }
                }
                let longer = a + [0]
                longer.withUnsafeBytes { XCTAssertFalse(MacaroonVerificationCache.constantTimeEquals(pa, $0)) }
            }
        }
    }
}
