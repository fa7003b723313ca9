import XCTest
@testable import Node

/// The Komodo API's flags in the daemon's flag table.
final class KDFConfigTests: XCTestCase {
    func config(_ args: [String]) throws -> Config {
        guard case .run(let c) = try Config.parse(args) else { throw ConfigError(description: "not run") }
        return c
    }

    func testDefaultsAndFlags() throws {
        var c = try config([])
        XCTAssertNil(c.kdfListen)
        XCTAssertEqual(Config.defaultKDFListen, "127.0.0.1:7783")
        XCTAssertEqual(c.kdfTicker, "tBTC-lightning")
        XCTAssertTrue(c.kdfLocalOnly)
        XCTAssertFalse(c.kdfHTTPS)
        c = try config(["--network", "mainnet"])
        XCTAssertEqual(c.kdfTicker, "BTC-lightning")
        c = try config(["--kdf.rpclisten", "0.0.0.0:9000", "--kdf.https", "--kdf.coin", "X-lightning", "--kdf.rpccors", "*",
                        "--kdf.rpc-local-only=false", "--kdf.rpcpassword-file", "/p", "--kdf.allow-weak-password",
                        "--serve-kdf", "bob=127.0.0.1:7784", "--nokdf"])
        XCTAssertEqual(c.kdfListen, "0.0.0.0:9000")
        XCTAssertTrue(c.kdfHTTPS && c.kdfAllowWeakPassword && c.noKDF)
        XCTAssertEqual(c.kdfTicker, "X-lightning")
        XCTAssertEqual(c.kdfCORS, "*")
        XCTAssertFalse(c.kdfLocalOnly)
        XCTAssertEqual(c.kdfPasswordFile, "/p")
        XCTAssertEqual(c.serveKDF.map { "\($0.name)=\($0.address)" }, ["bob=127.0.0.1:7784"])
        XCTAssertThrowsError(try config(["--kdf.rpclisten", "nope"]))
        XCTAssertThrowsError(try config(["--serve-kdf", "=1.2.3.4:5"]))
        XCTAssertThrowsError(try config(["--kdf.rpc-local-only", "maybe"]))
        XCTAssertTrue(Config.usage().contains("--kdf.rpclisten HOST:PORT"))
    }
}
