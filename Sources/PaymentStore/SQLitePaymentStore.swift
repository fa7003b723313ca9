#if canImport(Glibc)
import Locks
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Payments
import SQLite

/// The payments database: SQLite in WAL mode, one writer thread with group commit, a small pool
/// of read-only connections for lookups and ListPayments.
///
/// Location: the Node passes the path; PayTrack's layout is `DATADIR/data/graph/<network>/payments.sqlite`
/// (beside `invoices.sqlite`; see `defaultPath`). The file is created 0600 by SQLite's umask-aware
/// open plus an explicit chmod.
///
/// Durability: a change's completion runs only after its transaction committed. With
/// `Durability.full` (default) every commit is fsynced (`synchronous=FULL`): nothing acknowledged
/// is lost even on power loss. `normal` (`synchronous=NORMAL`) survives process crashes (kill -9)
/// but may lose the last commits on power loss.
///
/// Every operation uses an index: lookups by hash (unique), in-flight payments (status index),
/// ListPayments (payment_index / status / creation indexes with LIMIT), replay since (update-stamp
/// index), deletes (status index, failed-attempts partial index), counts (meta counter).
public final class SQLitePaymentStore: GroupCommitPaymentStore, PaymentPersistence, @unchecked Sendable {
    public enum Durability: Sendable { case full, normal }

    public struct Options: Sendable {
        public var durability: Durability = .full
        /// Most queued changes committed in one transaction.
        public var maxBatch: Int = 4096
        /// Read connections kept open.
        public var readers: Int = 4
        public init() {}
    }

    public let path: String
    private let readers: PaymentSessionPool<PaymentReader>

    /// `DATADIR/data/graph/<network>/payments.sqlite`.
    public static func defaultPath(dataDirectory: String, network: String) -> String {
        dataDirectory + "/data/graph/" + network + "/payments.sqlite"
    }

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// The directory must exist.
    public init(path: String, options: Options = Options()) throws(PaymentError) {
        self.path = path
        let readers = PaymentSessionPool(limit: options.readers) { try PaymentReader(path: path) }
        let writer: PaymentWriter
        do {
            let db = try Database(path: path)
            chmod(path, 0o600)
            try db.execute("PRAGMA journal_mode = WAL")
            try db.execute(options.durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            try db.execute("PRAGMA foreign_keys = OFF")
            // A larger page cache and memory-mapped reads keep the indexes hot; checkpoints are
            // amortized over more commits.
            try db.execute("PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 4000")
            try PaymentSchema.migrate(db)
            let meta = try db.prepare("SELECT key, value FROM payment_meta")
            var values: [String: Int64] = [:]
            while try meta.step() { values[meta.text(0)] = meta.int64(1) }
            writer = PaymentWriter(backend: SQLitePaymentTransactor(db: db), maxBatch: options.maxBatch, meta: values)
        } catch {
            throw .storage(String(describing: error))
        }
        self.readers = readers
        super.init(writer: writer, closeReaders: { readers.close() })
    }


    // MARK: PaymentPersistence: reads

    public func fetchPayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot? {
        try readers.with { try $0.fetch(hash) }
    }

    public func fetchInFlightPayments() throws(PaymentError) -> [PaymentSnapshot] {
        try readers.with { r in
            try r.inReadTransaction {
                try r.snapshots(Self.inFlightSQL) {
                    $0.bind(1, Int64(PaymentStatus.initiated.rawValue))
                    $0.bind(2, Int64(PaymentStatus.inFlight.rawValue))
                }
            }
        }
    }

    public func fetchPaymentsUpdated(since: Int64, limit: Int) throws(PaymentError) -> [PaymentSnapshot] {
        try readers.with { r in
            try r.inReadTransaction {
                try r.snapshots(Self.updatedSinceSQL) {
                    $0.bind(1, since)
                    $0.bind(2, limit)
                }
            }
        }
    }

    public func paymentCount() throws(PaymentError) -> UInt64 {
        try readers.with { r in UInt64(max(0, try r.inReadTransaction { try r.meta("payment_count") })) }
    }

    /// ListPayments (LND `QueryPayments`): index_offset is exclusive; reversed pages walk down from
    /// the offset (or the newest) and come back in ascending order; include_incomplete=false keeps
    /// only Succeeded payments; creation dates are unix seconds, inclusive at both ends.
    public func queryPayments(_ q: PaymentsQuery) throws(PaymentError) -> PaymentsPage {
        try q.validate()
        let sql = Self.querySQL(q)
        return try readers.with { r in
            try r.inReadTransaction {
                var list = try r.snapshots(sql, omitHops: q.omitHops) { st in
                    for (i, v) in q.pageBindings.enumerated() { st.bind(Int32(i + 1), v) }
                }
                if q.reversed { list.reverse() }
                let total = q.countTotalPayments ? UInt64(max(0, try r.meta("payment_count"))) : 0
                return PaymentsPage(payments: list, firstIndexOffset: list.first?.paymentIndex ?? 0,
                                    lastIndexOffset: list.last?.paymentIndex ?? 0, totalNumPayments: total)
            }
        }
    }

    // MARK: Statements (each served by an index; PaymentStoreTests checks their query plans)

    /// Initiated and in-flight payments (startup, TrackPayments): the `payments_status` index.
    static let inFlightSQL =
        "SELECT \(PaymentReader.paymentColumns) FROM payments WHERE status IN (?1, ?2) ORDER BY payment_index"
    /// Payments updated at or after ?1, oldest first, at most ?2 (TrackPayments replay): `payments_update`.
    static let updatedSinceSQL =
        "SELECT \(PaymentReader.paymentColumns) FROM payments WHERE last_update_ns >= ?1 ORDER BY last_update_ns LIMIT ?2"

    /// One ListPayments page (`PaymentsQuery.pageSQL`).
    static func querySQL(_ q: PaymentsQuery) -> String {
        q.pageSQL(columns: PaymentReader.paymentColumns) { "?\($0)" }
    }
}
