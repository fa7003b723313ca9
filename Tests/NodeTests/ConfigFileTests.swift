import Foundation
import Node
import XCTest

/// paytrackd's flags and its configuration file (DATADIR/paytrackd.conf or --configfile).
final class ConfigFileTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "/pt-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ text: String, _ name: String = "paytrackd.conf") throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func config(_ args: [String]) throws -> Config {
        guard case .run(let c) = try Config.parse(args) else { XCTFail("not a run"); return Config() }
        return c
    }

    func testDefaultFileInDatadirIsRead() throws {
        _ = try write("""
        [Application Options]
        rpclisten=127.0.0.1:1
        rpclisten=127.0.0.1:2
        network=regtest
        no-macaroons=true
        maxlogfiles=5

        [routerrpc]
        usestatusinitiated=1

        [sim]
        seed=9
        latency=0
        """)
        let c = try config(["--datadir", directory])
        XCTAssertEqual(c.rpcListen, ["127.0.0.1:1", "127.0.0.1:2"])
        XCTAssertEqual(c.network, "regtest")
        XCTAssertTrue(c.noMacaroons)
        XCTAssertTrue(c.useStatusInitiated)
        XCTAssertEqual(c.simSeed, 9)
        XCTAssertEqual(c.hopLatencyMilliseconds, 0)
        XCTAssertEqual(c.maxLogFiles, 5)
        XCTAssertEqual(c.dataDirectory, directory)
    }

    func testFlagsOverrideTheFile() throws {
        let path = try write("network=regtest\nsim.seed=9\nrpclisten=127.0.0.1:1\n", "other.conf")
        let c = try config(["--configfile", path, "--network", "simnet", "--rpclisten", "127.0.0.1:7", "--datadir", directory])
        XCTAssertEqual(c.network, "simnet")
        XCTAssertEqual(c.rpcListen, ["127.0.0.1:7"])
        XCTAssertEqual(c.simSeed, 9)
    }

    func testNoFileIsFineButAMissingExplicitFileIsNot() throws {
        XCTAssertEqual(try config(["--datadir", directory]).network, "testnet")
        XCTAssertThrowsError(try Config.parse(["--configfile", directory + "/nope.conf"])) { error in
            XCTAssertTrue("\(error)".contains("cannot read configuration file \(directory!)/nope.conf"), "\(error)")
        }
    }

    func testErrorsNameFileLineAndKey() throws {
        let path = directory + "/paytrackd.conf"
        let cases: [(String, String)] = [
            ("network=regtest\n[sim]\nbogus=1\n", "\(path):3: sim.bogus: unknown option"),
            ("network=moon\n", "\(path):1: network: unknown network \"moon\": use one of mainnet, testnet, regtest, simnet, signet"),
            ("\n\nsim.seed=1\n[sim]\nseed=2\n", "\(path):5: sim.seed: given more than once (only repeatable options may be)"),
            ("[sim]\nlatency=-1\n", "\(path):2: sim.latency: --sim.latency wants a number ≥ 0"),
            ("configfile=/x\n", "\(path):1: configfile: not allowed in the configuration file"),
        ]
        for (text, message) in cases {
            _ = try write(text)
            XCTAssertThrowsError(try Config.parse(["--datadir", directory]), text) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testCommandLineRulesAreUnchanged() throws {
        XCTAssertThrowsError(try Config.parse(["--bogus"])) { XCTAssertEqual("\($0)", "unknown flag --bogus (see --help)") }
        XCTAssertThrowsError(try Config.parse(["--network", "a", "--network", "b"])) { XCTAssertEqual("\($0)", "--network given more than once") }
        XCTAssertThrowsError(try Config.parse(["--sim.seed", "x", "--datadir", directory])) { XCTAssertEqual("\($0)", "--sim.seed wants an unsigned integer") }
        guard case .help(let text) = try Config.parse(["--datadir", directory, "-h"]) else { return XCTFail() }
        XCTAssertTrue(text.contains("--configfile FILE"))
        guard case .version = try Config.parse(["-V"]) else { return XCTFail() }
        let c = try config(["--datadir", directory, "--no-macaroons=false", "-d", "debug", "--tlsextradomain", "a", "--tlsextradomain", "b"])
        XCTAssertFalse(c.noMacaroons)
        XCTAssertEqual(c.tlsExtraDomains, ["a", "b"])
    }
}
