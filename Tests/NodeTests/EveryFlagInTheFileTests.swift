import Foundation
import XCTest
@testable import Node

/// Issue 17 point 1: every flag of paytrackd can be set in the configuration file, and the file
/// gives the same configuration as the flag (checked for each flag, the new ones included).
final class EveryFlagInTheFileTests: XCTestCase {
    /// A valid value for each placeholder the flags use (a new placeholder fails the test below).
    static let samples: [String: String] = [
        "DIR": "/tmp/pt-every-flag", "HOST:PORT": "127.0.0.1:4242", "FILE": "/tmp/pt-every-flag/file", "NAME": "bob",
        "IP": "10.1.2.3", "NET": "regtest", "LEVEL": "debug", "MB": "7", "N": "3", "NAME=HOST:PORT": "bob=127.0.0.1:4343",
        "SECONDS": "2.5", "MS": "4", "RATE": "0.25", "BYTES": "1000", "BLOCKS": "144", "ORIGIN": "https://example.com",
        "BOOL": "false", "TICKER": "TEST-lightning", "sqlite|postgres": "sqlite", "DSN": "postgres://u@h/db",
        "DURATION": "1500ms",
    ]
    /// Flags whose placeholder's sample is their default or not of their type.
    static let overrides = ["maxlogfiles": "5", "sim.mpptimeout": "7", "db.backend": "postgres"]

    func testEveryFlagIsAKeyOfTheFileWithTheSameEffect() throws {
        let dir = NSTemporaryDirectory() + "/pt-every-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/paytrackd.conf"
        let defaultConfig = String(describing: try defaults(dir))
        var checked = 0
        for flag in Config.flags {
            let name = flag.names.first { $0.count > 1 }!
            if name == "configfile" { continue }   // where the file is cannot be said in the file
            let value: String
            if let v = Self.overrides[name] {
                value = v
            } else if let placeholder = flag.value {
                guard let v = Self.samples[placeholder] else { XCTFail("no sample value for \(placeholder) (--\(name))"); continue }
                value = v
            } else {
                value = "true"
            }
            let section: String, key: String
            if let dot = name.firstIndex(of: ".") {
                (section, key) = (String(name[..<dot]), String(name[name.index(after: dot)...]))
            } else {
                (section, key) = ("Application Options", name)
            }
            try "[\(section)]\n\(key)=\(value)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let base = name == "datadir" ? [] : ["--datadir", dir]
            let fromFile = try Config.parse(base + ["--configfile", file])
            let fromFlag = try Config.parse(base + ["--configfile", dir + "/empty.conf"] + (flag.value == nil ? ["--\(name)"] : ["--\(name)", value]))
            guard case .run(var a) = fromFile, case .run(var b) = fromFlag else { XCTFail(name); continue }
            a.configFile = nil; b.configFile = nil
            XCTAssertEqual(String(describing: a), String(describing: b), "--\(name) vs [\(section)] \(key)")
            if name != "keep-failed-payment-attempts" {   // the one switch that states the default
                XCTAssertNotEqual(String(describing: a), defaultConfig, "--\(name) changed nothing")
            }
            checked += 1
        }
        XCTAssertEqual(checked, Config.flags.count - 1)
        XCTAssertTrue(Config.flags.contains { $0.names.contains("prometheus.enable") })
        XCTAssertTrue(Config.flags.contains { $0.names.contains("prometheus.listen") })
    }

    func defaults(_ dir: String) throws -> Config {
        try "".write(toFile: dir + "/empty.conf", atomically: true, encoding: .utf8)
        guard case .run(var c) = try Config.parse(["--datadir", dir, "--configfile", dir + "/empty.conf"]) else { return Config() }
        c.configFile = nil
        return c
    }
}
