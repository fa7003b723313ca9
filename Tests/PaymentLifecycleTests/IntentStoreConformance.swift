import Foundation
import XCTest
import Payments
import PostgresTestSupport
import Routing
@testable import PaymentLifecycle

/// `PaymentIntentStore`'s contract, the same on every backend: an intent round-trips every field,
/// survives reopening, is replaced by a later save of the same hash, and is gone after delete.
/// This class runs on SQLite; `PostgresIntentStoreConformance` runs it unchanged on PostgreSQL.
class IntentStoreConformance: XCTestCase {
    class var usesPostgres: Bool { false }
    private var dir = ""
    private var dsn = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("intents-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if Self.usesPostgres { dsn = try PostgresCluster.shared().createDatabase() }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func open() throws -> any PaymentIntentStore {
        if Self.usesPostgres { return try PostgresIntentStore(options: PostgresIntentStore.Options(dsn: dsn, schema: "paytrack_test")) }
        return try SQLiteIntentStore(path: dir + "/intents.sqlite")
    }

    private func sample(_ n: UInt8) -> PaymentIntent {
        let node = NodeID(bytes: [2] + [UInt8](repeating: n, count: 32))!
        return PaymentIntent(paymentHash: [UInt8](repeating: n, count: 32), destination: node, amountMsat: 1_000 * UInt64(n),
                             feeLimitMsat: 5_000, cltvLimit: 400, outgoingChanIDs: [7, 8], lastHopPubKey: node,
                             paymentAddr: [UInt8](repeating: 0xaa, count: 32), destCustomRecords: [5_482_373_484: [n]],
                             firstHopCustomRecords: [65_537: [1]], maxParts: 4, maxShardSizeMsat: 600, timeoutSeconds: 30, paymentRequest: "lnbc1", creationTimeNs: 1_700_000_000_000_000_000)
    }

    func testSaveReplaceDeleteAcrossReopen() throws {
        var store: (any PaymentIntentStore)? = try open()
        let a = sample(1), b = sample(2)
        try store!.save(a)
        try store!.save(b)
        var changed = b
        changed.amountMsat = 99
        try store!.save(changed)
        store!.delete(PaymentHash(a.paymentHash)!)
        store!.delete(PaymentHash([UInt8](repeating: 9, count: 32))!)   // unknown: no error
        store = nil
        let again = try open()
        XCTAssertNil(try again.intent(for: PaymentHash(a.paymentHash)!))
        XCTAssertEqual(try again.intent(for: PaymentHash(b.paymentHash)!), changed, "the later save replaced the first")
    }
}

/// `IntentStoreConformance`, unchanged, on PostgreSQL (swift-corelibs-xctest runs only the tests a
/// class declares, so each is listed here, forwarding to the shared body).
final class PostgresIntentStoreConformance: IntentStoreConformance {
    override class var usesPostgres: Bool { true }

    override func testSaveReplaceDeleteAcrossReopen() throws { try super.testSaveReplaceDeleteAcrossReopen() }
}
