import SQLite
import BOLT11
import Crypto

/// SQLite persistence of one node's invoices and their HTLCs (`InvoicePersistence`).
///
/// Contract: `add_index` is the rowid (AUTOINCREMENT: never reused); `settle_index` is assigned by
/// the registry from `maxSettleIndex()+1` inside the same transaction as the settle. Used under
/// the registry's lock only (one thread at a time, as `Database` requires).
final class SQLiteInvoiceStore: InvoicePersistence {
    let db: Database

    static let schema = """
    PRAGMA journal_mode=WAL;
    PRAGMA synchronous=FULL;
    CREATE TABLE IF NOT EXISTS invoices (
      add_index INTEGER PRIMARY KEY AUTOINCREMENT,
      payment_hash BLOB NOT NULL UNIQUE,
      preimage BLOB,
      memo TEXT NOT NULL,
      value_msat INTEGER NOT NULL,
      creation_date INTEGER NOT NULL,
      settle_date INTEGER NOT NULL,
      payment_request TEXT NOT NULL,
      description_hash BLOB NOT NULL,
      expiry INTEGER NOT NULL,
      fallback_addr TEXT NOT NULL,
      cltv_expiry INTEGER NOT NULL,
      route_hints BLOB NOT NULL,
      private INTEGER NOT NULL,
      settle_index INTEGER NOT NULL,
      amt_paid_msat INTEGER NOT NULL,
      state INTEGER NOT NULL,
      features TEXT NOT NULL,
      is_keysend INTEGER NOT NULL,
      payment_addr BLOB NOT NULL,
      is_amp INTEGER NOT NULL,
      is_hold INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS invoices_by_settle_index ON invoices(settle_index) WHERE settle_index > 0;
    CREATE INDEX IF NOT EXISTS invoices_by_payment_addr ON invoices(payment_addr);
    CREATE TABLE IF NOT EXISTS invoice_htlcs (
      add_index INTEGER NOT NULL REFERENCES invoices(add_index),
      chan_id INTEGER NOT NULL,
      htlc_index INTEGER NOT NULL,
      amt_msat INTEGER NOT NULL,
      accept_height INTEGER NOT NULL,
      accept_time INTEGER NOT NULL,
      resolve_time INTEGER NOT NULL,
      expiry_height INTEGER NOT NULL,
      state INTEGER NOT NULL,
      mpp_total_msat INTEGER NOT NULL,
      custom_records BLOB NOT NULL,
      PRIMARY KEY (add_index, chan_id, htlc_index)
    );
    """

    static let insertColumns = """
    payment_hash, preimage, memo, value_msat, creation_date, settle_date, payment_request,
    description_hash, expiry, fallback_addr, cltv_expiry, route_hints, private, settle_index, amt_paid_msat,
    state, features, is_keysend, payment_addr, is_amp, is_hold
    """

    static let columns = """
    add_index, payment_hash, preimage, memo, value_msat, creation_date, settle_date, payment_request,
    description_hash, expiry, fallback_addr, cltv_expiry, route_hints, private, settle_index, amt_paid_msat,
    state, features, is_keysend, payment_addr, is_amp, is_hold
    """

    init(path: String) throws(SQLiteError) {
        db = try Database(path: path)
        try db.execute(Self.schema)
    }

    func transaction<R>(_ body: () throws -> R) throws -> R { try db.transaction(body) }

