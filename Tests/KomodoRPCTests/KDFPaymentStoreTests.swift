import Foundation
import Simnet
import XCTest
@testable import KomodoRPC

/// The SQLite KDF record store alone, beyond the contract both backends meet
/// (`KDFRecordStoreConformance`): NUL in descriptions, reads that never hold a later write, the
/// description plans against a plain scan, ASCII filters on non-ASCII rows, migrations and the cache.
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

    /// A description with a NUL inside (JSON's "\u0000" is a valid string) is stored and read
    /// back whole, and found by a filter spanning the NUL (SQLite text was bound as a C string,
    /// which cut it at the NUL without an error), also by filters of 3+ characters after the NUL,
    /// where the trigram tokenizer stops (such rows join the index's candidates).
    func testDescriptionWithNULIsKeptWhole() throws {
        let store = try KDFPaymentStore(path: ":memory:")
        let description = "caf\u{0}é latte"
        try store.insertOrReplace(record(1, description))
        try store.insertOrReplace(record(2, "caf"))
        XCTAssertEqual(try store.record(hash: String(format: "%064x", 1))?.description, description)
        XCTAssertEqual(try hashes(store, "\u{0}é"), ["1"])
        XCTAssertEqual(try hashes(store, "f\u{0}"), ["1"])
        // After the NUL, where the trigram tokenizer stops; and a filter holding the NUL.
        XCTAssertEqual(try hashes(store, "LATTE"), ["1"])
        XCTAssertEqual(try hashes(store, "é l"), ["1"])
        XCTAssertEqual(try hashes(store, "caf\u{0}é"), ["1"])
        XCTAssertEqual(try hashes(store, "caf"), ["2", "1"])
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

    /// The description filter gives exactly what a plain scan gives (a literal substring, ASCII
    /// case-insensitive as SQLite's LIKE; `%`, `_`, quotes ordinary), whether the trigram index
    /// serves it (three or more characters) or not, and whether the index alone decides a row (an
    /// ASCII filter on an ASCII description) or the row is re-checked: random descriptions over an
    /// alphabet with ASCII and non-ASCII case pairs (É/é, ẞ/ß, the Kelvin sign, dotted/dotless i),
    /// wildcards and quotes, then over a mostly ASCII one (most rows ASCII, some with the Kelvin
    /// sign or `İ`, which the index folds to `k` and `i`), compared with a model of the rule, in
    /// order, with totals, a later page, a status filter and FromId. Every one- and two-character
    /// ASCII filter of the alphabets is checked too, with each `KDFShortDescriptionPlan` forced
    /// and with the store's choice (its total from the gram counts after every kind of write).
    func testDescriptionFilterEqualsPlainScan() throws {
        let mixed: [String] = ["a", "A", "b", "B", "k", "K", "\u{212A}", "é", "É", "ß", "ẞ", "i", "I", "ı", "İ",
                               "%", "_", "'", "\"", " ", "1", "😀", "*", "-"]
        let mostlyASCII: [String] = Array(repeating: ["a", "A", "b", "B", "k", "K", "i", "I", " ", "%", "\"", "*"], count: 6).flatMap { $0 }
            + ["\u{212A}", "İ", "ẞ", "ß"]
        // One- and two-character ASCII filters alone take `KDFShortDescriptionPlan`: each plan is
        // checked forced, and the store's own choice.
        // An ASCII-only store lists the trigram plan's terms from the counted pairs instead.
        let asciiOnly: [String] = ["a", "A", "b", "B", "k", "K", " ", "%", "\"", "*", "1", "-"]
        for plan in [nil, KDFShortDescriptionPlan.walk, .trigrams] {
            try checkDescriptionFilter(alphabet: mixed, seed: 0x6B64_6632, minimumNonEmpty: 100, plan: plan)
            try checkDescriptionFilter(alphabet: mostlyASCII, seed: 0x6B64_6633, minimumNonEmpty: 150, plan: plan)
            try checkDescriptionFilter(alphabet: asciiOnly, seed: 0x6B64_6634, minimumNonEmpty: 150, plan: plan)
        }
    }

    func checkDescriptionFilter(alphabet: [String], seed: UInt64, minimumNonEmpty: Int, plan: KDFShortDescriptionPlan?) throws {
        var rng = SeededGenerator(seed: seed)
        func text(_ n: Int) -> String { (0..<n).map { _ in alphabet.randomElement(using: &rng)! }.joined() }

        let store = try KDFPaymentStore(path: ":memory:")
        store.shortPlanOverride = plan
        var rows: [(id: Int, record: KDFPaymentRecord)] = []
        for i in 0..<400 {
            let r = record(i, text(Int.random(in: 0...12, using: &rng)), status: i % 3 == 0 ? .succeeded : .pending,
                           at: Int64.random(in: 100...140, using: &rng))
            try store.insertOrReplace(r)
            rows.append((i, r))
        }
        // Retried payments: rows replaced with new descriptions keep their place (id).
        for _ in 0..<60 {
            let i = Int.random(in: 0..<rows.count, using: &rng)
            let r = record(i, text(Int.random(in: 0...12, using: &rng)), at: Int64.random(in: 100...140, using: &rng))
            try store.insertOrReplace(r)
            rows[i].record = r
        }
        // Outcomes: status and last_updated change (the narrow keys must follow).
        for _ in 0..<60 {
            let i = Int.random(in: 0..<rows.count, using: &rng)
            guard rows[i].record.status == .pending else { continue }
            let at = Int64.random(in: 141...160, using: &rng)
            XCTAssertTrue(try store.markOutboundTerminal(hash: rows[i].record.paymentHash, succeeded: true, feePaidMsat: 1, at: at))
            rows[i].record.status = .succeeded
            rows[i].record.feePaidMsat = 1
            rows[i].record.lastUpdated = at
        }
        let ordered = rows.sorted { ($0.record.lastUpdated, $0.id) > ($1.record.lastUpdated, $1.id) }.map(\.record)
        let idOf = Dictionary(uniqueKeysWithValues: rows.map { ($0.record.paymentHash, $0.id) })

        /// The filter's first page with every match, against the rule's rows in order.
        func checkFirstPage(_ needle: String) throws -> (KDFPaymentFilter, [KDFPaymentRecord]) {
            var f = KDFPaymentFilter()
            f.description = needle
            let expected = ordered.filter { Self.containsASCIIFolded($0.description, needle) }
            let all = try store.page(filter: f, paging: .pageNumber(1), limit: 1000)
            XCTAssertEqual(all.records.map(\.paymentHash), expected.map(\.paymentHash), "description \(needle.debugDescription)")
            XCTAssertEqual(all.records.map(\.lastUpdated), expected.map(\.lastUpdated), "description \(needle.debugDescription)")
            XCTAssertEqual(all.total, expected.count, "total for \(needle.debugDescription)")
            return (f, expected)
        }
        var nonEmpty = 0
        // Random filters of every length (once, with the store's own plan choice), then every short one.
        for q in 0..<(plan == nil ? 400 : 0) {
            var needle: String
            if q % 2 == 0 {
                needle = text(Int.random(in: 1...5, using: &rng))
            } else {
                // A piece of a stored description with some letters' ASCII case flipped.
                let scalars = Array(rows.randomElement(using: &rng)!.record.description.unicodeScalars)
                guard !scalars.isEmpty else { continue }
                let start = Int.random(in: 0..<scalars.count, using: &rng)
                let end = Int.random(in: start...min(scalars.count - 1, start + 4), using: &rng)
                needle = String(String.UnicodeScalarView(scalars[start...end].map { s in
                    guard s.isASCII, Bool.random(using: &rng) else { return s }
                    let c = Character(s)
                    return (c.isUppercase ? c.lowercased() : c.uppercased()).unicodeScalars.first!
                }))
            }
            var (f, expected) = try checkFirstPage(needle)
            if !expected.isEmpty { nonEmpty += 1 }
            let second = try store.page(filter: f, paging: .pageNumber(2), limit: 3)
            XCTAssertEqual(second.records.map(\.paymentHash), expected.dropFirst(3).prefix(3).map(\.paymentHash))
            if expected.count > 2, let id = idOf[expected[1].paymentHash] {
                // `record(i)`'s hash is i as a 32-byte big-endian number.
                let anchor = Array(repeating: UInt8(0), count: 30) + [UInt8(id >> 8), UInt8(id & 0xFF)]
                let after = try store.page(filter: f, paging: .fromID(anchor), limit: 2)
                XCTAssertEqual(after.records.map(\.paymentHash), expected.dropFirst(2).prefix(2).map(\.paymentHash))
                XCTAssertEqual(after.skipped, 2)
                XCTAssertEqual(after.total, expected.count)
            }
            f.status = .succeeded
            let succeeded = try store.page(filter: f, paging: .pageNumber(1), limit: 1000)
            XCTAssertEqual(succeeded.records.map(\.paymentHash), expected.filter { $0.status == .succeeded }.map(\.paymentHash))
        }
        if plan == nil { XCTAssertGreaterThan(nonEmpty, minimumNonEmpty, "the queries must mostly match something to test anything") }

        // Every one- and two-character filter over the alphabet's ASCII characters (the gram
        // counts after inserts, replacements and outcomes; both pages of the short plans).
        let ascii = Set(alphabet.filter { $0.utf8.count == 1 })
        let shortNeedles = ascii.sorted() + ascii.sorted().flatMap { a in ascii.sorted().map { a + $0 } }
        var shortNonEmpty = 0
        for needle in shortNeedles {
            let (f, expected) = try checkFirstPage(needle)
            if !expected.isEmpty { shortNonEmpty += 1 }
            let third = try store.page(filter: f, paging: .pageNumber(3), limit: 4)
            XCTAssertEqual(third.records.map(\.paymentHash), expected.dropFirst(8).prefix(4).map(\.paymentHash))
            XCTAssertEqual(third.total, expected.count)
            XCTAssertEqual(third.skipped, 8)
            XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 0).total, expected.count)
        }
        XCTAssertGreaterThan(shortNonEmpty, shortNeedles.count / 2)
    }

    /// The rule, written without SQL: ASCII letters folded, everything else compared as is.
    static func containsASCIIFolded(_ haystack: String, _ needle: String) -> Bool {
        func asciiLower(_ s: String) -> [UInt8] { s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
        let h = asciiLower(haystack), n = asciiLower(needle)
        if n.isEmpty { return true }
        guard h.count >= n.count else { return false }
        return (0...(h.count - n.count)).contains { h[$0..<($0 + n.count)].elementsEqual(n) }
    }

    /// The cases the index alone would get wrong, by name: an ASCII filter whose letters the
    /// trigram tokenizer also finds in non-ASCII rows (the Kelvin sign folds to `k`, `İ` to `i`),
    /// a non-ASCII filter (`ẞ` folds to `ß`), and rows whose description changes between ASCII
    /// and not (the narrow table's flag follows an update).
    func testASCIIFilterOnNonASCIIRowsIsRechecked() throws {
        let store = try KDFPaymentStore(path: ":memory:")
        try store.insertOrReplace(record(1, "\u{212A}ab coffee", at: 101))   // Kelvin sign
        try store.insertOrReplace(record(2, "Kab coffee", at: 102))
        try store.insertOrReplace(record(3, "İab tea", at: 103))
        try store.insertOrReplace(record(4, "iab tea", at: 104))
        try store.insertOrReplace(record(5, "ẞab", at: 105))
        try store.insertOrReplace(record(6, "ßab", at: 106))
        XCTAssertEqual(try hashes(store, "kab"), ["2"])
        XCTAssertEqual(try hashes(store, "KAB COF"), ["2"])
        XCTAssertEqual(try hashes(store, "\u{212A}ab"), ["1"])
        XCTAssertEqual(try hashes(store, "IAB"), ["4"])
        XCTAssertEqual(try hashes(store, "ẞab"), ["5"])
        XCTAssertEqual(try hashes(store, "ßAB"), ["6"])
        // Row 2 becomes non-ASCII, row 1 ASCII: the index's answer is re-checked for 2, not for 1.
        try store.insertOrReplace(record(2, "\u{212A}ab coffee", at: 107))
        try store.insertOrReplace(record(1, "kab coffee", at: 108))
        XCTAssertEqual(try hashes(store, "kab"), ["1"])
        XCTAssertEqual(try hashes(store, "\u{212A}AB"), ["2"])
        // The other filters beside an indexed description: the destination is read from the row,
        // the rest from the narrow keys.
        func page(_ change: (inout KDFPaymentFilter) -> Void) throws -> [String] {
            var f = KDFPaymentFilter()
            f.description = "coffee"
            change(&f)
            return try store.page(filter: f, paging: .pageNumber(1), limit: 10).records.map { String($0.paymentHash.suffix(1)) }
        }
        XCTAssertEqual(try page { _ in }, ["1", "2"])
        XCTAssertEqual(try page { $0.paymentType = .outbound(destination: "02" + String(repeating: "ab", count: 32)) }, ["1", "2"])
        XCTAssertEqual(try page { $0.paymentType = .outbound(destination: "03" + String(repeating: "ab", count: 32)) }, [])
        XCTAssertEqual(try page { $0.paymentType = .inbound }, [])
        XCTAssertEqual(try page { $0.fromAmountMsat = 1000; $0.toAmountMsat = 1000 }, ["1", "2"])
        XCTAssertEqual(try page { $0.fromAmountMsat = 1001 }, [])
        XCTAssertEqual(try page { $0.fromTimestamp = 108 }, ["1"])
        XCTAssertEqual(try page { $0.toTimestamp = 107 }, ["2"])
        XCTAssertEqual(try page { $0.status = .pending; $0.toFeePaidMsat = 0 }, [])
    }

    /// A store written before `kdf_payment_keys` existed (schema version 0) opens, is upgraded
    /// (the keys filled from its rows, the triggers created, `user_version` 1), answers every
    /// filter as before, and keeps the keys in step with later writes; opening it again changes
    /// nothing.
    func testExistingStoreIsMigrated() throws {
        let path = NSTemporaryDirectory() + "kdf-migrate-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        do {
            // The version-0 layout: the rows, the description index and the count, no keys.
            // (Written by this build, then what versions 1 and 2 added is dropped.)
            let old = try KDFPaymentStore(path: path)
            try old.insertBatch((1...30).map { record($0, $0 % 3 == 0 ? "old burger \($0)" : "old coffee \($0)",
                                                      status: $0 % 2 == 0 ? .succeeded : .pending, at: Int64(100 + $0)) })
            try old.insertOrReplace(record(31, "\u{212A}ab burger", at: 200))
            try old.db.execute("""
                DROP TRIGGER kdf_payment_keys_ai; DROP TRIGGER kdf_payment_keys_au; DROP TRIGGER kdf_payment_keys_ad;
                DROP TABLE kdf_payment_keys; DROP TABLE kdf_description_grams; DROP INDEX kdf_payments_untrigrammed;
                PRAGMA user_version = 0;
                """)
            XCTAssertThrowsError(try old.db.execute("SELECT 1 FROM kdf_payment_keys"))
            XCTAssertThrowsError(try old.db.execute("SELECT 1 FROM kdf_description_grams"))
        }
        let store = try KDFPaymentStore(path: path)
        func value(_ sql: String) throws -> Int {
            let s = try store.db.prepare(sql)
            defer { s.reset() }
            return try s.step() ? s.int(0) : -1
        }
        XCTAssertEqual(try value("PRAGMA user_version"), 2)
        XCTAssertEqual(try value("SELECT COUNT(*) FROM kdf_payment_keys"), 31)
        // The gram counts, filled from the rows: "b" in 11 descriptions (ten "old burger", the
        // Kelvin row), "0" in "old coffee 10", "old coffee 20" and "old burger 30", "b " in the Kelvin row only.
        func shortPage(_ needle: String, limit: Int = 3) throws -> KDFPaymentPage {
            var f = KDFPaymentFilter()
            f.description = needle
            return try store.page(filter: f, paging: .pageNumber(1), limit: limit)
        }
        XCTAssertEqual(try value("SELECT n FROM kdf_description_grams WHERE gram = \(Character("b").asciiValue!)"), 11)
        XCTAssertEqual(try shortPage("B").total, 11)
        XCTAssertEqual(try shortPage("B").records.map(\.paymentHash), [31, 30, 27].map { String(format: "%064x", $0) })
        XCTAssertEqual(try shortPage("0").records.map(\.paymentHash), [30, 20, 10].map { String(format: "%064x", $0) })
        XCTAssertEqual(try shortPage("R ").total, 10)
        XCTAssertEqual(try shortPage("b ").total, 1)
        XCTAssertEqual(try value("SELECT COUNT(*) FROM kdf_payment_keys WHERE ascii_description = 0"), 1)
        var f = KDFPaymentFilter()
        f.description = "BURGER"
        let page = try store.page(filter: f, paging: .pageNumber(1), limit: 3)
        XCTAssertEqual(page.total, 11)
        XCTAssertEqual(page.records.map(\.paymentHash), [31, 30, 27].map { String(format: "%064x", $0) })
        f.status = .succeeded
        XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 10).total, 5)
        XCTAssertEqual(try hashes(store, "kab"), [])
        // Later writes reach the keys through the new triggers.
        XCTAssertTrue(try store.markOutboundTerminal(hash: String(format: "%064x", 3), succeeded: true, feePaidMsat: 2, at: 300))
        XCTAssertEqual(try store.page(filter: f, paging: .pageNumber(1), limit: 1).records.first?.paymentHash, String(format: "%064x", 3))
        try store.insertOrReplace(record(32, "new burger", at: 400))
        XCTAssertEqual(try value("SELECT COUNT(*) FROM kdf_payment_keys"), 32)
        XCTAssertEqual(try shortPage("b").total, 12)
        XCTAssertEqual(try shortPage("b").records.first?.paymentHash, String(format: "%064x", 32))
        XCTAssertEqual(try KDFPaymentStore(path: path).count, 32)
        XCTAssertEqual(try value("PRAGMA user_version"), 2)
        XCTAssertEqual(try value("SELECT n FROM kdf_description_grams WHERE gram = \(Character("b").asciiValue!)"), 12)
    }

    /// get_payment_details' read path (a file database: the read connection and its cache) always
    /// shows the last write: each write invalidates the cached record, and a read that started
    /// before a write cannot put its older row back into the cache.
    func testCachedReadsFollowEveryWrite() throws {
        let path = NSTemporaryDirectory() + "kdf-cache-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let store = try KDFPaymentStore(path: path)
        XCTAssertTrue(store.hasReadConnection)
        let h = String(format: "%064x", 7)
        XCTAssertNil(try store.record(hash: h))
        try store.insertOrReplace(record(7, "first"))
        XCTAssertEqual(try store.record(hash: h)?.description, "first")
        XCTAssertEqual(store.cache.count, 1)
        XCTAssertEqual(try store.record(hash: h)?.description, "first")      // from the cache
        try store.insertOrReplace(record(7, "second", at: 150))
        XCTAssertEqual(try store.record(hash: h)?.description, "second")
        XCTAssertTrue(try store.markOutboundTerminal(hash: h, succeeded: true, feePaidMsat: 3, at: 200))
        XCTAssertEqual(try store.record(hash: h).map { [$0.status.rawValue, "\($0.feePaidMsat ?? 0)", "\($0.lastUpdated)"] },
                       ["Succeeded", "3", "200"])
        try store.insertBatch([record(7, "ignored"), record(8, "eight")])
        XCTAssertEqual(try store.record(hash: String(format: "%064x", 8))?.description, "eight")
        XCTAssertEqual(try store.record(hash: h)?.status, .succeeded)

        // A reader that missed, then a write, then the reader's insert: refused.
        let (missing, generation) = store.cache.lookup(String(format: "%064x", 9))
        XCTAssertNil(missing)
        try store.insertOrReplace(record(9, "new"))
        store.cache.insert(record(9, "stale"), ifStill: generation)
        XCTAssertEqual(try store.record(hash: String(format: "%064x", 9))?.description, "new")
        // Bounded.
        let small = KDFRecordCache(capacity: 3)
        for i in 0..<10 { small.insert(record(i, "\(i)"), ifStill: 0) }
        XCTAssertEqual(small.count, 3)
    }
}
