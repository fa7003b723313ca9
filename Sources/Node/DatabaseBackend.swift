import Invoices
import KomodoRPC
import Macaroons
import PaymentLifecycle
import PaymentStore
import Payments
import Simnet

/// Where a node's durable state lives (`--db.backend`, as LND's `db.backend`).
///
/// - `sqlite` (default): one SQLite file per store under the node's datadir.
/// - `postgres`: the payment, invoice and payment-intent stores, the macaroon root keys and the
///   Komodo records in PostgreSQL at `--db.postgres.dsn`, in a schema per served node
///   (`paytrack_<node>`), and the simulated network's balances and HTLCs in `paytrack_simnet`, so
///   several nodes, and several processes serving the same node, share one database and one
///   network. The datadir keeps only files every replica is given alike: TLS, macaroon files, the
///   node key, the Komodo rpc_password.
public enum DatabaseBackend: String, Sendable, CaseIterable {
    case sqlite
    case postgres

    /// LND's default for `db.postgres.maxconnections`.
    public static let defaultPostgresMaxConnections = 50
    /// `--db.postgres.leasetimeout`'s default.
    public static let defaultPostgresLeaseTimeoutSeconds = 10.0

    init(flag v: String) throws {
        guard let b = DatabaseBackend(rawValue: v.lowercased()) else {
            throw ConfigError(description: "--db.backend wants sqlite or postgres, got \"\(v)\"")
        }
        self = b
    }

    /// A Go-style duration as LND's flags take them (`90s`, `1m30s`, `500ms`, `2h`), or plain
    /// seconds (`10`, `0.5`).
    static func seconds(_ v: String, flag: String) throws -> Double {
        let bad = ConfigError(description: "--\(flag) wants a duration such as 10s, 500ms or 1m, got \"\(v)\"")
        if let plain = Double(v) {
            guard plain >= 0, plain.isFinite else { throw bad }
            return plain
        }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(v), total = 0.0
        guard !rest.isEmpty else { throw bad }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isNumber || $0 == "." })
            guard let n = Double(number) else { throw bad }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { throw bad }
            rest = rest.dropFirst(unit.count)
            total += n * scale
        }
        return total
    }
}

extension Config {
    /// Opens the payment store of served node `node` on the configured backend; `sqlitePath` is
    /// its file for the SQLite backend.
    func openPaymentStore(node: String, sqlitePath: String, leaseGate: PaymentLeaseGate? = nil) throws -> any PaymentPersistence {
        switch dbBackend {
        case .sqlite:
            return try SQLitePaymentStore(path: sqlitePath)
        case .postgres:
            var o = try postgresPaymentOptions(node: node)
            o.maxConnections = postgresMaxConnections
            o.leaseGate = leaseGate
            return try PostgresPaymentStore(options: o)
        }
    }

    func postgresPaymentOptions(node: String) throws -> PostgresPaymentStore.Options {
        var o = PostgresPaymentStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
        o.timeoutSeconds = postgresTimeoutSeconds
        return o
    }

    /// With the postgres backend, a running `PostgresPaymentFeed` that publishes other replicas'
    /// payment changes to `tower` (nil with sqlite: one process owns the file).
    func startPaymentFeed(node: String, tower: ControlTower) throws -> PostgresPaymentFeed? {
        guard dbBackend == .postgres else { return nil }
        var o = PostgresPaymentStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
        o.timeoutSeconds = postgresTimeoutSeconds
        let feed = try PostgresPaymentFeed(options: PostgresPaymentFeed.Options(store: o), tower: tower)
        feed.start()
        return feed
    }

    /// The invoice store of served node `node`; `sqlitePath` is its file for the SQLite backend.
    func invoiceDatabase(node: String, sqlitePath: String) throws -> InvoiceDatabase {
        switch dbBackend {
        case .sqlite:
            return .sqlite(path: sqlitePath)
        case .postgres:
            var o = PostgresInvoiceStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
            o.timeoutSeconds = postgresTimeoutSeconds
            return .postgres(o)
        }
    }

    /// With the postgres backend, the simulated network's shared balances and HTLCs (schema
    /// `paytrack_simnet`, one network for every node and replica); nil with sqlite (in memory).
    func openChannelLedger() throws -> (any ChannelLedger)? {
        guard dbBackend == .postgres else { return nil }
        var o = PostgresChannelLedger.Options(dsn: try requiredDSN(), schema: "paytrack_simnet")
        o.timeoutSeconds = postgresTimeoutSeconds
        return try PostgresChannelLedger(options: o)
    }

    /// With the postgres backend, a running `PostgresInvoiceFeed`: hold invoices this process
    /// holds HTLCs for, settled or canceled through another replica, resolve here.
    func startInvoiceFeed(node: String, registry: InvoiceRegistry) throws -> PostgresInvoiceFeed? {
        guard dbBackend == .postgres else { return nil }
        var o = PostgresInvoiceStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
        o.timeoutSeconds = postgresTimeoutSeconds
        return try PostgresInvoiceFeed(options: o, registry: registry)
    }

    /// The Komodo API's records of served node `node`: its SQLite file, or a table of its schema
    /// shared by every replica.
    func openKDFRecords(node: String, sqlitePath: String) throws -> any KDFRecordStore {
        switch dbBackend {
        case .sqlite:
            return try KDFPaymentStore(path: sqlitePath)
        case .postgres:
            var o = PostgresKDFPaymentStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
            o.timeoutSeconds = postgresTimeoutSeconds
            return try PostgresKDFPaymentStore(options: o)
        }
    }

    /// The payment-intent store of served node `node`; `sqlitePath` is its file for SQLite.
    func openIntentStore(node: String, sqlitePath: String) throws -> any PaymentIntentStore {
        switch dbBackend {
        case .sqlite:
            return try SQLiteIntentStore(path: sqlitePath)
        case .postgres:
            var o = PostgresIntentStore.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
            o.timeoutSeconds = postgresTimeoutSeconds
            return try PostgresIntentStore(options: o)
        }
    }

    /// The macaroon root key store of served node `node`: the file in its network directory, or a
    /// row in PostgreSQL (default macaroon files still go to the network directory).
    func openMacaroonStore(node: String, datadir: String, network: String, password: [UInt8]?) throws -> MacaroonStore {
        switch dbBackend {
        case .sqlite:
            return try MacaroonStore.openOrCreate(datadir: datadir, network: network, password: password)
        case .postgres:
            var o = PostgresRootKeyVault.Options(dsn: try requiredDSN(), schema: try Self.postgresSchema(node: node))
            o.timeoutSeconds = postgresTimeoutSeconds
            return try MacaroonStore.open(vault: try PostgresRootKeyVault(options: o),
                                          networkDirectory: MacaroonStore.networkDirectory(datadir: datadir, network: network),
                                          password: password)
        }
    }

    func requiredDSN() throws -> String {
        guard let dsn = postgresDSN, !dsn.isEmpty else {
            throw ConfigError(description: "--db.backend postgres needs --db.postgres.dsn")
        }
        return dsn
    }

    /// `paytrack_<node>`: the node's alias lowercased; letters, digits and `_` only.
    static func postgresSchema(node: String) throws -> String {
        let name = "paytrack_" + node.lowercased()
        guard name.utf8.count <= 63, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw ConfigError(description: "node name \"\(node)\" cannot name a PostgreSQL schema (letters, digits and _ only)")
        }
        return name
    }
}
