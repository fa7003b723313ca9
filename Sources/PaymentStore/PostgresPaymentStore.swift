import Locks
import Payments
import PostgreSQL

/// The payments database on PostgreSQL: the same contract as `SQLitePaymentStore`
/// (`PaymentPersistence`), one writer with group commit (`PaymentWriter` over
/// `PostgresPaymentTransactor`, two sessions by default) and a pool of reader sessions.
///
/// Reads are single statements (a page of payments LEFT JOIN their attempts), so each sees one
/// committed snapshot without an explicit transaction and costs one round trip; ListPayments with
/// a total count runs its two statements in one REPEATABLE READ transaction. Every statement is
/// served by an index (hash, in-flight status, update stamp, payment index; creation-date bounds
/// filter along the payment index).
///
/// Sessions: the writer's (`Options.writerSessions`, two by default) plus readers up to
/// `maxConnections` in all (LND's `db.postgres.maxconnections`).
/// A lost session is reconnected by the next call that needs it; the call that saw the loss fails
/// with `PaymentError.storage`.
public final class PostgresPaymentStore: GroupCommitPaymentStore, PaymentPersistence, @unchecked Sendable {
    public struct Options: Sendable {
        /// libpq connection string or URI (LND's `db.postgres.dsn`). May hold a password: never logged.
        public var dsn: String
        /// Seconds any one wait on the server may take; 0 for none (LND's `db.postgres.timeout`).
        public var timeoutSeconds: Double = 0
        /// Sessions opened at most, writer included (LND's `db.postgres.maxconnections`, default 50).
        public var maxConnections: Int = 50
        /// Most queued changes committed in one group.
        public var maxBatch: Int = 4096
        /// Sessions the writer holds: with 2, a group of many changes runs as two transactions at
        /// once, half of its payments each, committed together (`PostgresPaymentTransactor`), so
        /// two server processes share the work; 1 keeps every group one transaction.
        public var writerSessions: Int = 2
        /// The schema holding the tables (created if missing), e.g. one per served node so several
        /// nodes share a database; nil uses the DSN's default (`public`).
        public var schema: String?
        /// Replicas: this process's lease. Set, lifecycle changes are fenced by it
        /// (`PostgresPaymentTransactor`); nil, they are not (one writer).
        public var leaseGate: PaymentLeaseGate?
        public init(dsn: String, schema: String? = nil) {
            self.dsn = dsn
            self.schema = schema
        }

        /// The LISTEN/NOTIFY channel of this schema's payment changes: `<schema>_payments`.
        public var changeChannel: String { (schema ?? "paytrack") + "_payments" }
    }

    public let options: Options
    private let readers: PaymentSessionPool<PostgresConnection>

    /// Connects, migrates the schema (under an advisory lock, safe with several processes) and
    /// restores the counters. Throws `PaymentError.storage` when the server cannot be reached.
    public init(options: Options) throws(PaymentError) {
        self.options = options
        let writerSessions = options.maxConnections > 2 ? min(2, max(1, options.writerSessions)) : 1
        let readers = PaymentSessionPool<PostgresConnection>(limit: options.maxConnections - writerSessions, connect: {
            try PostgresConnection(dsn: options.dsn, options: Self.sessionOptions(options, role: "reader"))
        }, isLost: { ($0 as? PostgresError)?.isConnectionLost == true })
        let writer: PaymentWriter
        do {
            if let schema = options.schema {
                try PostgresConnection(dsn: options.dsn, options: Self.sessionOptions(options, role: "setup")).createSchema(schema)
            }
            let db = try PostgresConnection(dsn: options.dsn, options: Self.sessionOptions(options, role: "writer"))
            try PostgresPaymentSchema.migrate(db)
            try PostgresPaymentLeaseSchema.migrate(db)
            let meta = try db.query("SELECT key, value FROM payment_meta")
            var values: [String: Int64] = [:]
            for row in 0..<meta.count { values[try meta.text(row, 0)] = try meta.int64(row, 1) }
            let partner = writerSessions > 1
                ? try PostgresConnection(dsn: options.dsn, options: Self.sessionOptions(options, role: "writer")) : nil
            writer = PaymentWriter(backend: PostgresPaymentTransactor(db: db, partner: partner, changeChannel: options.changeChannel,
                                                                      lease: options.leaseGate),
                                   maxBatch: options.maxBatch, meta: values)
        } catch {
            throw .storage(String(describing: error))
        }
        self.readers = readers
        super.init(writer: writer, closeReaders: { readers.close() })
    }


    static func sessionOptions(_ o: Options, role: String) -> PostgresConnection.Options {
        var c = PostgresConnection.Options()
        c.timeoutSeconds = o.timeoutSeconds
        c.applicationName = "paytrackd-payments-" + role
        if role != "setup" { c.searchPath = o.schema }
        if role == "writer" {
            // The writer's statements find rows by key (hash, id, attempt). Its multi-row statements
            // join a batch (unnest) to `payments`; statistics lag a table that grows and churns by
            // thousands of rows per second, and a hash join over a sequential scan (dead versions
            // included) costs the whole table per statement. Nested loops over the indexes cost
            // the batch.
            c.settings = ["enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"]
        }
        return c
    }

