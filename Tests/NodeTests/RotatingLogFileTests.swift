import Foundation
import Node
import XCTest

final class RotatingLogFileTests: XCTestCase {
    func testRotatesBySizeAndKeepsAtMostKeptFiles() throws {
        let dir = NSTemporaryDirectory() + "/pt-logs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bitcoin/regtest/paytrackd.log"
        let file = try RotatingLogFile(path: path, maximumBytes: 100, keptFiles: 2)
        for i in 0..<25 { file.write(Array(String(format: "line %03d ----------\n", i).utf8)) }  // 20 bytes each
        XCTAssertEqual(file.existingFiles(), [path, path + ".1", path + ".2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".3"))
        let live = try String(contentsOfFile: path, encoding: .utf8)
        let first = try String(contentsOfFile: path + ".1", encoding: .utf8)
        let second = try String(contentsOfFile: path + ".2", encoding: .utf8)
        XCTAssertEqual(live.split(separator: "\n").count, 5)
        XCTAssertTrue(live.hasPrefix("line 020"))
        XCTAssertTrue(first.hasPrefix("line 015") && first.hasSuffix("line 019 ----------\n"))
        XCTAssertTrue(second.hasPrefix("line 010"))
        for p in file.existingFiles() {
            let attributes = try FileManager.default.attributesOfItem(atPath: p)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, p)
            XCTAssertLessThanOrEqual((attributes[.size] as? NSNumber)?.intValue ?? 0, 100, p)
        }
    }

    func testReopensAppendingAndNeverRotatesWithZeroKeptFiles() throws {
        let dir = NSTemporaryDirectory() + "/pt-logs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/paytrackd.log"
        do {
            let file = try RotatingLogFile(path: path, maximumBytes: 10, keptFiles: 0)
            for _ in 0..<5 { file.write(Array("0123456789\n".utf8)) }
        }
        let again = try RotatingLogFile(path: path, maximumBytes: 10, keptFiles: 0)
        again.write(Array("last\n".utf8))
        XCTAssertEqual(again.existingFiles(), [path])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8).count, 5 * 11 + 5)
    }

    func testOversizedLineGoesToAFreshFileWhole() throws {
        let dir = NSTemporaryDirectory() + "/pt-logs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/paytrackd.log"
        let file = try RotatingLogFile(path: path, maximumBytes: 10, keptFiles: 3)
        file.write(Array("short\n".utf8))
        let long = String(repeating: "x", count: 50) + "\n"
        file.write(Array(long.utf8))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), long)
        XCTAssertEqual(try String(contentsOfFile: path + ".1", encoding: .utf8), "short\n")
    }

    func testDaemonLogPathIsLNDs() throws {
        guard case .run(let c) = try Config.parse(["--datadir", "/d", "--network", "regtest"]) else { return XCTFail() }
        XCTAssertEqual(c.logFilePath, "/d/logs/bitcoin/regtest/paytrackd.log")
        XCTAssertEqual(c.maxLogFileSizeMB, 20)
        XCTAssertEqual(c.maxLogFiles, 3)
        guard case .run(let d) = try Config.parse(["--datadir", "/d", "--logdir", "/l", "--maxlogfilesize", "1", "--maxlogfiles", "0"]) else { return XCTFail() }
        XCTAssertEqual(d.logFilePath, "/l/bitcoin/testnet/paytrackd.log")
        XCTAssertEqual(d.maxLogFiles, 0)
    }
}
