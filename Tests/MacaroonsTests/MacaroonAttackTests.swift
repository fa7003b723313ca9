import Crypto
import XCTest
@testable import Macaroons

/// Tampering: every mutation of a valid macaroon must be refused (never crash, never pass).
final class MacaroonAttackTests: XCTestCase {
    let method = "/routerrpc.Router/TrackPaymentV2"

    /// Deterministic generator so failures reproduce.
    struct SplitMix { var state: UInt64; mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    } }

    /// The location field is, by the macaroon design, an unauthenticated hint (go-macaroon and
    /// LND ignore it), so a mutation that only changes the location yields the same credential;
    /// such mutations are counted apart. Every other mutation must be refused.
    func testTenThousandBitFlipsTruncationsAndExtensionsRefused() {
        let checker = Fixture.checker()
        let original = Fixture.mint(caveats: [Fixture.farFuture, "ipaddr 127.0.0.1"])
        let valid = original.serializedV2()
        var locationOnly = 0
        XCTAssertNoThrow(try checker.checkRequest(macaroonValues: [Hex.encode(valid)], fullMethod: method, peerIP: "127.0.0.1"))
        var rng = SplitMix(state: 42)
        var refused = 0
        for i in 0..<10_000 {
            var bytes = valid
            switch i % 4 {
            case 0, 1: // one or two bit flips
                for _ in 0..<(i % 4 + 1) {
                    let bit = Int(rng.next() % UInt64(bytes.count * 8))
                    bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                }
                if bytes == valid { continue }
            case 2: // truncation
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            default: // extension with random bytes
                let n = Int(rng.next() % 40) + 1
                for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            }
            if let m = try? Macaroon(binary: bytes), m.identifier == original.identifier,
               m.caveats == original.caveats, m.signature == original.signature {
                locationOnly += 1
                continue
            }
            do {
                try checker.checkRequest(macaroonValues: [Hex.encode(bytes)], fullMethod: method, peerIP: "127.0.0.1")
                XCTFail("mutation \(i) accepted: \(Hex.encode(bytes))")
            } catch {
                XCTAssertFalse(error.message.isEmpty)
                refused += 1
            }
        }
        XCTAssertLessThan(locationOnly, 200)
        XCTAssertGreaterThan(refused, 9_700)
        print("mutations: \(refused) refused, \(locationOnly) changed only the unauthenticated location")
    }

    /// Appending a well-formed caveat without knowing the previous signature is impossible;
    /// appending one correctly (attenuation) only narrows.
    func testAttenuationOnlyNarrows() throws {
        let checker = Fixture.checker()
        var m = Fixture.mint()
        MacaroonSigner.addFirstPartyCaveat("ipaddr 10.9.9.9", to: &m)
        XCTAssertMacaroonError("caveat \"ipaddr 10.9.9.9\" not satisfied: macaroon locked to different IP address") {
            try checker.checkRequest(macaroonValues: [Fixture.hex(m)], fullMethod: self.method, peerIP: "127.0.0.1")
        }
        // Removing the restricting caveat (keeping the signature) is detected.
        var stripped = m
        stripped.caveats.removeAll()
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") {
            try checker.checkRequest(macaroonValues: [Fixture.hex(stripped)], fullMethod: self.method, peerIP: "127.0.0.1")
        }
        // Rewriting the ops in the identifier (privilege escalation) is detected.
        var escalated = Fixture.mint([.init("offchain", "read")])
        escalated.identifier = MacaroonIdentifier(nonce: Fixture.nonce, storageID: RootKeyID.default,
                                                  permissions: MacaroonPermission.admin).encoded()
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") {
            try checker.checkRequest(macaroonValues: [Fixture.hex(escalated)], fullMethod: "/routerrpc.Router/SendPaymentV2", peerIP: "127.0.0.1")
        }
    }

    func testRefusalsWithExactErrors() {
        let checker = Fixture.checker()
        func check(_ m: Macaroon, peer: String = "127.0.0.1", method: String = "/routerrpc.Router/TrackPaymentV2") throws(MacaroonError) {
            try checker.checkRequest(macaroonValues: [Fixture.hex(m)], fullMethod: method, peerIP: peer)
        }
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") {
            try check(Fixture.mint(rootKey: SecureRandom.bytes(32)))
        }
        XCTAssertMacaroonError("caveat \"time-before 2021-06-01T12:00:00.123456789Z\" not satisfied: macaroon has expired") {
            try check(Fixture.mint(caveats: ["time-before 2021-06-01T12:00:00.123456789Z"]))
        }
        XCTAssertMacaroonError("caveat \"ipaddr 192.168.1.1\" not satisfied: macaroon locked to different IP address") {
            try check(Fixture.mint(caveats: ["ipaddr 192.168.1.1"]))
        }
        XCTAssertMacaroonError("permission denied") { try check(Fixture.mint(MacaroonPermission.invoice)) }
        let h = Fixture.hex(Fixture.mint())
        XCTAssertMacaroonError("expected 1 macaroon, got 2") {
            try checker.checkRequest(macaroonValues: [h, h], fullMethod: "/routerrpc.Router/TrackPaymentV2", peerIP: "127.0.0.1")
        }
    }

    /// Signatures are compared with ConstantTime.equals: a signature differing only in its
    /// last byte is refused like any other.
    func testLastByteOfSignature() {
        var m = Fixture.mint()
        m.signature[31] ^= 1
        XCTAssertThrowsError(try MacaroonSigner.verifySignature(of: m, rootKey: Fixture.rootKey))
    }
}
