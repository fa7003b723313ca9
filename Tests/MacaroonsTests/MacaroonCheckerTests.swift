import Crypto
import XCTest
@testable import Macaroons

final class MacaroonCheckerTests: XCTestCase {
    let track = "/routerrpc.Router/TrackPaymentV2"
    let send = "/routerrpc.Router/SendPaymentV2"

    func check(_ values: [String], _ method: String = "/routerrpc.Router/TrackPaymentV2", peer: String? = "127.0.0.1",
               checker: MacaroonChecker = Fixture.checker(), cache: MacaroonVerificationCache? = nil,
               now: MacaroonTime = Fixture.now) throws(MacaroonError) {
        try checker.checkRequest(macaroonValues: values, fullMethod: method, peerIP: peer, cache: cache, now: now)
    }

    func testValidMacaroonPassesEitherHexCase() throws {
        let m = Fixture.mint(caveats: [Fixture.farFuture])
        try check([Fixture.hex(m)])
        try check([Fixture.hex(m).uppercased()])
        try check([Fixture.hex(m)], send)
    }

    func testMetadataCountAndHexErrors() {
        XCTAssertMacaroonError("expected 1 macaroon, got 0") { try check([]) }
        let h = Fixture.hex(Fixture.mint())
        XCTAssertMacaroonError("expected 1 macaroon, got 2") { try check([h, h]) }
        XCTAssertMacaroonError("encoding/hex: invalid byte: U+0067 'g'") { try check(["0g"]) }
        XCTAssertMacaroonError("encoding/hex: invalid byte: U+0020 ' '") { try check([" " + h]) }
        XCTAssertMacaroonError("encoding/hex: odd length hex string") { try check(["abc"]) }
        XCTAssertMacaroonError("encoding/hex: invalid byte: U+007A 'z'") { try check(["abz"]) }
        XCTAssertMacaroonError("empty macaroon data") { try check([""]) }
        XCTAssertMacaroonError("/foo.Bar/Baz: unknown permissions required for method") { try check([], "/foo.Bar/Baz") }
    }

    func testSignatureAndRootKeyErrors() {
        let other = Fixture.mint(rootKey: Array(repeating: 7, count: 32))
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") { try check([Fixture.hex(other)]) }
        let unknownID = Fixture.mint(storageID: Array("42".utf8))
        XCTAssertMacaroonError("cannot retrieve macaroon: cannot get macaroon: root key with id 42 doesn't exist") {
            try check([Fixture.hex(unknownID)])
        }
        // Appending a caveat without the signature chain (or dropping one) breaks the signature.
        var extended = Fixture.mint(caveats: ["time-before 2000-01-01T00:00:00Z"])
        extended.caveats.removeLast()
        XCTAssertMacaroonError("verification failed: signature mismatch after caveat verification") { try check([Fixture.hex(extended)]) }
    }

    func testPermissionsAndURIFallback() throws {
        XCTAssertMacaroonError("permission denied") { try check([Fixture.hex(Fixture.mint([.init("invoices", "read")]))]) }
        let uri = Fixture.mint([.init("uri", track)])
        try check([Fixture.hex(uri)])
        XCTAssertMacaroonError("permission denied") { try check([Fixture.hex(uri)], send) }
        let readOnly = Fixture.mint(MacaroonPermission.readOnly)
        try check([Fixture.hex(readOnly)])
        try check([Fixture.hex(readOnly)], "/lnrpc.Lightning/ListPayments")
        try check([Fixture.hex(readOnly)], "/lnrpc.Lightning/DecodePayReq")
        try check([Fixture.hex(readOnly)], "/routerrpc.Router/TrackPayments")
        XCTAssertMacaroonError("permission denied") { try check([Fixture.hex(readOnly)], send) }
        let invoice = Fixture.mint(MacaroonPermission.invoice)
        XCTAssertMacaroonError("permission denied") { try check([Fixture.hex(invoice)]) }
        try check([Fixture.hex(invoice)], "/lnrpc.Lightning/AddInvoice")
        try check([Fixture.hex(invoice)], "/invoicesrpc.Invoices/LookupInvoiceV2")
        let router = Fixture.mint(MacaroonPermission.router)
        try check([Fixture.hex(router)], send)
        XCTAssertMacaroonError("permission denied") { try check([Fixture.hex(router)], "/lnrpc.Lightning/GetInfo") }
    }

