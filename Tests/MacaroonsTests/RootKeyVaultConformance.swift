import Crypto
import PostgresTestSupport
import XCTest
@testable import Macaroons

/// Two `MacaroonStore`s over one vault, as two replicas of a node would be: a key either creates
/// is found by the other (so a macaroon minted on one verifies on the other), keys created at the
/// same time on both are all kept, both agree on root key "0", and a sealed vault needs the
/// password. This class runs on the file vault; `PostgresRootKeyVaultConformance` on PostgreSQL.
class RootKeyVaultConformance: XCTestCase {
    class var usesPostgres: Bool { false }
    private var dsn = ""
    private var path = ""

    override func setUpWithError() throws {
        path = MacaroonStoreTests.temporaryDirectory() + "/macaroons.rootkeys"
        if Self.usesPostgres { dsn = try PostgresCluster.shared().createDatabase() }
    }

    func vault() throws -> any RootKeyVault {
        if Self.usesPostgres { return try PostgresRootKeyVault(options: PostgresRootKeyVault.Options(dsn: dsn, schema: "paytrack_test")) }
        return FileRootKeyVault(path: path)
    }

    func open(password: [UInt8]? = nil) throws -> MacaroonStore {
        try MacaroonStore.open(vault: vault(), networkDirectory: "/nonexistent", password: password, kdfIterations: 500)
    }

    func testReplicasShareKeys() throws {
        let a = try open(), b = try open()
        XCTAssertEqual(try a.rootKey(id: RootKeyID.default), try b.rootKey(id: RootKeyID.default), "one key \"0\"")
        let k7 = try a.rootKeyCreatingIfNeeded(id: RootKeyID.from(7))
        sleep(1)   // b looks in the vault again at most once a second
        XCTAssertEqual(try b.rootKey(id: RootKeyID.from(7)), k7, "a key made on one replica is found on the other")
        // A macaroon baked on a verifies with b's key.
        let mac = try a.bake(permissions: MacaroonPermission.readOnly, rootKeyID: RootKeyID.from(7))
        XCTAssertEqual(MacaroonSigner.mint(rootKey: try b.rootKey(id: RootKeyID.from(7)), identifier: mac.identifier, location: "lnd").signature,
                       mac.signature)
        // Both create keys "at once": the vault keeps every one, and the first writer's key wins.
        let k8 = try b.rootKeyCreatingIfNeeded(id: RootKeyID.from(8))
        let k9 = try a.rootKeyCreatingIfNeeded(id: RootKeyID.from(9))
        let k8FromA = try a.rootKeyCreatingIfNeeded(id: RootKeyID.from(8))
        XCTAssertEqual(k8FromA, k8, "creating an id another replica already made adopts its key")
        let c = try open()
        XCTAssertEqual(Set(c.rootKeyIDs), Set([RootKeyID.default, RootKeyID.from(7), RootKeyID.from(8), RootKeyID.from(9)]))
        XCTAssertEqual(try c.rootKey(id: RootKeyID.from(9)), k9)
        XCTAssertThrowsError(try c.rootKey(id: RootKeyID.from(10))) {
            XCTAssertEqual(($0 as? MacaroonError), .rootKeyNotFound(id: RootKeyID.from(10)))
        }
    }

    func testSealedVault() throws {
        let pw = Array("correct horse".utf8)
        let a = try open(password: pw)
        let key = try a.rootKey(id: RootKeyID.default)
        let stored = try XCTUnwrap(try vault().load())
        XCTAssertTrue(stored.starts(with: Array("PTRKS1\n".utf8)))
        XCTAssertNil(stored.firstRange(of: key), "root key stored in clear")
        XCTAssertEqual(try open(password: pw).rootKey(id: RootKeyID.default), key)
        XCTAssertThrowsError(try open(password: Array("wrong".utf8))) { XCTAssertEqual(($0 as? MacaroonError)?.message, "invalid password") }
        XCTAssertThrowsError(try open()) { XCTAssertEqual(($0 as? MacaroonError)?.message, "macaroon store is locked") }
    }
}

/// `RootKeyVaultConformance`, unchanged, on PostgreSQL (swift-corelibs-xctest runs only the tests
/// a class declares, so each is listed here, forwarding to the shared body).
final class PostgresRootKeyVaultConformance: RootKeyVaultConformance {
    override class var usesPostgres: Bool { true }

    override func testReplicasShareKeys() throws { try super.testReplicasShareKeys() }
    override func testSealedVault() throws { try super.testSealedVault() }
}
