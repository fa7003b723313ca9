import Crypto
import XCTest
@testable import Macaroons

/// Shared fixtures: the root key and identifier also used by Tests/Interop/test_macaroons.py.
enum Fixture {
    static let rootKey: [UInt8] = Array(0..<32)
    static let nonce: [UInt8] = Array(0xa0..<0xb0)
    static let offchainRW = [MacaroonPermission("offchain", "read"), MacaroonPermission("offchain", "write")]
    static var identifier: MacaroonIdentifier {
        MacaroonIdentifier(nonce: nonce, storageID: RootKeyID.default, permissions: offchainRW)
    }
    static let farFuture = "time-before 2099-01-01T00:00:00Z"
    static let now = MacaroonTime(seconds: 1_800_000_000)

    static func store() -> InMemoryRootKeyStore { InMemoryRootKeyStore(keys: [RootKeyID.default: rootKey]) }

    static func checker(_ store: InMemoryRootKeyStore = Fixture.store()) -> MacaroonChecker {
        MacaroonChecker(rootKeys: store)
    }

    /// A macaroon from `rootKey` with `permissions` and `caveats`.
    static func mint(_ permissions: [MacaroonPermission] = offchainRW, caveats: [String] = [],
                     rootKey: [UInt8] = Fixture.rootKey, storageID: [UInt8] = RootKeyID.default) -> Macaroon {
        let id = MacaroonIdentifier(nonce: nonce, storageID: storageID,
                                    permissions: MacaroonPermission.canonical(permissions))
        var m = MacaroonSigner.mint(rootKey: rootKey, identifier: id.encoded())
        for c in caveats { MacaroonSigner.addFirstPartyCaveat(c, to: &m) }
        return m
    }

    static func hex(_ m: Macaroon) -> String { Hex.encode(m.serializedV2()) }
}

func hexBytes(_ s: String) -> [UInt8] { Hex.decode(s)! }

/// Asserts `body` throws a MacaroonError with exactly `message`.
func XCTAssertMacaroonError(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected error \"\(message)\", got success", file: file, line: line)
    } catch let error as MacaroonError {
        XCTAssertEqual(error.message, message, file: file, line: line)
        XCTAssertEqual(error.grpcStatusCode, 2, file: file, line: line)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