    /// Inserts a new invoice; returns its add_index. Throws `InvoiceError.duplicateInvoice` when the
    /// hash exists.
    func insert(_ inv: Invoice) throws -> UInt64 {
        if try exists(hash: inv.rHash) { throw InvoiceError.duplicateInvoice }
        let st = try db.prepare("INSERT INTO invoices (\(Self.insertColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        st.bind(1, inv.rHash)
        st.bind(2, inv.rPreimage)
        st.bind(3, inv.memo)
        st.bind(4, inv.valueMsat)
        st.bind(5, inv.creationDate)
        st.bind(6, inv.settleDate)
        st.bind(7, inv.paymentRequest)
        st.bind(8, inv.descriptionHash)
        st.bind(9, inv.expiry)
        st.bind(10, inv.fallbackAddr)
        st.bind(11, Int64(bitPattern: inv.cltvExpiry))
        st.bind(12, InvoiceBlobCodec.encodeHints(inv.routeHints))
        st.bind(13, inv.isPrivate ? 1 : 0)
        st.bind(14, Int64(bitPattern: inv.settleIndex))
        st.bind(15, inv.amtPaidMsat)
        st.bind(16, Int64(inv.state.rawValue))
        st.bind(17, inv.features.bits.map(String.init).joined(separator: ","))
        st.bind(18, inv.isKeysend ? 1 : 0)
        st.bind(19, inv.paymentAddr)
        st.bind(20, inv.isAmp ? 1 : 0)
        st.bind(21, inv.isHold ? 1 : 0)
        try st.run()
        let addIndex = UInt64(db.lastInsertRowID)
        try replaceHTLCs(addIndex: addIndex, inv.htlcs)
        return addIndex
    }

    /// Writes the mutable parts of an invoice (state, settlement, preimage, HTLCs).
    func update(_ inv: Invoice) throws {
        let st = try db.prepare("""
            UPDATE invoices SET preimage = ?, settle_date = ?, settle_index = ?, amt_paid_msat = ?, state = ?,
              value_msat = ? WHERE add_index = ?
            """)
        st.bind(1, inv.rPreimage)
        st.bind(2, inv.settleDate)
        st.bind(3, Int64(bitPattern: inv.settleIndex))
        st.bind(4, inv.amtPaidMsat)
        st.bind(5, Int64(inv.state.rawValue))
        st.bind(6, inv.valueMsat)
        st.bind(7, Int64(bitPattern: inv.addIndex))
        try st.run()
        try replaceHTLCs(addIndex: inv.addIndex, inv.htlcs)
    }

    private func replaceHTLCs(addIndex: UInt64, _ htlcs: [InvoiceHTLC]) throws {
        let del = try db.prepare("DELETE FROM invoice_htlcs WHERE add_index = ?")
        del.bind(1, Int64(bitPattern: addIndex))
        try del.run()
        guard !htlcs.isEmpty else { return }
        let ins = try db.prepare("INSERT INTO invoice_htlcs VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        for h in htlcs {
            ins.reset()
            ins.bind(1, Int64(bitPattern: addIndex))
            ins.bind(2, Int64(bitPattern: h.chanID))
            ins.bind(3, Int64(bitPattern: h.htlcIndex))
            ins.bind(4, Int64(bitPattern: h.amtMsat))
            ins.bind(5, Int64(h.acceptHeight))
            ins.bind(6, h.acceptTime)
            ins.bind(7, h.resolveTime)
            ins.bind(8, Int64(h.expiryHeight))
            ins.bind(9, Int64(h.state.rawValue))
            ins.bind(10, Int64(bitPattern: h.mppTotalAmtMsat))
            ins.bind(11, InvoiceBlobCodec.encodeRecords(h.customRecords))
            try ins.run()
        }
    }

    func exists(hash: [UInt8]) throws -> Bool {
        let st = try db.prepare("SELECT 1 FROM invoices WHERE payment_hash = ?")
        st.bind(1, hash)
        return try st.step()
    }

    func invoice(hash: [UInt8]) throws -> Invoice? {
        try select("WHERE payment_hash = ?") { $0.bind(1, hash) }.first
    }

    /// The invoice whose payment address (BOLT 11 `s`) is `addr` (LookupInvoiceV2 by payment_addr).
    func invoice(paymentAddr addr: [UInt8]) throws -> Invoice? {
        try select("WHERE payment_addr = ? LIMIT 1") { $0.bind(1, addr) }.first
    }

    func count() throws -> Int {
        let st = try db.prepare("SELECT COUNT(*) FROM invoices")
        _ = try st.step()
        return st.int(0)
    }

    func maxSettleIndex() throws -> UInt64 {
        let st = try db.prepare("SELECT COALESCE(MAX(settle_index), 0) FROM invoices")
        _ = try st.step()
        return UInt64(bitPattern: st.int64(0))
    }

    /// Invoices with add_index > `index`, ascending.
    func added(after index: UInt64) throws -> [Invoice] {
        try select("WHERE add_index > ? ORDER BY add_index") { $0.bind(1, Int64(bitPattern: index)) }
    }

    /// Settled invoices with settle_index > `index`, in settle order.
    func settled(after index: UInt64) throws -> [Invoice] {
        try select("WHERE settle_index > ? ORDER BY settle_index") { $0.bind(1, Int64(bitPattern: index)) }
    }

    /// Invoices holding ACCEPTED HTLCs (to resolve after a restart).
    func withAcceptedHTLCs() throws -> [Invoice] {
        try select("WHERE add_index IN (SELECT add_index FROM invoice_htlcs WHERE state = 0)") { _ in }
    }

    /// ListInvoices: one page per LND's invoice query rules.
    func page(_ q: InvoiceQuery, limit: UInt64) throws -> [Invoice] {
        let rows = try select(q.pageSQL { "?\($0)" }) { st in
            for (i, v) in q.pageBindings(limit: limit).enumerated() { st.bind(Int32(i + 1), v) }
        }
        return q.reversed ? rows.reversed() : rows
    }

    private func select(_ tail: String, bind: (Statement) -> Void) throws -> [Invoice] {
        let st = try db.prepare("SELECT \(Self.columns) FROM invoices \(tail)")
        bind(st)
        var out = [Invoice]()
        while try st.step() {
            var inv = Invoice(
                memo: st.text(3), rPreimage: st.isNull(2) ? nil : st.blob(2), rHash: st.blob(1),
                valueMsat: st.int64(4), creationDate: st.int64(5), settleDate: st.int64(6),
                paymentRequest: st.text(7), descriptionHash: st.blob(8), expiry: st.int64(9),
                fallbackAddr: st.text(10), cltvExpiry: UInt64(bitPattern: st.int64(11)),
                routeHints: InvoiceBlobCodec.decodeHints(st.blob(12)), isPrivate: st.int64(13) != 0,
                addIndex: UInt64(bitPattern: st.int64(0)), settleIndex: UInt64(bitPattern: st.int64(14)),
                amtPaidMsat: st.int64(15), state: InvoiceState(rawValue: Int32(st.int64(16))) ?? .open, htlcs: [],
                features: FeatureVector(bits: st.text(17).split(separator: ",").compactMap { Int($0) }),
                isKeysend: st.int64(18) != 0, paymentAddr: st.blob(19), isAmp: st.int64(20) != 0,
                isHold: st.int64(21) != 0)
            inv.htlcs = try htlcs(addIndex: inv.addIndex)
            out.append(inv)
        }
        return out
    }

    private func htlcs(addIndex: UInt64) throws -> [InvoiceHTLC] {
        let st = try db.prepare("""
            SELECT chan_id, htlc_index, amt_msat, accept_height, accept_time, resolve_time, expiry_height, state,
              mpp_total_msat, custom_records FROM invoice_htlcs WHERE add_index = ? ORDER BY rowid
            """)
        st.bind(1, Int64(bitPattern: addIndex))
        var out = [InvoiceHTLC]()
        while try st.step() {
            out.append(InvoiceHTLC(
                chanID: UInt64(bitPattern: st.int64(0)), htlcIndex: UInt64(bitPattern: st.int64(1)),
                amtMsat: UInt64(bitPattern: st.int64(2)), acceptHeight: Int32(truncatingIfNeeded: st.int64(3)),
                acceptTime: st.int64(4), resolveTime: st.int64(5), expiryHeight: Int32(truncatingIfNeeded: st.int64(6)),
                state: InvoiceHTLCState(rawValue: Int32(st.int64(7))) ?? .canceled,
                customRecords: InvoiceBlobCodec.decodeRecords(st.blob(9)), mppTotalAmtMsat: UInt64(bitPattern: st.int64(8))))
        }
        return out
    }
}