    func testCaveatErrors() throws {
        func mac(_ caveats: String...) -> String { Fixture.hex(Fixture.mint(caveats: caveats)) }
        let expiredCond = "time-before 2020-01-01T00:00:00Z"
        XCTAssertMacaroonError("caveat \"\(expiredCond)\" not satisfied: macaroon has expired") { try check([mac(expiredCond)]) }
        // A caveat failure wins over a missing permission (bakery checks caveats first).
        let expiredNoPerm = Fixture.hex(Fixture.mint([.init("info", "read")], caveats: [expiredCond]))
        XCTAssertMacaroonError("caveat \"\(expiredCond)\" not satisfied: macaroon has expired") { try check([expiredNoPerm]) }
        // Exactly at the instant: expired (`!now.Before(t)`).
        let at = Fixture.now.timeBeforeCondition
        XCTAssertMacaroonError("caveat \"\(at)\" not satisfied: macaroon has expired") { try check([mac(at)]) }
        try check([mac(Fixture.now.adding(seconds: 1).timeBeforeCondition)])
        try check([mac("time-before 2027-01-15T10:00:00.5+02:00")])
        XCTAssertMacaroonError("caveat \"time-before bad-date\" not satisfied: parsing time \"bad-date\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"bad-date\" as \"2006\"") {
            try check([mac("time-before bad-date")])
        }
        XCTAssertMacaroonError("caveat \"time-before 2099-01-01T00:00:00Z \" not satisfied: parsing time \"2099-01-01T00:00:00Z \": extra text: \" \"") {
            try check([mac("time-before 2099-01-01T00:00:00Z ")])
        }
        XCTAssertMacaroonError("caveat \"time-before 2099-02-30T00:00:00Z\" not satisfied: parsing time \"2099-02-30T00:00:00Z\": day out of range") {
            try check([mac("time-before 2099-02-30T00:00:00Z")])
        }
        XCTAssertMacaroonError("caveat \"time-before 2099-13-01T00:00:00Z\" not satisfied: parsing time \"2099-13-01T00:00:00Z\": month out of range") {
            try check([mac("time-before 2099-13-01T00:00:00Z")])
        }
        XCTAssertMacaroonError("caveat \"time-before 2099-01-01 00:00:00Z\" not satisfied: parsing time \"2099-01-01 00:00:00Z\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \" 00:00:00Z\" as \"T\"") {
            try check([mac("time-before 2099-01-01 00:00:00Z")])
        }
        // IP caveats.
        try check([mac("ipaddr 127.0.0.1")])
        try check([mac("ipaddr ::ffff:127.0.0.1")])
        try check([mac("ipaddr ::1")], peer: "::1")
        XCTAssertMacaroonError("caveat \"ipaddr 1.2.3.4\" not satisfied: macaroon locked to different IP address") { try check([mac("ipaddr 1.2.3.4")]) }
        XCTAssertMacaroonError("caveat \"ipaddr nonsense\" not satisfied: macaroon locked to different IP address") { try check([mac("ipaddr nonsense")]) }
        XCTAssertMacaroonError("caveat \"ipaddr 1.2.3.4\" not satisfied: unable to get peer info from context") { try check([mac("ipaddr 1.2.3.4")], peer: nil) }
        try check([mac("iprange 127.0.0.0/8")])
        try check([mac("iprange 2001:db8::/32")], peer: "2001:db8::7")
        XCTAssertMacaroonError("caveat \"iprange 10.0.0.0/8\" not satisfied: macaroon locked to different IP range") { try check([mac("iprange 10.0.0.0/8")]) }
        XCTAssertMacaroonError("caveat \"iprange 10.0.0.0/33\" not satisfied: unable to parse macaroon IP range") { try check([mac("iprange 10.0.0.0/33")]) }
        // declared, error, custom, unknown, unparsable.
        try check([mac("declared user alice", "declared user alice")])
        XCTAssertMacaroonError("caveat \"declared user\" not satisfied: declared caveat has no value") { try check([mac("declared user")]) }
        XCTAssertMacaroonError("caveat \"declared user alice\" not satisfied: got user=null, expected \"alice\"") {
            try check([mac("declared user alice", "declared user bob")])
        }
        XCTAssertMacaroonError("caveat \"error no way\" not satisfied: bad caveat") { try check([mac("error no way")]) }
        XCTAssertMacaroonError("caveat \"lnd-custom account 1234\" not satisfied: cannot accept macaroon with custom caveat 'account', no middleware registered to handle it") {
            try check([mac("lnd-custom account 1234")])
        }
        let withMiddleware = MacaroonChecker(rootKeys: Fixture.store(), customCaveatNames: ["account"])
        try check([mac("lnd-custom account 1234")], checker: withMiddleware)
        XCTAssertMacaroonError("caveat \"lnd-custom\" not satisfied: expected custom caveat, got empty string") { try check([mac("lnd-custom")]) }
        XCTAssertMacaroonError("caveat \"lnd-custom  x\" not satisfied: unexpected white space found in caveat condition") { try check([mac("lnd-custom  x")]) }
        XCTAssertMacaroonError("caveat \"allow read\" not satisfied: caveat not recognized") { try check([mac("allow read")]) }
        XCTAssertMacaroonError("caveat \"frobnicate\" not satisfied: caveat not recognized") { try check([mac("frobnicate")]) }
        XCTAssertMacaroonError("cannot parse caveat \"\": empty caveat") { try check([mac("")]) }
        XCTAssertMacaroonError("cannot parse caveat \" x\": caveat starts with space character") { try check([mac(" x")]) }
        // The first failing caveat is reported.
        XCTAssertMacaroonError("caveat \"ipaddr 1.2.3.4\" not satisfied: macaroon locked to different IP address") {
            try check([mac(Fixture.farFuture, "ipaddr 1.2.3.4", expiredCond)])
        }
    }

