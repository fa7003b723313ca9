import Locks
import Foundation
import Payments
import SQLite

/// The KDF payment records of one node (KDF `SqliteLightningDB`'s `payments_history` table), in
/// their own SQLite file, with an FTS5 trigram index over descriptions so a substring filter of
/// three or more characters never scans every row, and a narrow copy of the filtered and ordered
/// columns (`kdf_payment_keys`, see `migrations`) so each of its matches costs a small lookup;
/// one- and two-character filters are counted from per-gram match counts
/// (`kdf_description_grams`) and paged by `KDFShortDescriptionPlan`.
///
/// Contract:
/// - `payment_hash` is unique; `insertOrReplace` is KDF's `INSERT OR REPLACE` (a retried payment
///   resets its row), `insertIfAbsent` never overwrites.
/// - Status moves only through `markTerminal`/`markClaimable`/`markSucceeded`, which bump
///   `last_updated` only when they change the row (so ordering follows real events).
/// - Every value from a request is a bound parameter: the SQL text is assembled only from
///   constant fragments chosen by which filter keys are present.
/// - Thread-safe: one connection behind a lock; its page cache is at most 32 MiB (reads beyond
///   it come from a 1 GiB memory map of the file, i.e. the OS page cache).
/// - `record(hash:)` of a file database runs on a second, read-only connection with its own lock
///   (`hasReadConnection`): under WAL it reads the last committed state without waiting for a
///   write or a long page on the main connection, so it is safe on an event loop. Records it read
///   are kept in a bounded cache (`KDFRecordCache`) that every write invalidates.
public final class KDFPaymentStore: @unchecked Sendable {
    let db: Database
    let lock = Lock()
    private var statements: [String: Statement] = [:]
    /// The read connection and its one statement (nil for `:memory:`, which is per connection).
    private let reader: (db: Database, lock: Lock, byHash: Statement)?

    /// Whether point reads have their own connection (see the contract).
    public var hasReadConnection: Bool { reader != nil }
    let cache = KDFRecordCache(capacity: 4096)
    /// Tests: the plan for one- and two-character filters instead of the cost estimates (`KDFShortDescriptionPlan`).
    var shortPlanOverride: KDFShortDescriptionPlan?

    static let columns = "payment_hash, destination, description, amount_msat, fee_paid_msat, is_outbound, status, created_at, last_updated"