    /// The writer looks each batch's new hashes up before its transaction
    /// (`PostgresPaymentTransactor.refusedInits`).
    public var refusesStoredInits: Bool { true }

    // MARK: PaymentPersistence: reads

    public func fetchPayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot? {
        try readers.with { db in try Self.snapshots(db.query(Self.fetchByHashSQL, [.bytes(hash.bytes)]), omitHops: false).first }
    }

    public func fetchInFlightPayments() throws(PaymentError) -> [PaymentSnapshot] {
        try readers.with { db in
            try Self.snapshots(db.query(Self.inFlightSQL), omitHops: false)
        }
    }

    public func fetchPaymentsUpdated(since: Int64, limit: Int) throws(PaymentError) -> [PaymentSnapshot] {
        try readers.with { db in try Self.snapshots(db.query(Self.updatedSinceSQL, [.int64(since), .int64(Int64(limit))]), omitHops: false) }
    }

    public func paymentCount() throws(PaymentError) -> UInt64 {
        try readers.with { db in UInt64(max(0, try Self.count(db))) }
    }

    private static func count(_ db: PostgresConnection) throws -> Int64 {
        let r = try db.query("SELECT value FROM payment_meta WHERE key = $1", [.text("payment_count")])
        return r.isEmpty ? 0 : try r.int64(0, 0)
    }

    /// ListPayments (LND `QueryPayments`), the same semantics as `SQLitePaymentStore.queryPayments`.
    public func queryPayments(_ q: PaymentsQuery) throws(PaymentError) -> PaymentsPage {
        try q.validate()
        let sql = Self.querySQL(q)
        let params = q.pageBindings.map { PostgresValue.int64($0) }
        return try readers.with { db in
            func page() throws -> PaymentsPage {
                var list = try Self.snapshots(db.query(sql, params), omitHops: q.omitHops)
                if q.reversed { list.reverse() }
                let total = q.countTotalPayments ? UInt64(max(0, try Self.count(db))) : 0
                return PaymentsPage(payments: list, firstIndexOffset: list.first?.paymentIndex ?? 0,
                                    lastIndexOffset: list.last?.paymentIndex ?? 0, totalNumPayments: total)
            }
            return q.countTotalPayments ? try db.transaction(readOnly: true, page) : try page()
        }
    }

    // MARK: Statements: a page of payments (by an index) joined with its attempts

    /// Columns: `paymentColumns` (0...8) then `attemptColumns` (9...17).
    private static func joined(_ inner: String, order: String) -> String {
        "SELECT p.*, \(attemptJoinColumns) FROM (\(inner)) p LEFT JOIN htlc_attempts a ON a.payment_id = p.id ORDER BY \(order), a.attempt_id"
    }
    private static let attemptJoinColumns = PaymentRowDecoder.attemptColumns.split(separator: ",")
        .map { "a." + $0.drop(while: { $0 == " " }) }.joined(separator: ", ")

    static let fetchByHashSQL = joined("SELECT \(PaymentRowDecoder.paymentColumns) FROM payments WHERE hash = $1", order: "p.id")
    /// Initiated and in-flight payments (startup, TrackPayments): the partial index
    /// `payments_in_flight`, whose predicate names the same constants (PaymentStatus raw values).
    static let inFlightSQL = joined(
        "SELECT \(PaymentRowDecoder.paymentColumns) FROM payments WHERE status IN (\(PaymentStatus.initiated.rawValue), \(PaymentStatus.inFlight.rawValue))",
        order: "p.payment_index")
    /// Payments updated at or after $1, oldest first, at most $2 (TrackPayments replay): `payments_update`.
    static let updatedSinceSQL = joined(
        "SELECT \(PaymentRowDecoder.paymentColumns) FROM payments WHERE last_update_ns >= $1 ORDER BY last_update_ns, id LIMIT $2",
        order: "p.last_update_ns, p.id")

    /// One ListPayments page (`PaymentsQuery.pageSQL`) joined with its attempts.
    static func querySQL(_ q: PaymentsQuery) -> String {
        joined(q.pageSQL(columns: PaymentRowDecoder.paymentColumns) { "$\($0)" }, order: "p.payment_index \(q.reversed ? "DESC" : "ASC")")
    }

    /// Groups joined rows (payment columns, then one attempt or NULLs) into snapshots, keeping
    /// the rows' order of payments.
    static func snapshots(_ r: PostgresResult, omitHops: Bool, attemptsAt c: Int32 = 9) throws -> [PaymentSnapshot] {
        var out: [PaymentSnapshot] = []
        var lastID: Int64?
        for i in 0..<r.count {
            let row = PostgresPaymentRow(result: r, row: i)
            let id = try row.int64(0)
            if id != lastID {
                out.append(try PaymentRowDecoder.header(row))
                lastID = id
            }
            if !row.isNull(c) { out[out.count - 1].attempts.append(try PaymentRowDecoder.attempt(row, at: c, omitHops: omitHops)) }
        }
        return out
    }
}
