import Foundation
import XCTest
import PostgresTestSupport
@testable import KomodoRPC

/// `KDFRecordStore`'s contract, the same on both backends: replace and insert-if-absent, the
/// description filter following every write, status only moving forward, paging by number and by
/// id, totals and the other filters. This class runs on SQLite (`KDFPaymentStore`);
/// `PostgresKDFRecordStoreConformance` runs it unchanged on PostgreSQL.
class KDFRecordStoreConformance: XCTestCase {
    class var usesPostgres: Bool { false }

    func open() throws -> any KDFRecordStore {
        if Self.usesPostgres {
            return try PostgresKDFPaymentStore(options: .init(dsn: try PostgresCluster.shared().createDatabase(), schema: "paytrack_kdf"))
        }
        return try KDFPaymentStore(path: ":memory:")
    }

    func hash(_ i: Int) -> String { String(format: "%064x", i) }

    func record(_ i: Int, _ description: String, status: KDFPaymentRecord.Status = .pending, at: Int64 = 100,
                inbound: Bool = false, amount: UInt64? = 1000) -> KDFPaymentRecord {
        KDFPaymentRecord(paymentHash: hash(i), direction: inbound ? .inbound : .outbound(destination: "02" + String(repeating: "ab", count: 32)),
                         description: description, amountMsat: amount, feePaidMsat: nil, status: status, createdAt: at, lastUpdated: at)
    }

    func hashes(_ store: any KDFRecordStore, _ description: String) throws -> [String] {
        var f = KDFPaymentFilter()
        f.description = description
        return try store.page(filter: f, paging: .pageNumber(1), limit: 10).records.map { String($0.paymentHash.suffix(1)) }
    }

    func testReplaceKeepsIndexAndCountInStep() throws {
        let store = try open()
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
        XCTAssertTrue(try store.insertIfAbsent(record(3, "third", inbound: true)))
        XCTAssertEqual(try hashes(store, "ignored"), [])
        XCTAssertEqual(store.count, 3)
        // Short substrings (below a trigram) still match, ASCII case-insensitively.
        XCTAssertEqual(try hashes(store, "CO"), ["2"])
    }

    func testStatusOnlyMovesForward() throws {
        let store = try open()
        try store.insertOrReplace(record(1, "x"))
        try store.insertIfAbsent(record(2, "in", inbound: true))
        XCTAssertEqual(try store.pendingOutboundHashes(), [hash(1)])
        XCTAssertTrue(try store.markOutboundTerminal(hash: hash(1), succeeded: true, feePaidMsat: 7, at: 300))
        XCTAssertFalse(try store.markOutboundTerminal(hash: hash(1), succeeded: false, feePaidMsat: nil, at: 400))
        XCTAssertFalse(try store.markOutboundTerminal(hash: hash(2), succeeded: true, feePaidMsat: nil, at: 400), "inbound")
        let r = try XCTUnwrap(try store.record(hash: hash(1)))
        XCTAssertEqual(r.status, .succeeded)
        XCTAssertEqual(r.feePaidMsat, 7)
        XCTAssertEqual(r.lastUpdated, 300)
        XCTAssertEqual(try store.pendingOutboundHashes(), [])
        XCTAssertTrue(try store.advanceInbound(hash: hash(2), to: .claimable, at: 500))
        XCTAssertFalse(try store.advanceInbound(hash: hash(2), to: .claimable, at: 600))
        XCTAssertTrue(try store.advanceInbound(hash: hash(2), to: .succeeded, at: 700))
        XCTAssertFalse(try store.advanceInbound(hash: hash(2), to: .claimable, at: 800), "never backwards")
        XCTAssertEqual(try store.record(hash: hash(2))?.status, .succeeded)
        XCTAssertEqual(try store.record(hash: hash(2))?.lastUpdated, 700)
        XCTAssertNil(try store.record(hash: hash(9)))
    }

