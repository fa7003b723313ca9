import BOLT11
import LightningPrimitives
import PostgreSQL

/// PostgreSQL persistence of one node's invoices and their HTLCs (`InvoicePersistence`): the same
/// tables and columns as `SQLiteInvoiceStore`, in a schema per node, on one session used under the
/// registry's lock. Every statement is parameterized.
public final class PostgresInvoiceStore: InvoicePersistence {
    public typealias Options = PostgresStoreOptions

    static let component = "invoices"
    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE invoices (
          add_index BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          payment_hash BYTEA NOT NULL UNIQUE,
          preimage BYTEA,
          memo TEXT NOT NULL,
          value_msat BIGINT NOT NULL,
          creation_date BIGINT NOT NULL,
          settle_date BIGINT NOT NULL,
          payment_request TEXT NOT NULL,
          description_hash BYTEA NOT NULL,
          expiry BIGINT NOT NULL,
          fallback_addr TEXT NOT NULL,
          cltv_expiry BIGINT NOT NULL,
          route_hints BYTEA NOT NULL,
          private BOOLEAN NOT NULL,
          settle_index BIGINT NOT NULL,
          amt_paid_msat BIGINT NOT NULL,
          state BIGINT NOT NULL,
          features TEXT NOT NULL,
          is_keysend BOOLEAN NOT NULL,
          payment_addr BYTEA NOT NULL,
          is_amp BOOLEAN NOT NULL,
          is_hold BOOLEAN NOT NULL
        );
        CREATE INDEX invoices_by_settle_index ON invoices (settle_index) WHERE settle_index > 0;
        CREATE INDEX invoices_by_creation ON invoices (creation_date);
        CREATE INDEX invoices_by_payment_addr ON invoices (payment_addr);
        CREATE TABLE invoice_htlcs (
          seq BIGINT GENERATED ALWAYS AS IDENTITY,
          add_index BIGINT NOT NULL REFERENCES invoices (add_index) ON DELETE CASCADE,
          chan_id BIGINT NOT NULL,
          htlc_index BIGINT NOT NULL,
          amt_msat BIGINT NOT NULL,
          accept_height BIGINT NOT NULL,
          accept_time BIGINT NOT NULL,
          resolve_time BIGINT NOT NULL,
          expiry_height BIGINT NOT NULL,
          state BIGINT NOT NULL,
          mpp_total_msat BIGINT NOT NULL,
          custom_records BYTEA NOT NULL,
          PRIMARY KEY (add_index, chan_id, htlc_index)
        );
        CREATE INDEX invoice_htlcs_accepted ON invoice_htlcs (add_index) WHERE state = 0;
        """),
    ]

    private let db: PostgresConnection
    private let changeChannel: String

    public init(options: Options) throws {
        db = try .session(for: options, applicationName: "paytrackd-invoices")
        changeChannel = options.invoiceChangeChannel
        try PostgresMigrations.migrate(db, component: Self.component, migrations: Self.migrations)
    }

    func transaction<R>(_ body: () throws -> R) throws -> R { try db.transaction(body) }

    func insert(_ inv: Invoice) throws -> UInt64 {
        if try exists(hash: inv.rHash) { throw InvoiceError.duplicateInvoice }
        let r = try db.query("""
            INSERT INTO invoices (payment_hash, preimage, memo, value_msat, creation_date, settle_date, payment_request,
              description_hash, expiry, fallback_addr, cltv_expiry, route_hints, private, settle_index, amt_paid_msat,
              state, features, is_keysend, payment_addr, is_amp, is_hold)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
            RETURNING add_index
            """, [.bytes(inv.rHash), .bytes(inv.rPreimage), .text(inv.memo), .int64(inv.valueMsat), .int64(inv.creationDate),
                  .int64(inv.settleDate), .text(inv.paymentRequest), .bytes(inv.descriptionHash), .int64(inv.expiry),
                  .text(inv.fallbackAddr), .int64(Int64(bitPattern: inv.cltvExpiry)), .bytes(InvoiceBlobCodec.encodeHints(inv.routeHints)),
                  .bool(inv.isPrivate), .int64(Int64(bitPattern: inv.settleIndex)), .int64(inv.amtPaidMsat),
                  .int64(Int64(inv.state.rawValue)), .text(inv.features.bits.map(String.init).joined(separator: ",")),
                  .bool(inv.isKeysend), .bytes(inv.paymentAddr), .bool(inv.isAmp), .bool(inv.isHold)])
        let addIndex = UInt64(bitPattern: try r.int64(0, 0))
        try replaceHTLCs(addIndex: addIndex, inv.htlcs)
        return addIndex
    }

    func update(_ inv: Invoice) throws {
        try db.query("""
            UPDATE invoices SET preimage = $1, settle_date = $2, settle_index = $3, amt_paid_msat = $4, state = $5,
              value_msat = $6 WHERE add_index = $7
            """, [.bytes(inv.rPreimage), .int64(inv.settleDate), .int64(Int64(bitPattern: inv.settleIndex)), .int64(inv.amtPaidMsat),
                  .int64(Int64(inv.state.rawValue)), .int64(inv.valueMsat), .int64(Int64(bitPattern: inv.addIndex))])
        try replaceHTLCs(addIndex: inv.addIndex, inv.htlcs)
        // Delivered at commit when inside the registry's transaction: replicas holding this
        // invoice's HTLCs re-read it (a hold invoice settled or canceled through another replica).
        try db.notify(changeChannel, Hex.encode(inv.rHash))
    }

    private func replaceHTLCs(addIndex: UInt64, _ htlcs: [InvoiceHTLC]) throws {
        try db.query("DELETE FROM invoice_htlcs WHERE add_index = $1", [.int64(Int64(bitPattern: addIndex))])
        for h in htlcs {
            try db.query("""
                INSERT INTO invoice_htlcs (add_index, chan_id, htlc_index, amt_msat, accept_height, accept_time, resolve_time,
                  expiry_height, state, mpp_total_msat, custom_records) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """, [.int64(Int64(bitPattern: addIndex)), .int64(Int64(bitPattern: h.chanID)), .int64(Int64(bitPattern: h.htlcIndex)),
                      .int64(Int64(bitPattern: h.amtMsat)), .int64(Int64(h.acceptHeight)), .int64(h.acceptTime), .int64(h.resolveTime),
                      .int64(Int64(h.expiryHeight)), .int64(Int64(h.state.rawValue)), .int64(Int64(bitPattern: h.mppTotalAmtMsat)),
                      .bytes(InvoiceBlobCodec.encodeRecords(h.customRecords))])
        }
    }

    func exists(hash: [UInt8]) throws -> Bool {
        !(try db.query("SELECT 1::int8 FROM invoices WHERE payment_hash = $1", [.bytes(hash)]).isEmpty)
    }

    func invoice(hash: [UInt8]) throws -> Invoice? {
        try select("WHERE payment_hash = $1", [.bytes(hash)]).first
    }

    func invoice(paymentAddr: [UInt8]) throws -> Invoice? {
        try select("WHERE payment_addr = $1 LIMIT 1", [.bytes(paymentAddr)]).first
    }

    func count() throws -> Int {
        Int(try db.query("SELECT count(*)::int8 FROM invoices").int64(0, 0))
    }

    func maxSettleIndex() throws -> UInt64 {
        UInt64(bitPattern: try db.query("SELECT COALESCE(MAX(settle_index), 0)::int8 FROM invoices").int64(0, 0))
    }

    func added(after index: UInt64) throws -> [Invoice] {
        try select("WHERE add_index > $1 ORDER BY add_index", [.int64(Int64(bitPattern: index))])
    }

    func settled(after index: UInt64) throws -> [Invoice] {
        try select("WHERE settle_index > $1 ORDER BY settle_index", [.int64(Int64(bitPattern: index))])
    }

    func withAcceptedHTLCs() throws -> [Invoice] {
        try select("WHERE add_index IN (SELECT add_index FROM invoice_htlcs WHERE state = 0) ORDER BY add_index", [])
    }

    /// ListInvoices: one page per LND's invoice query rules (`InvoiceQuery.pageSQL`).
    func page(_ q: InvoiceQuery, limit: UInt64) throws -> [Invoice] {
        let rows = try select(q.pageSQL { "$\($0)" }, q.pageBindings(limit: limit).map { .int64($0) })
        return q.reversed ? rows.reversed() : rows
    }

    private func select(_ tail: String, _ params: [PostgresValue]) throws -> [Invoice] {
        let r = try db.query("""
            SELECT add_index, payment_hash, preimage, memo, value_msat, creation_date, settle_date, payment_request,
            description_hash, expiry, fallback_addr, cltv_expiry, route_hints, private, settle_index, amt_paid_msat,
            state, features, is_keysend, payment_addr, is_amp, is_hold FROM invoices
            """ + " " + tail, params)
        var out = [Invoice]()
        for i in 0..<r.count {
            var inv = Invoice(
                memo: try r.text(i, 3), rPreimage: r.isNull(i, 2) ? nil : try r.bytes(i, 2), rHash: try r.bytes(i, 1),
                valueMsat: try r.int64(i, 4), creationDate: try r.int64(i, 5), settleDate: try r.int64(i, 6),
                paymentRequest: try r.text(i, 7), descriptionHash: try r.bytes(i, 8), expiry: try r.int64(i, 9),
                fallbackAddr: try r.text(i, 10), cltvExpiry: UInt64(bitPattern: try r.int64(i, 11)),
                routeHints: InvoiceBlobCodec.decodeHints(try r.bytes(i, 12)), isPrivate: try r.bool(i, 13),
                addIndex: UInt64(bitPattern: try r.int64(i, 0)), settleIndex: UInt64(bitPattern: try r.int64(i, 14)),
                amtPaidMsat: try r.int64(i, 15), state: InvoiceState(rawValue: Int32(truncatingIfNeeded: try r.int64(i, 16))) ?? .open,
                htlcs: [], features: FeatureVector(bits: try r.text(i, 17).split(separator: ",").compactMap { Int($0) }),
                isKeysend: try r.bool(i, 18), paymentAddr: try r.bytes(i, 19), isAmp: try r.bool(i, 20), isHold: try r.bool(i, 21))
            inv.htlcs = try htlcs(addIndex: inv.addIndex)
            out.append(inv)
        }
        return out
    }

    private func htlcs(addIndex: UInt64) throws -> [InvoiceHTLC] {
        let r = try db.query("""
            SELECT chan_id, htlc_index, amt_msat, accept_height, accept_time, resolve_time, expiry_height, state,
              mpp_total_msat, custom_records FROM invoice_htlcs WHERE add_index = $1 ORDER BY seq
            """, [.int64(Int64(bitPattern: addIndex))])
        var out = [InvoiceHTLC]()
        for i in 0..<r.count {
            out.append(InvoiceHTLC(
                chanID: UInt64(bitPattern: try r.int64(i, 0)), htlcIndex: UInt64(bitPattern: try r.int64(i, 1)),
                amtMsat: UInt64(bitPattern: try r.int64(i, 2)), acceptHeight: Int32(truncatingIfNeeded: try r.int64(i, 3)),
                acceptTime: try r.int64(i, 4), resolveTime: try r.int64(i, 5), expiryHeight: Int32(truncatingIfNeeded: try r.int64(i, 6)),
                state: InvoiceHTLCState(rawValue: Int32(truncatingIfNeeded: try r.int64(i, 7))) ?? .canceled,
                customRecords: InvoiceBlobCodec.decodeRecords(try r.bytes(i, 9)), mppTotalAmtMsat: UInt64(bitPattern: try r.int64(i, 8))))
        }
        return out
    }
}

extension PostgresStoreOptions {
    /// The LISTEN/NOTIFY channel of this schema's invoice changes: `<schema>_invoices`; each update
    /// of an invoice notifies it with the payment hash in hex (`PostgresInvoiceFeed`).
    public var invoiceChangeChannel: String { (schema ?? "paytrack") + "_invoices" }
}