    func testThirdPartyCaveatRefused() {
        var m = Fixture.mint()
        m.caveats.append(MacaroonCaveat(identifier: Array("bob".utf8), verificationID: [9, 9], location: Array("x".utf8)))
        m.signature = MacaroonSigner.expectedSignature(of: m, rootKey: Fixture.rootKey)
        XCTAssertMacaroonError("verification failed: cannot find discharge macaroon for caveat 626f62") { try check([Fixture.hex(m)]) }
    }

    func testDisabledCheckerAndOpenMethods() throws {
        let disabled = MacaroonChecker.disabled()
        XCTAssertFalse(disabled.isEnabled)
        try check([], checker: disabled)
        try check(["garbage", "more"], "/no.Such/Method", checker: disabled)
        try check([], "/grpc.health.v1.Health/Check")
        // Reflection is open by default; `--reflection.macaroon` puts it behind info:read.
        try check([], "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
        let guarded = MacaroonChecker(rootKeys: Fixture.store(),
                                      requiredPermissions: RequiredPermissions.requiredPermissions(reflectionMacaroon: true),
                                      openMethods: RequiredPermissions.openMethods(reflectionMacaroon: true))
        XCTAssertMacaroonError("expected 1 macaroon, got 0") {
            try check([], "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", checker: guarded)
        }
        XCTAssertEqual(RequiredPermissions.requiredPermissions(reflectionMacaroon: true)["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"],
                       [.init("info", "read")])
        XCTAssertNil(RequiredPermissions.requiredPermissions["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"],
                     "ListPermissions does not list open reflection")
    }

    /// Every method of spec §1 and of LND's invoices sub-server and legacy payment calls has an entry.
    func testPermissionTableCoversServedMethods() {
        let served = [
            "/routerrpc.Router/SendPaymentV2", "/routerrpc.Router/TrackPaymentV2", "/routerrpc.Router/TrackPayments",
            "/routerrpc.Router/SendPayment", "/routerrpc.Router/TrackPayment",
            "/lnrpc.Lightning/SendPaymentSync", "/lnrpc.Lightning/SendPayment",
            "/invoicesrpc.Invoices/AddHoldInvoice", "/invoicesrpc.Invoices/SettleInvoice", "/invoicesrpc.Invoices/CancelInvoice",
            "/lnrpc.Lightning/GetInfo", "/lnrpc.Lightning/AddInvoice", "/lnrpc.Lightning/LookupInvoice",
            "/lnrpc.Lightning/ListInvoices", "/lnrpc.Lightning/SubscribeInvoices", "/lnrpc.Lightning/DecodePayReq",
            "/lnrpc.Lightning/ListPayments", "/lnrpc.Lightning/DeletePayment", "/lnrpc.Lightning/DeleteAllPayments",
            "/lnrpc.Lightning/BakeMacaroon", "/lnrpc.Lightning/CheckMacaroonPermissions", "/lnrpc.Lightning/ListPermissions",
            "/invoicesrpc.Invoices/LookupInvoiceV2", "/invoicesrpc.Invoices/SubscribeSingleInvoice",
        ]
        for m in served {
            XCTAssertNotNil(RequiredPermissions.permissions(for: m), m)
            XCTAssertFalse(RequiredPermissions.isOpen(m), m)
        }
        XCTAssertEqual(RequiredPermissions.permissions(for: "/invoicesrpc.Invoices/LookupInvoiceV2"), [.init("invoices", "write")])
        XCTAssertEqual(RequiredPermissions.permissions(for: "/lnrpc.Lightning/BakeMacaroon"), [.init("macaroon", "generate")])
        for (method, perms) in RequiredPermissions.requiredPermissions {
            XCTAssertFalse(perms.isEmpty, method)
            for p in perms {
                XCTAssertTrue(MacaroonPermission.validEntities.contains(p.entity), "\(method) \(p)")
                XCTAssertTrue(MacaroonPermission.validActions.contains(p.action), "\(method) \(p)")
            }
            // The admin macaroon can call everything.
            XCTAssertTrue(GrantedPermissions(MacaroonPermission.admin).allows(RequiredSet(perms)), method)
        }
        XCTAssertTrue(RequiredPermissions.isOpen("/grpc.health.v1.Health/Check"))
        XCTAssertEqual(RequiredPermissions.methodsWithoutEntry(servedMethods: served + ["/grpc.health.v1.Health/Watch"]), [])
        XCTAssertEqual(RequiredPermissions.methodsWithoutEntry(servedMethods: served + ["/lnrpc.Lightning/NewAddress"]),
                       ["/lnrpc.Lightning/NewAddress"])
    }

    func testCacheHitsExpiryAndPeerBinding() throws {
        let store = Fixture.store()
        _ = store
        let cache = MacaroonVerificationCache(peerIP: "127.0.0.1")
        let expiry = Fixture.now.adding(seconds: 10)
        let m = Fixture.hex(Fixture.mint(caveats: [expiry.timeBeforeCondition, "ipaddr 127.0.0.1"]))
        try check([m], cache: cache)
        XCTAssertEqual(cache.count, 1)
        try check([m], cache: cache, now: Fixture.now.adding(seconds: 9))
        XCTAssertMacaroonError("permission denied") { try check([m], "/lnrpc.Lightning/GetInfo", cache: cache) }
        XCTAssertMacaroonError("caveat \"\(expiry.timeBeforeCondition)\" not satisfied: macaroon has expired") {
            try check([m], cache: cache, now: expiry)
        }
        // The cache uses its own connection's peer, not a later argument.
        let other = MacaroonVerificationCache(peerIP: "10.0.0.1")
        XCTAssertMacaroonError("caveat \"ipaddr 127.0.0.1\" not satisfied: macaroon locked to different IP address") {
            try check([m], peer: "127.0.0.1", cache: other)
        }
        XCTAssertEqual(other.count, 0)
        // Failures are not cached; bounded size.
        for i in 0..<10 {
            try check([Fixture.hex(Fixture.mint(caveats: ["declared n \(i)"]))], cache: cache)
        }
        XCTAssertEqual(cache.count, MacaroonVerificationCache.capacity)
        // Metadata count is checked before the cache.
        XCTAssertMacaroonError("expected 1 macaroon, got 2") { try check([m, m], cache: cache) }
    }

    func testCheckMacAuthAndService() throws {
        let store = Fixture.store()
        let service = MacaroonService(checker: Fixture.checker(store), store: store)
        let m = Fixture.mint(caveats: [Fixture.farFuture]).serializedV2()
        XCTAssertTrue(try service.checkMacaroonPermissions(macaroon: m, permissions: [.init("offchain", "read")],
                                                            fullMethod: track, peerIP: "127.0.0.1"))
        do {
            _ = try service.checkMacaroonPermissions(macaroon: m, permissions: [.init("info", "read")], fullMethod: "/x.Y/Z", peerIP: nil)
            XCTFail("expected permission denied")
        } catch {
            XCTAssertEqual(error.message, "permission denied")
            XCTAssertEqual(error.grpcStatusCode, 3)
        }
        // uri fallback through CheckMacaroonPermissions' fullMethod.
        let uri = Fixture.mint([.init("uri", "/lnrpc.Lightning/GetInfo")]).serializedV2()
        XCTAssertTrue(try service.checkMacaroonPermissions(macaroon: uri, permissions: [.init("info", "read")],
                                                            fullMethod: "/lnrpc.Lightning/GetInfo", peerIP: nil))
        // Empty permission list still verifies the signature (deliberate difference from LND).
        let forged = Fixture.mint(rootKey: Array(repeating: 1, count: 32)).serializedV2()
        XCTAssertThrowsError(try service.checkMacaroonPermissions(macaroon: forged, permissions: [], fullMethod: "", peerIP: nil))
    }
}