    func testPagingAndFilters() throws {
        let store = try open()
        // Rows 1...7, last_updated 10, 20, ... ; rows 6 and 7 share a stamp (ties: newest row first).
        try store.insertBatch((1...7).map { record($0, "item \($0)", at: Int64(min($0, 6)) * 10, amount: UInt64($0) * 100) })
        let all = try store.page(filter: KDFPaymentFilter(), paging: .pageNumber(1), limit: 3)
        XCTAssertEqual(all.records.map { String($0.paymentHash.suffix(1)) }, ["7", "6", "5"])
        XCTAssertEqual(all.total, 7)
        XCTAssertEqual(all.skipped, 0)
        let second = try store.page(filter: KDFPaymentFilter(), paging: .pageNumber(2), limit: 3)
        XCTAssertEqual(second.records.map { String($0.paymentHash.suffix(1)) }, ["4", "3", "2"])
        XCTAssertEqual(second.skipped, 3)
        let fromID = try store.page(filter: KDFPaymentFilter(), paging: .fromID(Array(repeating: 0, count: 31) + [6]), limit: 2)
        XCTAssertEqual(fromID.records.map { String($0.paymentHash.suffix(1)) }, ["5", "4"])
        XCTAssertEqual(fromID.skipped, 2)
        let unknown = try store.page(filter: KDFPaymentFilter(), paging: .fromID(Array(repeating: 9, count: 32)), limit: 2)
        XCTAssertEqual(unknown.records, [])
        XCTAssertEqual(unknown.skipped, 0)
        XCTAssertEqual(unknown.total, 7)
        var f = KDFPaymentFilter()
        f.fromAmountMsat = 300
        f.toAmountMsat = 500
        let ranged = try store.page(filter: f, paging: .pageNumber(1), limit: 10)
        XCTAssertEqual(ranged.records.map { String($0.paymentHash.suffix(1)) }, ["5", "4", "3"])
        XCTAssertEqual(ranged.total, 3)
        f = KDFPaymentFilter()
        f.fromAmountMsat = UInt64.max
        XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 10).total, 0)
        f = KDFPaymentFilter()
        f.paymentType = .inbound
        XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 10).total, 0)
        f.paymentType = .outbound(destination: "02" + String(repeating: "ab", count: 32))
        f.status = .pending
        XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 0).total, 7)
    }

    /// One- and two-character description filters (the SQLite store counts them by gram and pages
    /// them by its own plans): the same rows, order, totals and skips as any other filter, after a
    /// replacement changed a description.
    func testShortDescriptionFilters() throws {
        let store = try open()
        for (i, d) in ["Coffee", "tea", "ab", "x", "Abc coffee", "100% tea"].enumerated() {
            try store.insertOrReplace(record(i + 1, d, at: Int64(i + 1) * 10, amount: 100))
        }
        try store.insertOrReplace(record(3, "tab", at: 70, amount: 100))
        func page(_ d: String, _ n: Int = 1, limit: Int = 10) throws -> (hashes: [String], total: Int, skipped: Int) {
            var f = KDFPaymentFilter()
            f.description = d
            let p = try store.page(filter: f, paging: .pageNumber(n), limit: limit)
            return (p.records.map { String($0.paymentHash.suffix(1)) }, p.total, p.skipped)
        }
        XCTAssertEqual(try page("e").hashes, ["6", "5", "2", "1"])
        XCTAssertEqual(try page("E").total, 4)
        XCTAssertEqual(try page("e", 2, limit: 3).hashes, ["1"])
        XCTAssertEqual(try page("e", 2, limit: 3).skipped, 3)
        XCTAssertEqual(try page("e", 2, limit: 3).total, 4)
        XCTAssertEqual(try page("AB").hashes, ["3", "5"])
        XCTAssertEqual(try page("ta").hashes, ["3"])
        XCTAssertEqual(try page("%").hashes, ["6"])
        XCTAssertEqual(try page("x").hashes, ["4"])
        XCTAssertEqual(try page("q").total, 0)
        XCTAssertEqual(try page("e", limit: 0).total, 4)
    }
}

/// `KDFRecordStoreConformance`, unchanged, on PostgreSQL (swift-corelibs-xctest runs only the
/// tests a class declares, so each is listed here, forwarding to the shared body).
final class PostgresKDFRecordStoreConformance: KDFRecordStoreConformance {
    override class var usesPostgres: Bool { true }

    override func testReplaceKeepsIndexAndCountInStep() throws { try super.testReplaceKeepsIndexAndCountInStep() }
    override func testStatusOnlyMovesForward() throws { try super.testStatusOnlyMovesForward() }
    override func testPagingAndFilters() throws { try super.testPagingAndFilters() }
    override func testShortDescriptionFilters() throws { try super.testShortDescriptionFilters() }
}
