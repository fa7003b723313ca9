/// Durable storage of one node's invoices and their HTLCs: `SQLiteInvoiceStore` (a file per node)
/// or `PostgresInvoiceStore` (a schema per node). `InvoiceStoreConformance` tests both the same way.
///
/// Contract: used under the registry's lock only (one thread at a time). `add_index` is assigned
/// by the store and never reused; `settle_index` is assigned by the registry from
/// `maxSettleIndex()+1` inside the same `transaction` as the settle.
protocol InvoicePersistence: AnyObject {
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<R>(_ body: () throws -> R) throws -> R
    /// Inserts a new invoice; returns its add_index. Throws `InvoiceError.duplicateInvoice` when
    /// the hash exists.
    func insert(_ inv: Invoice) throws -> UInt64
    /// Writes the mutable parts of an invoice (state, settlement, preimage, value, HTLCs).
    func update(_ inv: Invoice) throws
    func exists(hash: [UInt8]) throws -> Bool
    func invoice(hash: [UInt8]) throws -> Invoice?
    /// The invoice whose payment address (BOLT 11 `s`) is `paymentAddr` (LookupInvoiceV2).
    func invoice(paymentAddr: [UInt8]) throws -> Invoice?
    func count() throws -> Int
    func maxSettleIndex() throws -> UInt64
    /// Invoices with add_index > `index`, ascending.
    func added(after index: UInt64) throws -> [Invoice]
    /// Settled invoices with settle_index > `index`, in settle order.
    func settled(after index: UInt64) throws -> [Invoice]
    /// Invoices holding ACCEPTED HTLCs (to resolve after a restart).
    func withAcceptedHTLCs() throws -> [Invoice]
    /// ListInvoices: one page per LND's invoice query rules, ascending by add_index.
    func page(_ q: InvoiceQuery, limit: UInt64) throws -> [Invoice]
}

/// Where an `InvoiceRegistry` keeps its invoices.
public enum InvoiceDatabase: Sendable {
    /// A SQLite file (`":memory:"` for a private in-memory one).
    case sqlite(path: String)
    case postgres(PostgresInvoiceStore.Options)
}
