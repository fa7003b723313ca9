/// The KDF payment records of one node (KDF `SqliteLightningDB`'s `payments_history`):
/// `KDFPaymentStore` (a SQLite file per node, FTS5 trigram index over descriptions) or
/// `PostgresKDFPaymentStore` (`--db.backend postgres`: a table in the node's schema, shared by
/// every replica). `KDFRecordStoreConformance` runs the same tests on both.
///
/// Contract (both backends):
/// - `payment_hash` is unique; `insertOrReplace` is KDF's `INSERT OR REPLACE` (a retried payment
///   resets its row), `insertIfAbsent` never overwrites and says whether it inserted.
/// - Status moves only through `markOutboundTerminal` / `advanceInbound`, which change a row only
///   from the states they name (never backwards) and bump `last_updated` only when they change it.
/// - `page` orders by `last_updated` DESC then insertion order DESC; a description filter is a
///   literal, ASCII case-insensitive substring; `total` counts the matching rows.
/// - Every value from a request is a bound parameter. Thread-safe.
public protocol KDFRecordStore: AnyObject, Sendable {
    func insertOrReplace(_ r: KDFPaymentRecord) throws
    @discardableResult func insertIfAbsent(_ r: KDFPaymentRecord) throws -> Bool
    /// Many rows in one transaction (benchmarks, imports); existing hashes are left alone.
    func insertBatch(_ records: [KDFPaymentRecord]) throws
    /// An outbound row's terminal outcome: only a Pending outbound row changes; returns whether one did.
    @discardableResult func markOutboundTerminal(hash: String, succeeded: Bool, feePaidMsat: UInt64?, at: Int64) throws -> Bool
    /// An inbound row moving forward (Pending → Claimable → Succeeded); returns whether it moved.
    @discardableResult func advanceInbound(hash: String, to status: KDFPaymentRecord.Status, at: Int64) throws -> Bool
    func record(hash: String) throws -> KDFPaymentRecord?
    /// Hashes of outbound rows still Pending (startup reconciliation with the engine).
    func pendingOutboundHashes() throws -> [String]
    var count: Int { get }
    /// One page of `filter`'s rows (see the contract): PageNumber n skips (n-1)·limit matching
    /// rows; FromId h starts after h in the same order (unknown h: empty page, skipped 0).
    func page(filter: KDFPaymentFilter, paging: KDFPagingOptions, limit: Int) throws -> KDFPaymentPage
    /// Whether `record(hash:)` reads without blocking (SQLite's own read-only WAL connection and
    /// cache): then get_payment_details is answered on the listener's event loop. A store whose
    /// reads are network round trips (PostgreSQL) says false.
    var hasReadConnection: Bool { get }
}

extension KDFRecordStore {
    public var hasReadConnection: Bool { false }
}

extension KDFPaymentStore: KDFRecordStore {}
