import XCTest
import Foundation
@testable import Crypto

final class NodeIdentityTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nodeid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testCreatedOnFirstStartWithMode0600AndReloaded() throws {
        let path = dir.appendingPathComponent("node.key").path
        let first = try NodeIdentity.loadOrCreate(path: path)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual((attrs[.size] as? NSNumber)?.intValue, 32)
        let second = try NodeIdentity.loadOrCreate(path: path)
        XCTAssertEqual(first.publicKey, second.publicKey)
        XCTAssertEqual(first.privateKey, second.privateKey)
        // No temporary file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["node.key"])
    }

    func testMissingFileLoadsNil() throws {
        XCTAssertNil(try NodeIdentity.load(path: dir.appendingPathComponent("absent").path))
    }

    func testInsecurePermissionsAreRefused() throws {
        let path = dir.appendingPathComponent("node.key").path
        _ = try NodeIdentity.loadOrCreate(path: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(path: path)) {
            XCTAssertEqual($0 as? NodeIdentity.Error, .insecurePermissions(path: path, mode: 0o644))
        }
    }

    func testCorruptFilesAreRefused() throws {
        let short = dir.appendingPathComponent("short").path
        XCTAssertTrue(FileManager.default.createFile(atPath: short, contents: Data([1, 2, 3]), attributes: [.posixPermissions: 0o600]))
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(path: short)) {
            XCTAssertEqual($0 as? NodeIdentity.Error, .invalidLength(path: short, length: 3))
        }
        let zero = dir.appendingPathComponent("zero").path
        XCTAssertTrue(FileManager.default.createFile(atPath: zero, contents: Data(count: 32), attributes: [.posixPermissions: 0o600]))
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(path: zero)) {
            XCTAssertEqual($0 as? NodeIdentity.Error, .invalidKey(path: zero))
        }
    }

    func testUnwritableDirectoryIsAnIOError() throws {
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(path: "/nonexistent-dir-\(UUID().uuidString)/node.key")) {
            guard case .io = $0 as? NodeIdentity.Error else { return XCTFail("\($0)") }
        }
    }
}
