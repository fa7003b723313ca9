import Locks
import Foundation
import Payments
import SQLite

/// `PaymentIntentStore` in a SQLite file (WAL, synchronous FULL).
public final class SQLiteIntentStore: PaymentIntentStore, @unchecked Sendable {
    private let db: Database
    private let lock = Lock()
    private let put: Statement
    private let remove: Statement
    private let get: Statement

    public init(path: String) throws {
        db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        try db.execute("CREATE TABLE IF NOT EXISTS payment_intents (hash BLOB PRIMARY KEY, intent BLOB NOT NULL)")
        put = try db.prepare("INSERT OR REPLACE INTO payment_intents (hash, intent) VALUES (?, ?)")
        remove = try db.prepare("DELETE FROM payment_intents WHERE hash = ?")
        get = try db.prepare("SELECT intent FROM payment_intents WHERE hash = ?")
    }

    public func save(_ intent: PaymentIntent) throws {
        let blob = Array(try JSONEncoder().encode(intent))
        try lock.withLock {
            put.reset()
            put.bind(1, intent.paymentHash)
            put.bind(2, blob)
            try put.run()
        }
    }

    public func delete(_ hash: PaymentHash) {
        lock.withLock {
            remove.reset()
            remove.bind(1, hash.bytes)
            try? remove.run()
        }
    }

    public func intent(for hash: PaymentHash) throws -> PaymentIntent? {
        let blob: [UInt8]? = try lock.withLock {
            get.reset()
            get.bind(1, hash.bytes)
            return try get.step() ? get.blob(0) : nil
        }
        guard let blob else { return nil }
        return try JSONDecoder().decode(PaymentIntent.self, from: Data(blob))
    }
}