    public init(path: String) throws(SQLiteError) {
        db = try Database(path: path)
        try db.execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA cache_size=-32768;
            PRAGMA mmap_size=1073741824;
            PRAGMA journal_size_limit=67108864;
            PRAGMA wal_checkpoint(TRUNCATE);
            CREATE TABLE IF NOT EXISTS kdf_payments (
                id INTEGER NOT NULL PRIMARY KEY,
                payment_hash TEXT NOT NULL UNIQUE,
                destination TEXT,
                description TEXT NOT NULL,
                amount_msat INTEGER,
                fee_paid_msat INTEGER,
                is_outbound INTEGER NOT NULL,
                status TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                last_updated INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS kdf_payments_order ON kdf_payments(last_updated DESC, id DESC);
            CREATE INDEX IF NOT EXISTS kdf_payments_status ON kdf_payments(status, last_updated DESC, id DESC);
            CREATE INDEX IF NOT EXISTS kdf_payments_dest ON kdf_payments(destination, last_updated DESC, id DESC);
            CREATE VIRTUAL TABLE IF NOT EXISTS kdf_descriptions USING fts5(
                description, content='kdf_payments', content_rowid='id', tokenize='trigram');
            CREATE TRIGGER IF NOT EXISTS kdf_payments_ai AFTER INSERT ON kdf_payments BEGIN
                INSERT INTO kdf_descriptions(rowid, description) VALUES (new.id, new.description); END;
            CREATE TRIGGER IF NOT EXISTS kdf_payments_ad AFTER DELETE ON kdf_payments BEGIN
                INSERT INTO kdf_descriptions(kdf_descriptions, rowid, description) VALUES ('delete', old.id, old.description); END;
            CREATE TRIGGER IF NOT EXISTS kdf_payments_au AFTER UPDATE OF description ON kdf_payments BEGIN
                INSERT INTO kdf_descriptions(kdf_descriptions, rowid, description) VALUES ('delete', old.id, old.description);
                INSERT INTO kdf_descriptions(rowid, description) VALUES (new.id, new.description); END;
            CREATE TABLE IF NOT EXISTS kdf_payments_count (n INTEGER NOT NULL);
            INSERT INTO kdf_payments_count SELECT COUNT(*) FROM kdf_payments WHERE NOT EXISTS (SELECT 1 FROM kdf_payments_count);
            CREATE TRIGGER IF NOT EXISTS kdf_payments_count_ai AFTER INSERT ON kdf_payments BEGIN
                UPDATE kdf_payments_count SET n = n + 1; END;
            CREATE TRIGGER IF NOT EXISTS kdf_payments_count_ad AFTER DELETE ON kdf_payments BEGIN
                UPDATE kdf_payments_count SET n = n - 1; END;
            """)
        try Self.migrate(db)
        try db.execute(Self.termsTableSQL)
        if path == ":memory:" || path.isEmpty || path.hasPrefix("file:") {
            reader = nil
        } else {
            let r = try Database(path: path, readOnly: true)
            try r.execute("PRAGMA cache_size=-2048; PRAGMA mmap_size=1073741824;")
            reader = (r, Lock(), try r.prepare("SELECT \(Self.columns) FROM kdf_payments WHERE payment_hash = ?1"))
        }
    }

    /// Schema changes after the first layout, by `PRAGMA user_version`: each runs once, in one
    /// transaction with its version, so a store written by an older build is upgraded when opened.
    ///
    /// 1. `kdf_payment_keys`: per row (same id) what the filters and the order read, without the
    ///    wide text columns (hash, destination, description), plus whether the description is ASCII
    ///    (`KDFDescriptionMatch`); filled from the existing rows and kept by triggers. A description
    ///    filter looks up each candidate there (~33 MB for 1,000,000 rows) instead of in the rows.
    static let migrations: [(version: Int, sql: String)] = [
        (1, """
            CREATE TABLE kdf_payment_keys (
                id INTEGER NOT NULL PRIMARY KEY,
                last_updated INTEGER NOT NULL,
                status TEXT NOT NULL,
                is_outbound INTEGER NOT NULL,
                amount_msat INTEGER,
                fee_paid_msat INTEGER,
                created_at INTEGER NOT NULL,
                ascii_description INTEGER NOT NULL);
            INSERT INTO kdf_payment_keys SELECT id, last_updated, status, is_outbound, amount_msat, fee_paid_msat, created_at,
                \(KDFDescriptionMatch.asciiFlagSQL("description")) FROM kdf_payments;
            CREATE TRIGGER kdf_payment_keys_ai AFTER INSERT ON kdf_payments BEGIN
                INSERT INTO kdf_payment_keys VALUES (new.id, new.last_updated, new.status, new.is_outbound, new.amount_msat,
                    new.fee_paid_msat, new.created_at, \(KDFDescriptionMatch.asciiFlagSQL("new.description"))); END;
            CREATE TRIGGER kdf_payment_keys_au AFTER UPDATE ON kdf_payments BEGIN
                UPDATE kdf_payment_keys SET id = new.id, last_updated = new.last_updated, status = new.status,
                    is_outbound = new.is_outbound, amount_msat = new.amount_msat, fee_paid_msat = new.fee_paid_msat,
                    created_at = new.created_at, ascii_description = \(KDFDescriptionMatch.asciiFlagSQL("new.description"))
                WHERE id = old.id; END;
            CREATE TRIGGER kdf_payment_keys_ad AFTER DELETE ON kdf_payments BEGIN
                DELETE FROM kdf_payment_keys WHERE id = old.id; END;
            """),
        (2, """
            CREATE TABLE kdf_description_grams (gram INTEGER NOT NULL PRIMARY KEY, n INTEGER NOT NULL);
            CREATE INDEX kdf_payments_untrigrammed ON kdf_payments(last_updated DESC, id DESC)
                WHERE \(untrigrammedSQL);
            """),
    ]

    /// 2. `kdf_description_grams`: per one- or two-byte ASCII gram (`KDFDescriptionGrams`), how many
    ///    rows' descriptions contain it; filled here from the existing rows, then kept by every
    ///    write that adds a row or changes its description (`insertOrReplace`, `insertIfAbsent`,
    ///    `insertBatch`, each in its own transaction: SQLite triggers cannot enumerate a text's
    ///    grams). And `kdf_payments_untrigrammed`, the rows the trigram index may not cover at
    ///    every position (`untrigrammedSQL`). Together they serve one- and two-character filters
    ///    (`KDFShortDescriptionPlan`).
    static func fillDescriptionGrams(_ db: Database) throws(SQLiteError) {
        var tally = KDFDescriptionGrams.Tally()
        let s = try db.prepare("SELECT CAST(description AS BLOB) FROM kdf_payments")
        while try s.step() { tally.add(s.blob(0)) }
        s.reset()
        try writeGrams(db, tally)
    }

    /// Rows whose description has fewer than three characters (no trigram at all) or a NUL (the
    /// tokenizer need not see past it): a one- or two-character filter checks them directly.
    static let untrigrammedSQL = "length(description) < 3 OR instr(CAST(description AS BLOB), x'00') > 0"

    static let addGramsSQL = "INSERT INTO kdf_description_grams (gram, n) VALUES (?1, ?2) ON CONFLICT(gram) DO UPDATE SET n = n + excluded.n"

    static func writeGrams(_ db: Database, _ tally: KDFDescriptionGrams.Tally) throws(SQLiteError) {
        try writeGrams(db.prepare(addGramsSQL), tally)
    }

    static func writeGrams(_ s: Statement, _ tally: KDFDescriptionGrams.Tally) throws(SQLiteError) {
        defer { s.reset() }
        for (key, delta) in tally.changes {
            s.reset()
            s.bind(1, key)
            s.bind(2, delta)
            try s.run()
        }
    }

    /// Applies the `migrations` newer than the file's `user_version` (read again under the write
    /// lock, so two processes opening one file apply each once).
    static func migrate(_ db: Database) throws(SQLiteError) {
        try inTransaction(db) { () throws(SQLiteError) in
            let s = try db.prepare("PRAGMA user_version")
            let current = try s.step() ? s.int(0) : 0
            s.reset()
            for m in migrations where m.version > current {
                try db.execute(m.sql)
                if m.version == 2 { try fillDescriptionGrams(db) }
                try db.execute("PRAGMA user_version = \(m.version)")
            }
        }
    }

    /// `body` inside `BEGIN IMMEDIATE … COMMIT`, rolled back if it throws (a migration; a write
    /// and the gram counts it changes).
    static func inTransaction<R>(_ db: Database, _ body: () throws(SQLiteError) -> R) throws(SQLiteError) -> R {
        try db.execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try db.execute("COMMIT")
            return result
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// A cached prepared statement, reset. Every caller resets it again when done with it
    /// (`defer { s.reset() }`): a statement stopped at a row keeps its read transaction open, and
    /// a later write or checkpoint on this connection then fails with SQLITE_LOCKED ("database
    /// table is locked").
    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let s = statements[sql] { return s.reset() }
        let s = try db.prepare(sql)
        statements[sql] = s
        return s
    }

    // MARK: writes

    /// KDF's `INSERT OR REPLACE` (send_payment's outbound row): every column takes the new value.
    /// Written as an upsert so the row keeps its id and the description index and row count
    /// triggers see an update (REPLACE would delete without firing delete triggers).
    public func insertOrReplace(_ r: KDFPaymentRecord) throws(SQLiteError) {
        try lock.withLock { () throws(SQLiteError) in
            try inTransaction { () throws(SQLiteError) in
                var tally = KDFDescriptionGrams.Tally()
                if let old = try storedDescription(r.paymentHash) { tally.add(old, -1) }
                try write("""
                    INSERT INTO kdf_payments (\(Self.columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                    ON CONFLICT(payment_hash) DO UPDATE SET destination = excluded.destination, description = excluded.description,
                    amount_msat = excluded.amount_msat, fee_paid_msat = excluded.fee_paid_msat, is_outbound = excluded.is_outbound,
                    status = excluded.status, created_at = excluded.created_at, last_updated = excluded.last_updated
                    """, r)
                if let new = try storedDescription(r.paymentHash) { tally.add(new) }
                try Self.writeGrams(statement(Self.addGramsSQL), tally)
            }
            cache.invalidate(r.paymentHash)
        }
    }

    /// A plain insert that leaves an existing row alone; returns whether it inserted.
    @discardableResult
    public func insertIfAbsent(_ r: KDFPaymentRecord) throws(SQLiteError) -> Bool {
        try lock.withLock { () throws(SQLiteError) -> Bool in
            let inserted = try inTransaction { () throws(SQLiteError) -> Bool in
                try write("INSERT OR IGNORE INTO kdf_payments (\(Self.columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", r)
                guard db.changes > 0 else { return false }
                var tally = KDFDescriptionGrams.Tally()
                if let new = try storedDescription(r.paymentHash) { tally.add(new) }
                try Self.writeGrams(statement(Self.addGramsSQL), tally)
                return true
            }
            cache.invalidate(r.paymentHash)
            return inserted
        }
    }

    /// Many rows in one transaction (benchmarks, imports); existing hashes are left alone.
    public func insertBatch(_ records: [KDFPaymentRecord]) throws {
        try lock.withLock {
            defer { cache.invalidateAll() }
            try inTransaction { () throws(SQLiteError) in
                var tally = KDFDescriptionGrams.Tally()
                for r in records {
                    try write("INSERT OR IGNORE INTO kdf_payments (\(Self.columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", r)
                    if db.changes > 0, let new = try storedDescription(r.paymentHash) { tally.add(new) }
                }
                try Self.writeGrams(statement(Self.addGramsSQL), tally)
            }
            // A bulk load would otherwise leave a WAL of gigabytes that every later read consults.
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    private func inTransaction<R>(_ body: () throws(SQLiteError) -> R) throws(SQLiteError) -> R {
        try Self.inTransaction(db, body)
    }

    /// A row's description as stored (its bytes), which is what the gram counts describe.
    private func storedDescription(_ hash: String) throws(SQLiteError) -> [UInt8]? {
        let s = try statement("SELECT CAST(description AS BLOB) FROM kdf_payments WHERE payment_hash = ?1")
        defer { s.reset() }
        s.bind(1, hash)
        return try s.step() ? s.blob(0) : nil
    }

    private func write(_ sql: String, _ r: KDFPaymentRecord) throws(SQLiteError) {
        let s = try statement(sql)
        defer { s.reset() }
        s.bind(1, r.paymentHash)
        if case .outbound(let d) = r.direction { s.bind(2, d) } else { s.bindNull(2) }
        s.bind(3, r.description)
        if let a = r.amountMsat { s.bind(4, Int64(clamping: a)) } else { s.bindNull(4) }
        if let f = r.feePaidMsat { s.bind(5, Int64(clamping: f)) } else { s.bindNull(5) }
        s.bind(6, r.direction == .inbound ? 0 : 1)
        s.bind(7, r.status.rawValue)
        s.bind(8, r.createdAt)
        s.bind(9, r.lastUpdated)
        try s.run()
    }

    /// An outbound row's terminal outcome (LDK PaymentSent / PaymentFailed): only a Pending
    /// outbound row changes; returns whether one did.
    @discardableResult
    public func markOutboundTerminal(hash: String, succeeded: Bool, feePaidMsat: UInt64?, at: Int64) throws(SQLiteError) -> Bool {
        try lock.withLock { () throws(SQLiteError) -> Bool in
            let s = try statement("""
                UPDATE kdf_payments SET status = ?2, fee_paid_msat = ?3, last_updated = ?4
                WHERE payment_hash = ?1 AND is_outbound = 1 AND status = 'Pending'
                """)
            defer { s.reset() }
            s.bind(1, hash)
            s.bind(2, succeeded ? KDFPaymentRecord.Status.succeeded.rawValue : KDFPaymentRecord.Status.failed.rawValue)
            if succeeded, let f = feePaidMsat { s.bind(3, Int64(clamping: f)) } else { s.bindNull(3) }
            s.bind(4, at)
            try s.run()
            cache.invalidate(hash)
            return db.changes > 0
        }
    }

    /// An inbound row moving forward (Pending → Claimable → Succeeded); never backwards.
    @discardableResult
    public func advanceInbound(hash: String, to status: KDFPaymentRecord.Status, at: Int64) throws(SQLiteError) -> Bool {
        let from: [KDFPaymentRecord.Status] = status == .claimable ? [.pending] : [.pending, .claimable]
        return try lock.withLock { () throws(SQLiteError) -> Bool in
            let s = try statement("""
                UPDATE kdf_payments SET status = ?2, last_updated = ?3
                WHERE payment_hash = ?1 AND is_outbound = 0 AND (status = ?4 OR status = ?5)
                """)
            defer { s.reset() }
            s.bind(1, hash)
            s.bind(2, status.rawValue)
            s.bind(3, at)
            s.bind(4, from[0].rawValue)
            s.bind(5, from.last!.rawValue)
            try s.run()
            cache.invalidate(hash)
            return db.changes > 0
        }
    }

    // MARK: reads

    public func record(hash: String) throws(SQLiteError) -> KDFPaymentRecord? {
        if let reader {
            let (cached, generation) = cache.lookup(hash)
            if let cached { return cached }
            let found = try reader.lock.withLock { () throws(SQLiteError) -> KDFPaymentRecord? in
                let s = reader.byHash
                defer { s.reset() }
                s.bind(1, hash)
                return try s.step() ? Self.read(s) : nil
            }
            if let found { cache.insert(found, ifStill: generation) }
            return found
        }
        return try lock.withLock { () throws(SQLiteError) -> KDFPaymentRecord? in
            let s = try statement("SELECT \(Self.columns) FROM kdf_payments WHERE payment_hash = ?1")
            defer { s.reset() }
            s.bind(1, hash)
            return try s.step() ? Self.read(s) : nil
        }
    }

    /// Hashes of outbound rows still Pending (startup reconciliation with the engine).
    public func pendingOutboundHashes() throws(SQLiteError) -> [String] {
        try lock.withLock { () throws(SQLiteError) -> [String] in
            let s = try statement("SELECT payment_hash FROM kdf_payments WHERE status = 'Pending' AND is_outbound = 1")
            defer { s.reset() }
            var out: [String] = []
            while try s.step() { out.append(s.text(0)) }
            return out
        }
    }

    public var count: Int {
        (try? lock.withLock { () throws(SQLiteError) -> Int in
            let s = try statement("SELECT n FROM kdf_payments_count")
            defer { s.reset() }
            return try s.step() ? s.int(0) : 0
        }) ?? 0
    }

    static func read(_ s: Statement) -> KDFPaymentRecord {
        KDFPaymentRecord(paymentHash: s.text(0),
                         direction: s.int(5) != 0 ? .outbound(destination: s.isNull(1) ? "" : s.text(1)) : .inbound,
                         description: s.text(2),
                         amountMsat: s.isNull(3) ? nil : UInt64(clamping: s.int64(3)),
                         feePaidMsat: s.isNull(4) ? nil : UInt64(clamping: s.int64(4)),
                         status: KDFPaymentRecord.Status(rawValue: s.text(6)) ?? .pending,
                         createdAt: s.int64(7), lastUpdated: s.int64(8))
    }

    /// How many columns `read` reads (`columns`).
    static let columnCount = Int32(columns.split(separator: ",").count)
    static let qualifiedColumns = columns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: ", ")

    /// One page of `filter`'s rows, newest `last_updated` first (ties: newest row first).
    /// PageNumber n skips (n-1)·limit matching rows; FromId h starts after h in that same
    /// filtered order (an unknown h gives an empty page with skipped 0). `total` counts the
    /// matching rows.
    ///
    /// Description: a literal substring, ASCII case-insensitive (as SQLite's LIKE folds case;
    /// `%`, `_` are ordinary characters), the same for every length.
    ///
    /// Plans: a description of three or more characters drives the query from the FTS5 trigram
    /// index (`CROSS JOIN` keeps SQLite from scanning the table in date order and probing each
    /// row) into the narrow `kdf_payment_keys` table, which holds every column the filters and the
    /// order read except the destination and the description; a candidate's wide row is read only
    /// to re-check its description (see `KDFDescriptionMatch`) or to compare a destination filter.
    /// Only the page's rows are read in full. With no filter the total comes from the trigger-kept
    /// row count.
    public func page(filter: KDFPaymentFilter, paging: KDFPagingOptions, limit: Int) throws(SQLiteError) -> KDFPaymentPage {
        try lock.withLock { () throws(SQLiteError) -> KDFPaymentPage in
            var clauses: [String] = []
            var binds: [(Statement, Int32) -> Void] = []
            func add(_ clause: String, _ bind: @escaping (Statement, Int32) -> Void) {
                clauses.append(clause.replacingOccurrences(of: "?", with: "?\(binds.count + 1)"))
                binds.append(bind)
            }
            let needle = filter.description.flatMap { $0.isEmpty ? nil : $0 }
            // A description alone, one or two ASCII characters: counted by its gram, paged by
            // `KDFShortDescriptionPlan` (FromId pages and other filters beside it take the general path).
            if let needle, let gram = KDFDescriptionGrams.key(ofFilter: needle), case .pageNumber(let n) = paging,
               filter == { var only = KDFPaymentFilter(); only.description = needle; return only }() {
                let (o, overflow) = (max(n, 1) - 1).multipliedReportingOverflow(by: limit)
                return try shortDescriptionPage(needle: needle, gram: gram, offset: overflow ? Int.max / 2 : o, limit: limit)
            }
            let match = needle.map(KDFDescriptionMatch.init)
            // `r`: the table whose columns the filters and the order read (the narrow keys when the
            // trigram index drives the query, else the rows); `wide`: a column only the rows have.
            let indexed = match?.usesIndex ?? false
            let r = indexed ? "k" : "p"
            func wide(_ column: String) -> String {
                indexed ? "(SELECT w.\(column) FROM kdf_payments AS w WHERE w.id = k.id)" : "p.\(column)"
            }
            // A lower bound above every storable value matches nothing.
            func lower(_ column: String, _ v: UInt64) -> Bool {
                guard v <= UInt64(Int64.max) else { return false }
                add("\(r).\(column) >= ?") { $0.bind($1, Int64(v)) }
                return true
            }
            func upper(_ column: String, _ v: UInt64) {
                add("\(r).\(column) <= ?") { $0.bind($1, Int64(clamping: v)) }
            }
            var impossible = false
            // The trigram index's candidates, plus the rows whose description holds a NUL: the
            // tokenizer stops at a NUL, so the index misses what follows it (always re-checked:
            // such a row is never `ascii_description`). The phrase is bound first, as ?1.
            var from = "kdf_payments AS p"
            if indexed, let match {
                binds.append { $0.bind($1, match.phrase) }
                from = "(SELECT rowid AS id FROM kdf_descriptions WHERE kdf_descriptions MATCH ?1 UNION "
                    + "SELECT id FROM kdf_payments INDEXED BY kdf_payments_untrigrammed WHERE (\(Self.untrigrammedSQL)) "
                    + "AND instr(CAST(description AS BLOB), x'00') > 0) AS f CROSS JOIN kdf_payment_keys AS k ON k.id = f.id"
            }
            switch filter.paymentType {
            case .inbound: clauses.append("\(r).is_outbound = 0")
            case .outbound(let d): clauses.append("\(r).is_outbound = 1"); add("\(wide("destination")) = ?") { $0.bind($1, d) }
            case nil: break
            }
            if let needle, let match {
                // The rule: a literal substring, ASCII case-insensitive (SQLite LIKE's folding,
                // without its wildcards; SQLite's lower() folds ASCII only).
                let check = "instr(lower(\(wide("description"))), lower(?)) > 0"
                add(match.indexAloneDecidesASCIIRows ? "(k.ascii_description OR \(check))" : check) { $0.bind($1, needle) }
            }
            if let s = filter.status { add("\(r).status = ?") { $0.bind($1, s.rawValue) } }
            if let v = filter.fromAmountMsat, !lower("amount_msat", v) { impossible = true }
            if let v = filter.toAmountMsat { upper("amount_msat", v) }
            if let v = filter.fromFeePaidMsat, !lower("fee_paid_msat", v) { impossible = true }
            if let v = filter.toFeePaidMsat { upper("fee_paid_msat", v) }
            if let v = filter.fromTimestamp, !lower("created_at", v) { impossible = true }
            if let v = filter.toTimestamp { upper("created_at", v) }
            if impossible { return KDFPaymentPage(records: [], skipped: 0, total: 0) }

            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            // The page's keys are found first (from the narrow table or an index), then only its
            // rows are read in full: joining the rows before the sort would read every match's.
            let rowsOfPage = "CROSS JOIN kdf_payments AS p ON p.id = t.id ORDER BY t.lu DESC, t.id DESC"
            if case .pageNumber(let n) = paging, !clauses.isEmpty, limit > 0 {
                // One pass over the matching rows: their keys are collected once, counted, and the
                // page is cut from them. (Counting and paging separately would find every match twice.)
                let (o, overflow) = (max(n, 1) - 1).multipliedReportingOverflow(by: limit)
                let offset = overflow ? Int.max / 2 : o
                let k = binds.count
                let s = try statement("WITH m AS MATERIALIZED (SELECT \(r).id AS id, \(r).last_updated AS lu FROM \(from)\(whereSQL)) "
                    + "SELECT \(Self.qualifiedColumns), t.total FROM (SELECT id, lu, (SELECT COUNT(*) FROM m) AS total FROM m "
                    + "ORDER BY lu DESC, id DESC LIMIT ?\(k + 1) OFFSET ?\(k + 2)) AS t " + rowsOfPage)
                defer { s.reset() }
                for (i, b) in binds.enumerated() { b(s, Int32(i + 1)) }
                s.bind(Int32(k + 1), limit)
                s.bind(Int32(k + 2), offset)
                var records: [KDFPaymentRecord] = []
                var total = 0
                while try s.step() {
                    records.append(Self.read(s))
                    total = s.int(Self.columnCount)
                }
                if !records.isEmpty { return KDFPaymentPage(records: records, skipped: offset, total: total) }
                // No row on this page (none match, or the page is past the end): count them alone.
            }
            let countStatement = try statement(clauses.isEmpty ? "SELECT n FROM kdf_payments_count"
                                                               : "SELECT COUNT(*) FROM \(from)" + whereSQL)
            defer { countStatement.reset() }
            for (i, b) in binds.enumerated() { b(countStatement, Int32(i + 1)) }
            let total = try countStatement.step() ? countStatement.int(0) : 0

            var offset = 0
            var afterClause = ""
            var anchor: (Int64, Int64)?
            switch paging {
            case .pageNumber(let n):
                let (o, overflow) = (max(n, 1) - 1).multipliedReportingOverflow(by: limit)
                offset = overflow ? Int.max / 2 : o
            case .fromID(let hash):
                let s = try statement("SELECT last_updated, id FROM kdf_payments WHERE payment_hash = ?1")
                defer { s.reset() }
                s.bind(1, Hex.encode(hash))
                guard try s.step() else { return KDFPaymentPage(records: [], skipped: 0, total: total) }
                anchor = (s.int64(0), s.int64(1))
                let n = binds.count
                let joiner = clauses.isEmpty ? " WHERE " : " AND "
                afterClause = joiner + "(\(r).last_updated < ?\(n + 1) OR (\(r).last_updated = ?\(n + 1) AND \(r).id < ?\(n + 2)))"
                // skipped: matching rows up to and including the anchor's place in the order.
                let before = try statement("SELECT COUNT(*) FROM \(from)" + whereSQL + joiner
                    + "(\(r).last_updated > ?\(n + 1) OR (\(r).last_updated = ?\(n + 1) AND \(r).id >= ?\(n + 2)))")
                defer { before.reset() }
                for (i, b) in binds.enumerated() { b(before, Int32(i + 1)) }
                before.bind(Int32(n + 1), anchor!.0)
                before.bind(Int32(n + 2), anchor!.1)
                offset = try before.step() ? before.int(0) : 0
            }
            if limit == 0 { return KDFPaymentPage(records: [], skipped: offset, total: total) }
            let n = binds.count
            let limitIndex = anchor == nil ? n + 1 : n + 3
            let order = " ORDER BY \(r).last_updated DESC, \(r).id DESC LIMIT ?\(limitIndex) OFFSET ?\(limitIndex + 1)"
            // From the rows' own indexes (no filter, or the rows are read anyway) the page is read directly.
            let sql = indexed ? "SELECT \(Self.qualifiedColumns) FROM (SELECT k.id AS id, k.last_updated AS lu FROM \(from)"
                                + whereSQL + afterClause + order + ") AS t " + rowsOfPage
                              : "SELECT \(Self.qualifiedColumns) FROM \(from)" + whereSQL + afterClause + order
            let s = try statement(sql)
            defer { s.reset() }
            for (i, b) in binds.enumerated() { b(s, Int32(i + 1)) }
            if let anchor {
                s.bind(Int32(n + 1), anchor.0)
                s.bind(Int32(n + 2), anchor.1)
            }
            s.bind(Int32(limitIndex), limit)
            s.bind(Int32(limitIndex + 1), anchor == nil ? offset : 0)
            var records: [KDFPaymentRecord] = []
            while try s.step() { records.append(Self.read(s)) }
            return KDFPaymentPage(records: records, skipped: offset, total: total)
        }
    }
}

import LightningPrimitives
