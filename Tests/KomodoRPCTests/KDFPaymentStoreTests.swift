import Foundation
import XCTest
@testable import KomodoRPC

/// The KDF record store alone: the description index follows every write, the kept row count
/// equals the table's, and a replaced row is found by its new description only.
final class KDFPaymentStoreTests: XCTestCase {
    func record(_ i: Int, _ description: String, status: KDFPaymentRecord.Status = .pending, at: Int64 = 100) -> KDFPaymentRecord {
        KDFPaymentRecord(paymentHash: String(format: "%064x", i), direction: .outbound(destination: "02" + String(repeating: "ab", count: 32)),
                         description: description, amountMsat: 1000, feePaidMsat: nil, status: status, createdAt: at, lastUpdated: at)
    }

    func hashes(_ store: KDFPaymentStore, _ description: String) throws -> [String] {
        var f = KDFPaymentFilter()
        f.description = description
        return try store.page(filter: f, paging: .pageNumber(1), limit: 10).records.map { String($0.paymentHash.suffix(1)) }
    }

    func testReplaceKeepsIndexAndCountInStep() throws {
        let store = try KDFPaymentStore(path: ":memory:")
        try store.insertOrReplace(record(1, "first burger"))
        try store.insertOrReplace(record(2, "second coffee"))
        XCTAssertEqual(try hashes(store, "burger"), ["1"])
        // A retried payment: KDF's INSERT OR REPLACE resets the row.
        try store.insertOrReplace(record(1, "retried spinach", at: 200))
        XCTAssertEqual(try hashes(store, "burger"), [])
        XCTAssertEqual(try hashes(store, "SPINACH"), ["1"])
        XCTAssertEqual(store.count, 2)
        XCTAssertEqual(try store.page(filter: KDFPaymentFilter(), paging: .pageNumber(1), limit: 10).total, 2)
        XCTAssertFalse(try store.insertIfAbsent(record(2, "ignored")))
        XCTAssertEqual(try hashes(store, "ignored"), [])
        XCTAssertEqual(store.count, 2)
        // Short substrings (below a trigram) still match, ASCII case-insensitively.
        XCTAssertEqual(try hashes(store, "CO"), ["2"])
    }

    func testStatusOnlyMovesForward() throws {
        let store = try KDFPaymentStore(path: ":memory:")
        try store.insertOrReplace(record(1, "x"))
        XCTAssertTrue(try store.markOutboundTerminal(hash: String(format: "%064x", 1), succeeded: true, feePaidMsat: 7, at: 300))
        XCTAssertFalse(try store.markOutboundTerminal(hash: String(format: "%064x", 1), succeeded: false, feePaidMsat: nil, at: 400))
        let r = try XCTUnwrap(try store.record(hash: String(format: "%064x", 1)))
        XCTAssertEqual(r.status, .succeeded)
        XCTAssertEqual(r.feePaidMsat, 7)
        XCTAssertEqual(r.lastUpdated, 300)
    }

    /// Every read leaves its statement reset: a read that stopped at its first row (the kept row
    /// count, a record by hash, the FromId anchor) must not hold its read open, or a later write
    /// on the same connection fails (`database table is locked`, the 1,000,000-row benchmark's
    /// crash) and the WAL can never be checkpointed.
    func testReadsDoNotBlockLaterWrites() throws {
        let path = NSTemporaryDirectory() + "kdf-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let store = try KDFPaymentStore(path: path)
        try store.insertOrReplace(record(1, "first burger"))
        XCTAssertEqual(store.count, 1)
        XCTAssertNotNil(try store.record(hash: String(format: "%064x", 1)))
        var f = KDFPaymentFilter()
        f.description = "burger"
        _ = try store.page(filter: f, paging: .fromID(Array(repeating: 0, count: 31) + [1]), limit: 0)
        try store.insertBatch((2...50).map { record($0, "batch \($0)") })
        XCTAssertEqual(store.count, 50)
        try store.insertBatch((51...60).map { record($0, "batch \($0)") })
        XCTAssertEqual(store.count, 60)
        // A second connection (another process: the benchmark re-run) sees every row.
        XCTAssertEqual(try KDFPaymentStore(path: path).count, 60)
    }
}
