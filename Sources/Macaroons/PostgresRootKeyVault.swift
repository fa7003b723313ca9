#if canImport(Glibc)
import Locks
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PostgreSQL

/// The root key file as one row of `macaroon_root_keys` in PostgreSQL, so every replica of a node
/// verifies every macaroon any of them minted. `update` runs `SELECT … FOR UPDATE` and the upsert
/// in one transaction: replicas creating keys at once serialize on the row and none loses another's
/// key. The bytes are the same `RootKeyFile` format as the file (sealed with the password if one
/// is given). One session, guarded by a lock; every statement is parameterized.
public final class PostgresRootKeyVault: RootKeyVault, @unchecked Sendable {
    public typealias Options = PostgresStoreOptions

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, "CREATE TABLE macaroon_root_keys (name TEXT PRIMARY KEY, data BYTEA NOT NULL)"),
    ]
    static let rowName = "rootkeys"

    private let db: PostgresConnection
    private let mutex = Lock()
    public var location: String { "postgres" }

    public init(options: Options) throws(MacaroonError) {
        do {
            db = try .session(for: options, applicationName: "paytrackd-macaroons")
            try PostgresMigrations.migrate(db, component: "macaroons", migrations: Self.migrations)
        } catch {
            throw MacaroonError("root key store: \(error)")
        }
    }

    public func load() throws(MacaroonError) -> [UInt8]? {
        try mutex.withLock { () throws(MacaroonError) -> [UInt8]? in
            do {
                let r = try db.query("SELECT data FROM macaroon_root_keys WHERE name = $1", [.text(Self.rowName)])
                return r.isEmpty ? nil : try r.bytes(0, 0)
            } catch {
                throw MacaroonError("root key store: \(error)")
            }
        }
    }

    public func update(_ change: ([UInt8]?) throws(MacaroonError) -> [UInt8]) throws(MacaroonError) {
        try mutex.withLock { () throws(MacaroonError) in
            do {
                try db.transaction {
                    let r = try db.query("SELECT data FROM macaroon_root_keys WHERE name = $1 FOR UPDATE", [.text(Self.rowName)])
                    let data = try change(r.isEmpty ? nil : try r.bytes(0, 0))
                    try db.query("""
                        INSERT INTO macaroon_root_keys (name, data) VALUES ($1, $2)
                        ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data
                        """, [.text(Self.rowName), .bytes(data)])
                }
            } catch let e as MacaroonError {
                throw e
            } catch {
                throw MacaroonError("root key store: \(error)")
            }
        }
    }
}
