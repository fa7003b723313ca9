/// Where one store keeps its tables in PostgreSQL: the server (a DSN), the schema, and how long any
/// one wait on the server may take.
public struct PostgresStoreOptions: Sendable {
    /// libpq connection string or URI. May hold a password: never logged.
    public var dsn: String
    /// The schema holding the tables (created if missing), e.g. one per served node; nil: the
    /// DSN's default.
    public var schema: String?
    /// Seconds any one wait on the server may take; 0 for none.
    public var timeoutSeconds: Double = 0

    public init(dsn: String, schema: String? = nil) {
        self.dsn = dsn
        self.schema = schema
    }
}

extension PostgresConnection {
    /// A session for the store at `store`: its schema created if missing and put first on the
    /// search path, its timeout applied, named `applicationName` in `pg_stat_activity`.
    public static func session(for store: PostgresStoreOptions, applicationName: String) throws(PostgresError) -> PostgresConnection {
        var o = Options()
        o.timeoutSeconds = store.timeoutSeconds
        o.applicationName = applicationName
        if let schema = store.schema {
            try PostgresConnection(dsn: store.dsn, options: o).createSchema(schema)
            o.searchPath = schema
        }
        return try PostgresConnection(dsn: store.dsn, options: o)
    }
}
