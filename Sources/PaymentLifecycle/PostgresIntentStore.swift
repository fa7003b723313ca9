import Locks
import Foundation
import Payments
import PostgreSQL

/// `PaymentIntentStore` in PostgreSQL: table `payment_intents` (hash, JSON intent) in the node's
/// schema, on one session guarded by a lock. Every statement is parameterized.
public final class PostgresIntentStore: PaymentIntentStore, @unchecked Sendable {
    public typealias Options = PostgresStoreOptions

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, "CREATE TABLE payment_intents (hash BYTEA PRIMARY KEY, intent BYTEA NOT NULL)"),
    ]

    private let db: PostgresConnection
    private let lock = Lock()

    public init(options: Options) throws {
        db = try .session(for: options, applicationName: "paytrackd-intents")
        try PostgresMigrations.migrate(db, component: "intents", migrations: Self.migrations)
    }

    public func save(_ intent: PaymentIntent) throws {
        let blob = Array(try JSONEncoder().encode(intent))
        try lock.withLock {
            _ = try db.query("""
                INSERT INTO payment_intents (hash, intent) VALUES ($1, $2)
                ON CONFLICT (hash) DO UPDATE SET intent = EXCLUDED.intent
                """, [.bytes(intent.paymentHash), .bytes(blob)])
        }
    }

    public func delete(_ hash: PaymentHash) {
        lock.withLock { _ = try? db.query("DELETE FROM payment_intents WHERE hash = $1", [.bytes(hash.bytes)]) }
    }

    public func intent(for hash: PaymentHash) throws -> PaymentIntent? {
        let blob: [UInt8]? = try lock.withLock {
            let r = try db.query("SELECT intent FROM payment_intents WHERE hash = $1", [.bytes(hash.bytes)])
            return r.isEmpty ? nil : try r.bytes(0, 0)
        }
        guard let blob else { return nil }
        return try JSONDecoder().decode(PaymentIntent.self, from: Data(blob))
    }
}
