/// Where one PostgreSQL-backed store keeps its tables, and how it opens its session: the options
/// the invoice, intent and macaroon root-key stores share (LND's `db.postgres.dsn` and
/// `db.postgres.timeout`, plus a schema per served node).
public struct PostgresStoreOptions: Sendable {
    /// libpq connection string or URI. May hold a password: never logged.
    public var dsn: String
    /// The schema holding the tables (created if missing); nil: the DSN's default.
    public var schema: String?
    /// Seconds any one wait on the server may take; 0 for none.
    public var timeoutSeconds: Double = 0

    public init(dsn: String, schema: String? = nil) {
        self.dsn = dsn
        self.schema = schema
    }

    /// Opens the store's session: creates `schema` if missing, resolves names in it, and applies
    /// the store's `migrations` under `component` (``PostgresMigrations``).
    public func openStore(applicationName: String, component: String,
                          migrations: [(version: Int, sql: StaticString)]) throws -> PostgresConnection {
        var o = PostgresConnection.Options()
        o.timeoutSeconds = timeoutSeconds
        o.applicationName = applicationName
        if let schema {
            try PostgresConnection(dsn: dsn, options: o).createSchema(schema)
            o.searchPath = schema
        }
        let db = try PostgresConnection(dsn: dsn, options: o)
        try PostgresMigrations.migrate(db, component: component, migrations: migrations)
        return db
    }
}
