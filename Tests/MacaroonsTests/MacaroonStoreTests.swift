import Crypto
import XCTest
@testable import Macaroons
#if canImport(Glibc)
import Glibc
#endif

final class MacaroonStoreTests: XCTestCase {
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/paytrack-macaroons-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        return path
    }

    static func temporaryStore(password: [UInt8]? = nil) throws -> MacaroonStore {
        try MacaroonStore.openOrCreate(datadir: temporaryDirectory(), network: "testnet", password: password, kdfIterations: 1000)
    }

    func mode(_ path: String) -> UInt32 { FileIO.mode(path)! }

    func testOpenOrCreateWritesRootKeyAndDefaults() throws {
        let datadir = Self.temporaryDirectory()
        let store = try MacaroonStore.openOrCreate(datadir: datadir, network: "regtest")
        let dir = datadir + "/data/chain/bitcoin/regtest"
        XCTAssertEqual(store.networkDirectory, dir)
        XCTAssertEqual(mode(dir + "/macaroons.rootkeys"), 0o600)
        let key = try store.rootKey(id: RootKeyID.default)
        XCTAssertEqual(key.count, 32)
        XCTAssertEqual(Set(try store.writeDefaultMacaroons()), ["admin.macaroon", "readonly.macaroon", "invoice.macaroon", "router.macaroon"])
        XCTAssertEqual(mode(dir + "/admin.macaroon"), 0o640)
        for f in ["readonly", "invoice", "router"] { XCTAssertEqual(mode(dir + "/\(f).macaroon"), 0o644) }

        // Reopen: same key; defaults not rewritten; existing files never overwritten.
        let admin = try FileIO.read(dir + "/admin.macaroon", limit: 4096)
        try FileIO.replaceAtomically(dir + "/readonly.macaroon", Array("keep".utf8), mode: 0o600)
        let again = try MacaroonStore.openOrCreate(datadir: datadir, network: "regtest")
        XCTAssertEqual(try again.rootKey(id: RootKeyID.default), key)
        XCTAssertEqual(try again.writeDefaultMacaroons(), [])
        XCTAssertEqual(try FileIO.read(dir + "/admin.macaroon", limit: 4096), admin)
        XCTAssertEqual(try FileIO.read(dir + "/readonly.macaroon", limit: 4096), Array("keep".utf8))

        // The written files authenticate with LND's sets.
        let checker = MacaroonChecker(rootKeys: again)
        func call(_ file: String, _ method: String) throws(MacaroonError) {
            let bytes = try FileIO.read(dir + "/\(file).macaroon", limit: 4096)
            try checker.checkRequest(macaroonValues: [Hex.encode(bytes)], fullMethod: method, peerIP: "127.0.0.1")
        }
        try call("admin", "/routerrpc.Router/SendPaymentV2")
        try call("router", "/routerrpc.Router/TrackPaymentV2")
        try call("invoice", "/lnrpc.Lightning/AddInvoice")
        XCTAssertMacaroonError("permission denied") { try call("invoice", "/routerrpc.Router/TrackPaymentV2") }
        let parsed = try Macaroon(binary: admin)
        XCTAssertEqual(parsed.location, Array("lnd".utf8))
        XCTAssertEqual(parsed.identifier.first, 3)
        XCTAssertTrue(parsed.caveats.isEmpty)
        let id = try MacaroonIdentifier.decode(protobuf: parsed.identifier[1...])
        XCTAssertEqual(id.storageID, RootKeyID.default)
        XCTAssertEqual(id.permissions, MacaroonPermission.canonical(MacaroonPermission.admin))
    }

    func testNewRootKeysOnDemandArePersisted() throws {
        let datadir = Self.temporaryDirectory()
        let store = try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet")
        XCTAssertThrowsError(try store.rootKey(id: RootKeyID.from(7)))
        let k7 = try store.rootKeyCreatingIfNeeded(id: RootKeyID.from(7))
        XCTAssertNotEqual(k7, try store.rootKey(id: RootKeyID.default))
        let reopened = try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet")
        XCTAssertEqual(try reopened.rootKey(id: RootKeyID.from(7)), k7)
        XCTAssertEqual(reopened.rootKeyIDs, [RootKeyID.default, RootKeyID.from(7)])
    }

    func testSealedStore() throws {
        let datadir = Self.temporaryDirectory()
        let pw = Array("correct horse".utf8)
        let store = try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet", password: pw, kdfIterations: 500)
        let key = try store.rootKey(id: RootKeyID.default)
        let file = try FileIO.read(store.rootKeyPath, limit: 1 << 20)
        XCTAssertTrue(file.starts(with: Array("PTRKS1\n".utf8)))
        XCTAssertNil(file.firstRange(of: key), "root key stored in clear")
        XCTAssertEqual(mode(store.rootKeyPath), 0o600)
        let reopened = try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet", password: pw)
        XCTAssertEqual(try reopened.rootKey(id: RootKeyID.default), key)
        XCTAssertThrowsError(try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet", password: Array("wrong".utf8))) {
            XCTAssertEqual(($0 as? MacaroonError)?.message, "invalid password")
        }
        XCTAssertThrowsError(try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet")) {
            XCTAssertEqual(($0 as? MacaroonError)?.message, "macaroon store is locked")
        }
        // Tampering with the sealed file is detected (it would otherwise decrypt to garbage).
        var tampered = file
        tampered[tampered.count - 40] ^= 1
        try FileIO.replaceAtomically(store.rootKeyPath, tampered, mode: 0o600)
        XCTAssertThrowsError(try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet", password: pw))
    }

    func testCorruptFileRefused() throws {
        let datadir = Self.temporaryDirectory()
        let store = try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet")
        try FileIO.replaceAtomically(store.rootKeyPath, Array("PTRK1\n".utf8) + [1, 0x30, 5, 1, 2], mode: 0o600)
        XCTAssertThrowsError(try MacaroonStore.openOrCreate(datadir: datadir, network: "testnet")) {
            XCTAssertEqual(($0 as? MacaroonError)?.message, "root key file is corrupt")
        }
    }

    func testBakeMacaroonService() throws {
        let store = try Self.temporaryStore()
        let service = MacaroonService(checker: MacaroonChecker(rootKeys: store), store: store)
        let help = "supported actions are [read write generate], supported entities are [onchain offchain address message remotesigner peers info invoices signer macaroon uri]"
        func bakeError(_ perms: [MacaroonPermission], external: Bool = false) -> String? {
            do { _ = try service.bakeMacaroon(permissions: perms, rootKeyID: 0, allowExternalPermissions: external); return nil }
            catch { return error.message }
        }
        XCTAssertEqual(bakeError([]), "permission list cannot be empty. specify at least one action/entity pair. \(help)")
        XCTAssertEqual(bakeError([.init("wallet", "read")]), "invalid permission entity. \(help)")
        XCTAssertEqual(bakeError([.init("info", "sing")]), "invalid permission action. \(help)")
        XCTAssertEqual(bakeError([.init("uri", "/nope.Nope/Nope")]),
                       "invalid permission action, must be an existing URI in the format /package.Service/MethodName")
        XCTAssertNil(bakeError([.init("uri", "/lnrpc.Lightning/GetInfo")]))
        XCTAssertNil(bakeError([.init("wallet", "sing")], external: true))

        let hex = try service.bakeMacaroon(permissions: [.init("offchain", "read")], rootKeyID: 12345, allowExternalPermissions: false)
        let m = try Macaroon(binary: Hex.decode(hex)!)
        let id = try MacaroonIdentifier.decode(protobuf: m.identifier[1...])
        XCTAssertEqual(id.storageID, Array("12345".utf8))
        XCTAssertEqual(try store.rootKey(id: Array("12345".utf8)).count, 32)
        try service.checker.checkRequest(macaroonValues: [hex], fullMethod: "/routerrpc.Router/TrackPaymentV2", peerIP: nil)

        let disabled = MacaroonService(checker: .disabled(), store: store)
        XCTAssertThrowsError(try disabled.bakeMacaroon(permissions: [.init("info", "read")], rootKeyID: 0, allowExternalPermissions: false)) {
            XCTAssertEqual(($0 as? MacaroonError)?.message, "macaroon authentication disabled, remove --no-macaroons flag to enable")
        }
        let listed = service.listPermissions()
        XCTAssertEqual(listed.count, RequiredPermissions.requiredPermissions.count)
        XCTAssertEqual(listed.first { $0.method == "/lnrpc.Lightning/ListPermissions" }?.permissions, [.init("info", "read")])
    }
}
