import Crypto
import XCTest
@testable import Macaroons

/// Interop with pymacaroons 0.13 without the daemon. The hex fixtures were produced by
/// `python Tests/Interop/test_macaroons.py --print-fixture` (pymacaroons, root key 0x00…0x1f);
/// Tests/Interop/test_macaroons.py checks the other direction (pymacaroons verifies
/// ``swiftMinted``).
final class PymacaroonsInteropTests: XCTestCase {
    /// pymacaroons: LND identifier (nonce a0…af, storage id "0", offchain read/write), caveats
    /// `time-before 2099-01-01T00:00:00Z`, `ipaddr 127.0.0.1`, `declared user alice`.
    static let pymacaroonsFirstParty = "0201036c6e64022f030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e1204726561641205777269746500022074696d652d6265666f726520323039392d30312d30315430303a30303a30305a000210697061646472203132372e302e302e310002136465636c61726564207573657220616c696365000006208412a8eb492baead06ed2d40893c906178d26cb1c00b739b1250b758bcbfe567"
    /// pymacaroons: same identifier, `time-before 2099-…`, then a third-party caveat
    /// (location https://auth.example, id "bob-is-great", zero nonce).
    static let pymacaroonsThirdParty = "0201036c6e64022f030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e1204726561641205777269746500022074696d652d6265666f726520323039392d30312d30315430303a30303a30305a00011468747470733a2f2f617574682e6578616d706c65020c626f622d69732d67726561740448000000000000000000000000000000000000000000000000faf1498a8897f541a98cd2f95cbfa38bdf18175c3f83b045cf8716ba2cd05f39cd509793aa2c6ffe4b34ee68bdc24e1c0000062043b2f91506d36d62fe5dce90366b8a8065f957a910d0df99612f17973d7ac5b7"
    /// Our mint of the same identifier with `time-before 2099-…` and `ipaddr 127.0.0.1`
    /// (SWIFT_MINTED_HEX in test_macaroons.py).
    static let swiftMinted = "0201036c6e64022f030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e1204726561641205777269746500022074696d652d6265666f726520323039392d30312d30315430303a30303a30305a000210697061646472203132372e302e302e310000062076bb738b64270905d6dd1eb1fe932324b15424ee95c91ce9a14e3e754108c514"

    func testVerifiesPymacaroonsMacaroon() throws {
        let bytes = hexBytes(Self.pymacaroonsFirstParty)
        let m = try Macaroon(binary: bytes)
        XCTAssertEqual(m.location, Array("lnd".utf8))
        XCTAssertEqual(m.identifier, Fixture.identifier.encoded())
        XCTAssertEqual(m.firstPartyConditions, [Fixture.farFuture, "ipaddr 127.0.0.1", "declared user alice"])
        XCTAssertEqual(m.serializedV2(), bytes)
        XCTAssertEqual(try MacaroonSigner.verifySignature(of: m, rootKey: Fixture.rootKey).count, 3)
        let checker = Fixture.checker()
        try checker.checkRequest(macaroonValues: [Self.pymacaroonsFirstParty], fullMethod: "/routerrpc.Router/TrackPaymentV2",
                                 peerIP: "127.0.0.1", now: Fixture.now)
        XCTAssertMacaroonError("caveat \"ipaddr 127.0.0.1\" not satisfied: macaroon locked to different IP address") {
            try checker.checkRequest(macaroonValues: [Self.pymacaroonsFirstParty], fullMethod: "/routerrpc.Router/TrackPaymentV2",
                                     peerIP: "127.0.0.2", now: Fixture.now)
        }
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") {
            try MacaroonChecker(rootKeys: InMemoryRootKeyStore(keys: [RootKeyID.default: Array(repeating: 0, count: 32)]))
                .checkRequest(macaroonValues: [Self.pymacaroonsFirstParty], fullMethod: "/routerrpc.Router/TrackPaymentV2", peerIP: "127.0.0.1")
        }
    }

    func testThirdPartyChainMatchesPymacaroonsAndIsRefused() throws {
        let m = try Macaroon(binary: hexBytes(Self.pymacaroonsThirdParty))
        XCTAssertEqual(m.caveats.count, 2)
        XCTAssertTrue(m.caveats[1].isThirdParty)
        XCTAssertEqual(m.caveats[1].location, Array("https://auth.example".utf8))
        XCTAssertEqual(m.caveats[1].verificationID.count, 72)
        // HMAC(sig, HMAC(sig, vid) ‖ HMAC(sig, cid)) gives pymacaroons' signature.
        XCTAssertEqual(MacaroonSigner.expectedSignature(of: m, rootKey: Fixture.rootKey), m.signature)
        XCTAssertMacaroonError("verification failed: cannot find discharge macaroon for caveat " + Hex.encode(Array("bob-is-great".utf8))) {
            try Fixture.checker().checkRequest(macaroonValues: [Self.pymacaroonsThirdParty], fullMethod: "/routerrpc.Router/TrackPaymentV2", peerIP: "127.0.0.1")
        }
    }

    func testSwiftMintedMacaroonMatchesConstant() {
        let m = Fixture.mint(caveats: [Fixture.farFuture, "ipaddr 127.0.0.1"])
        print("swift-minted:", Fixture.hex(m))
        XCTAssertEqual(Fixture.hex(m), Self.swiftMinted)
    }
}
