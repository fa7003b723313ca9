import Locks
import Foundation
import LightningPrimitives
import PostgreSQL

/// The KDF payment records in PostgreSQL (`KDFRecordStore`): table `kdf_payments` in the node's
/// schema, so every replica serving the node answers mmrpc from the same records. The same
/// columns and order as `KDFPaymentStore`; the description filter is `strpos` over lowercased
/// text (ASCII case-insensitive literal substring, as the SQLite store's trigram match) — it reads
/// the node's rows that pass the other filters (no trigram index: `pg_trgm` is not assumed).
/// One session behind a lock; every statement parameterized.
public final class PostgresKDFPaymentStore: KDFRecordStore, @unchecked Sendable {
    public typealias Options = PostgresStoreOptions

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE kdf_payments (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          payment_hash TEXT NOT NULL UNIQUE,
          destination TEXT,
          description TEXT NOT NULL,
          amount_msat BIGINT,
          fee_paid_msat BIGINT,
          is_outbound BOOLEAN NOT NULL,
          status TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          last_updated BIGINT NOT NULL
        );
        CREATE INDEX kdf_payments_order ON kdf_payments (last_updated DESC, id DESC);
        CREATE INDEX kdf_payments_status ON kdf_payments (status, last_updated DESC, id DESC);
        CREATE INDEX kdf_payments_dest ON kdf_payments (destination, last_updated DESC, id DESC);
        CREATE INDEX kdf_payments_pending_out ON kdf_payments (payment_hash) WHERE status = 'Pending' AND is_outbound;
        """),
    ]

    private let db: PostgresConnection
    private let lock = Lock()

    public init(options: Options) throws {
        db = try .session(for: options, applicationName: "paytrackd-kdf")
        try PostgresMigrations.migrate(db, component: "kdf_records", migrations: Self.migrations)
    }

    private static let columns = KDFPaymentStore.columns

    private static func values(_ r: KDFPaymentRecord) -> [PostgresValue] {
        let destination: PostgresValue
        if case .outbound(let d) = r.direction { destination = .text(d) } else { destination = .null }
        return [.text(r.paymentHash), destination, .text(r.description), .int64(r.amountMsat.map { Int64(clamping: $0) }),
                .int64(r.feePaidMsat.map { Int64(clamping: $0) }), .bool(r.direction != .inbound), .text(r.status.rawValue),
                .int64(r.createdAt), .int64(r.lastUpdated)]
    }

    private static let insertSQL = "INSERT INTO kdf_payments (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"

    private func run(_ sql: String, _ params: [PostgresValue]) throws -> PostgresResult {
        try lock.withLock { try db.query(sql, params) }
    }

    public func insertOrReplace(_ r: KDFPaymentRecord) throws {
        _ = try run(Self.insertSQL + """
             ON CONFLICT (payment_hash) DO UPDATE SET destination = EXCLUDED.destination, description = EXCLUDED.description,
            amount_msat = EXCLUDED.amount_msat, fee_paid_msat = EXCLUDED.fee_paid_msat, is_outbound = EXCLUDED.is_outbound,
            status = EXCLUDED.status, created_at = EXCLUDED.created_at, last_updated = EXCLUDED.last_updated
            """, Self.values(r))
    }

    @discardableResult
    public func insertIfAbsent(_ r: KDFPaymentRecord) throws -> Bool {
        try run(Self.insertSQL + " ON CONFLICT (payment_hash) DO NOTHING", Self.values(r)).affectedRows > 0
    }

    public func insertBatch(_ records: [KDFPaymentRecord]) throws {
        try lock.withLock {
            try db.transaction {
                for r in records { try db.query(Self.insertSQL + " ON CONFLICT (payment_hash) DO NOTHING", Self.values(r)) }
            }
        }
    }

    @discardableResult
    public func markOutboundTerminal(hash: String, succeeded: Bool, feePaidMsat: UInt64?, at: Int64) throws -> Bool {
        let status = succeeded ? KDFPaymentRecord.Status.succeeded : .failed
        return try run("""
            UPDATE kdf_payments SET status = $2, fee_paid_msat = $3, last_updated = $4
            WHERE payment_hash = $1 AND is_outbound AND status = 'Pending'
            """, [.text(hash), .text(status.rawValue), .int64(succeeded ? feePaidMsat.map { Int64(clamping: $0) } : nil),
                  .int64(at)]).affectedRows > 0
    }

    @discardableResult
    public func advanceInbound(hash: String, to status: KDFPaymentRecord.Status, at: Int64) throws -> Bool {
        let from: [KDFPaymentRecord.Status] = status == .claimable ? [.pending] : [.pending, .claimable]
        return try run("""
            UPDATE kdf_payments SET status = $2, last_updated = $3
            WHERE payment_hash = $1 AND NOT is_outbound AND (status = $4 OR status = $5)
            """, [.text(hash), .text(status.rawValue), .int64(at), .text(from[0].rawValue), .text(from.last!.rawValue)])
            .affectedRows > 0
    }

    public func record(hash: String) throws -> KDFPaymentRecord? {
        try Self.records(run("SELECT \(Self.columns) FROM kdf_payments WHERE payment_hash = $1", [.text(hash)])).first
    }

    public func pendingOutboundHashes() throws -> [String] {
        let r = try run("SELECT payment_hash FROM kdf_payments WHERE status = 'Pending' AND is_outbound", [])
        return try (0..<r.count).map { try r.text($0, 0) }
    }

    public var count: Int {
        (try? run("SELECT count(*)::int8 FROM kdf_payments", []).int64(0, 0)).map(Int.init) ?? 0
    }

    private static func records(_ r: PostgresResult) throws -> [KDFPaymentRecord] {
        try (0..<r.count).map { i in
            KDFPaymentRecord(paymentHash: try r.text(i, 0),
                             direction: try r.bool(i, 5) ? .outbound(destination: r.isNull(i, 1) ? "" : try r.text(i, 1)) : .inbound,
                             description: try r.text(i, 2),
                             amountMsat: r.isNull(i, 3) ? nil : UInt64(clamping: try r.int64(i, 3)),
                             feePaidMsat: r.isNull(i, 4) ? nil : UInt64(clamping: try r.int64(i, 4)),
                             status: KDFPaymentRecord.Status(rawValue: try r.text(i, 6)) ?? .pending,
                             createdAt: try r.int64(i, 7), lastUpdated: try r.int64(i, 8))
        }
    }

    public func page(filter: KDFPaymentFilter, paging: KDFPagingOptions, limit: Int) throws -> KDFPaymentPage {
        var clauses: [String] = []
        var params: [PostgresValue] = []
        func add(_ clause: String, _ value: PostgresValue) {
            params.append(value)
            clauses.append(clause.replacingOccurrences(of: "?", with: "$\(params.count)"))
        }
        // A lower bound above every storable value matches nothing.
        func lower(_ column: String, _ v: UInt64) -> Bool {
            guard v <= UInt64(Int64.max) else { return false }
            add("\(column) >= ?", .int64(Int64(v)))
            return true
        }
        var impossible = false
        switch filter.paymentType {
        case .inbound: clauses.append("NOT is_outbound")
        case .outbound(let d): clauses.append("is_outbound"); add("destination = ?", .text(d))
        case nil: break
        }
        if let d = filter.description, !d.isEmpty { add("strpos(lower(description), lower(?)) > 0", .text(d)) }
        if let s = filter.status { add("status = ?", .text(s.rawValue)) }
        if let v = filter.fromAmountMsat, !lower("amount_msat", v) { impossible = true }
        if let v = filter.toAmountMsat { add("amount_msat <= ?", .int64(Int64(clamping: v))) }
        if let v = filter.fromFeePaidMsat, !lower("fee_paid_msat", v) { impossible = true }
        if let v = filter.toFeePaidMsat { add("fee_paid_msat <= ?", .int64(Int64(clamping: v))) }
        if let v = filter.fromTimestamp, !lower("created_at", v) { impossible = true }
        if let v = filter.toTimestamp { add("created_at <= ?", .int64(Int64(clamping: v))) }
        if impossible { return KDFPaymentPage(records: [], skipped: 0, total: 0) }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")

        return try lock.withLock {
            try db.transaction(readOnly: true) {
                let total = Int(try db.query("SELECT count(*)::int8 FROM kdf_payments" + whereSQL, params).int64(0, 0))
                var offset = 0
                var after = ""
                var anchorParams: [PostgresValue] = []
                switch paging {
                case .pageNumber(let n):
                    let (o, overflow) = (max(n, 1) - 1).multipliedReportingOverflow(by: limit)
                    offset = overflow ? Int.max / 2 : o
                case .fromID(let hash):
                    let a = try db.query("SELECT last_updated, id FROM kdf_payments WHERE payment_hash = $1", [.text(Hex.encode(hash))])
                    guard !a.isEmpty else { return KDFPaymentPage(records: [], skipped: 0, total: total) }
                    anchorParams = [.int64(try a.int64(0, 0)), .int64(try a.int64(0, 1))]
                    let n = params.count
                    let joiner = clauses.isEmpty ? " WHERE " : " AND "
                    after = joiner + "(last_updated, id) < ($\(n + 1), $\(n + 2))"
                    // skipped: matching rows up to and including the anchor's place in the order.
                    offset = Int(try db.query("SELECT count(*)::int8 FROM kdf_payments" + whereSQL + joiner
                                              + "(last_updated, id) >= ($\(n + 1), $\(n + 2))", params + anchorParams).int64(0, 0))
                }
                if limit == 0 { return KDFPaymentPage(records: [], skipped: offset, total: total) }
                let all = params + anchorParams
                let sql = "SELECT \(Self.columns) FROM kdf_payments" + whereSQL + after
                    + " ORDER BY last_updated DESC, id DESC LIMIT $\(all.count + 1) OFFSET $\(all.count + 2)"
                let rows = try db.query(sql, all + [.int64(Int64(limit)), .int64(Int64(anchorParams.isEmpty ? offset : 0))])
                return KDFPaymentPage(records: try Self.records(rows), skipped: offset, total: total)
            }
        }
    }
}
