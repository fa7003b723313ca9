import SQLite

/// How `KDFPaymentStore` answers a description-only filter of one or two ASCII characters, below
/// what the trigram index can look up, without reading every description. Both plans give
/// exactly the rule's rows (a literal substring, ASCII case-insensitive), in the list's order; the
/// choice only changes the cost.
///
/// Contract:
/// - `total` is the filter's gram count (`kdf_description_grams`, see `KDFDescriptionGrams`): the
///   rows whose description contains the gram are exactly the rows the rule matches.
/// - `walk`: the rows newest first (`kdf_payments_order`), each tested against the rule, until
///   the page's `offset + limit` matches are found: about `(offset + limit) · rows / count` rows.
/// - `trigrams`: the index terms (trigrams, as the tokenizer folded them) that contain the gram,
///   listed from `fts5vocab` by seeks (never a scan of the vocabulary), OR-ed into one MATCH,
///   plus the rows the index may not cover (`KDFPaymentStore.untrigrammedSQL`); candidates are
///   decided as a three-character filter's (an ASCII row by the index, others re-checked). About
///   `count` candidates, after a few hundred seeks (two characters) or a few thousand (one).
/// - While every description is ASCII (`KDFDescriptionGrams.nonASCIIKey` counts 0), the terms
///   are lowercase ASCII and each pair in a term is a counted gram: the candidate terms are built
///   from the counted pairs, with no seek (a candidate that is no term matches nothing).
/// - The page takes the cheaper plan by these estimates, in rows walked: a candidate of the trigram
///   plan costs about 2.5 of them, a term looked up (a vocabulary seek or a MATCH term) about 55
///   (measured over 1,000,000 records of 20,000 words: ~0.43 µs per row walked, ~24 µs per seek
///   over the index's 21 segments; Benchmarks/kdf/RESULTS.md). Without the ASCII shortcut two
///   characters take ~100 seeks, one character ~2,700.
enum KDFShortDescriptionPlan: Equatable, Sendable {
    case walk
    case trigrams

    /// Rows walked to find `wanted` matches among `rows`, `count` of which match.
    static func walkRows(matching count: Int, rows: Int, wanted: Int) -> Double {
        Double(wanted) * Double(rows) / Double(max(count, 1))
    }

    static func trigramCost(matching count: Int, termLookups: Int) -> Double {
        Double(count) * 2.5 + Double(termLookups) * 55
    }

    /// The generic term listing's seeks (see the contract).
    static func seeks(filterLength: Int) -> Int { filterLength == 1 ? 2_700 : 100 }
}

extension KDFPaymentStore {
    /// The temporary `fts5vocab` table (one row per term instance, so a seek returns at once)
    /// over the trigram index, created on the main connection when the store opens.
    static let termsTableSQL = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.kdf_description_terms USING fts5vocab(main, kdf_descriptions, 'instance')"

    /// The page of a description-only filter whose gram is `gram` (`KDFDescriptionGrams.key`);
    /// called with the store's lock held.
    func shortDescriptionPage(needle: String, gram: Int, offset: Int, limit: Int) throws(SQLiteError) -> KDFPaymentPage {
        let total = try gramCount(gram)
        guard limit > 0, offset < total else { return KDFPaymentPage(records: [], skipped: offset, total: total) }
        let rowsStatement = try statement("SELECT n FROM kdf_payments_count")
        let rows = try rowsStatement.step() ? rowsStatement.int(0) : 0
        rowsStatement.reset()

        let foldedBytes = needle.utf8.map(KDFDescriptionGrams.folded)
        let folded = String(decoding: foldedBytes, as: UTF8.self)
        // The plan: walk unless the trigram plan is cheaper even before its term lookups are
        // counted; then its terms are listed (from the counted pairs while every description is
        // ASCII) and the costs compared again.
        let walkRows = KDFShortDescriptionPlan.walkRows(matching: total, rows: rows, wanted: offset + limit)
        var plan = shortPlanOverride
            ?? (walkRows <= KDFShortDescriptionPlan.trigramCost(matching: total, termLookups: 0) ? .walk : .trigrams)
        var terms: [String] = []
        if plan == .trigrams {
            let ascii = try gramCount(KDFDescriptionGrams.nonASCIIKey) == 0 ? try asciiTrigrams(containing: foldedBytes) : nil
            let lookups = ascii?.count ?? KDFShortDescriptionPlan.seeks(filterLength: foldedBytes.count)
            if shortPlanOverride == nil, walkRows <= KDFShortDescriptionPlan.trigramCost(matching: total, termLookups: lookups) {
                plan = .walk
            } else {
                let found: [String]?
                if let ascii { found = ascii } else { found = try trigrams(containing: folded) }
                if let found { terms = found } else { plan = .walk }
            }
        }
        let s: Statement
        switch plan {
        case .walk:
            s = try statement("SELECT \(Self.qualifiedColumns) FROM kdf_payments AS p INDEXED BY kdf_payments_order "
                + "WHERE instr(lower(p.description), ?1) > 0 ORDER BY p.last_updated DESC, p.id DESC LIMIT ?2 OFFSET ?3")
        case .trigrams:
            let untrigrammed = "SELECT p.id AS id, p.last_updated AS lu FROM kdf_payments AS p INDEXED BY kdf_payments_untrigrammed "
                + "WHERE (\(Self.untrigrammedSQL.replacingOccurrences(of: "description", with: "p.description"))) "
                + "AND instr(lower(p.description), ?1) > 0"
            let indexed = "SELECT k.id AS id, k.last_updated AS lu FROM kdf_descriptions AS f CROSS JOIN kdf_payment_keys AS k "
                + "ON k.id = f.rowid WHERE f.kdf_descriptions MATCH ?4 AND (k.ascii_description OR "
                + "instr(lower((SELECT w.description FROM kdf_payments AS w WHERE w.id = k.id)), ?1) > 0)"
            s = try statement("WITH m AS MATERIALIZED (\(terms.isEmpty ? untrigrammed : indexed + " UNION " + untrigrammed)) "
                + "SELECT \(Self.qualifiedColumns) FROM (SELECT id, lu FROM m ORDER BY lu DESC, id DESC LIMIT ?2 OFFSET ?3) AS t "
                + "CROSS JOIN kdf_payments AS p ON p.id = t.id ORDER BY t.lu DESC, t.id DESC")
            if !terms.isEmpty {
                s.bind(4, terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " OR "))
            }
        }
        defer { s.reset() }
        s.bind(1, folded)
        s.bind(2, limit)
        s.bind(3, offset)
        var records: [KDFPaymentRecord] = []
        while try s.step() { records.append(Self.read(s)) }
        return KDFPaymentPage(records: records, skipped: offset, total: total)
    }

    /// How many rows' descriptions contain `gram` (`KDFDescriptionGrams` key).
    func gramCount(_ gram: Int) throws(SQLiteError) -> Int {
        let s = try statement("SELECT n FROM kdf_description_grams WHERE gram = ?1")
        defer { s.reset() }
        s.bind(1, gram)
        return try s.step() ? s.int(0) : 0
    }

    /// While every description is ASCII: the three-character strings that contain `gram` (folded
    /// bytes) and whose two pairs are both counted grams — a superset of the index's terms that
    /// contain it. Nil above 5,000 of them (the caller then lists the terms by seeks).
    func asciiTrigrams(containing gram: [UInt8]) throws(SQLiteError) -> [String]? {
        var next = [[UInt8]](repeating: [], count: 128), previous = [[UInt8]](repeating: [], count: 128)
        let s = try statement("SELECT gram FROM kdf_description_grams WHERE gram >= 128 AND n > 0")
        defer { s.reset() }
        while try s.step() {
            let k = s.int(0) - 128
            let (a, b) = (UInt8(k / 128), UInt8(k % 128))
            next[Int(a)].append(b)
            previous[Int(b)].append(a)
        }
        var out: [[UInt8]] = []
        if gram.count == 2 {
            let (x, y) = (gram[0], gram[1])
            out += next[Int(y)].map { [x, y, $0] }
            out += previous[Int(x)].map { [$0, x, y] }
        } else {
            let x = gram[0]
            for y in next[Int(x)] { out += next[Int(y)].map { [x, y, $0] } }
            for c in previous[Int(x)] { out += next[Int(x)].map { [c, x, $0] } }
            for d in previous[Int(x)] { out += previous[Int(d)].map { [$0, d, x] } }
        }
        guard out.count <= 5_000 else { return nil }
        return Array(Set(out.map { String(decoding: $0, as: UTF8.self) }))
    }

    /// Every index term that contains `gram` (one or two lowercase ASCII characters), found by
    /// seeks: for each distinct prefix of the vocabulary's terms shorter than 3 − gram's length
    /// (listed by skipping from one to the next), the terms that continue it with the gram. Nil if
    /// a term is not three characters as read back (e.g. one with a NUL): the caller then walks.
    func trigrams(containing gram: String) throws(SQLiteError) -> [String]? {
        let s = try statement("SELECT term FROM temp.kdf_description_terms WHERE term >= ?1 AND term <= ?2 LIMIT 1")
        defer { s.reset() }
        typealias Scalars = [Unicode.Scalar]
        let top = "\u{10FFFF}"
        func string(_ scalars: Scalars) -> String { String(String.UnicodeScalarView(scalars)) }
        /// The distinct `prefix` + one scalar that start a term, each found by one seek past the
        /// last (terms are three scalars, so `x` padded with U+10FFFF and then U+0001 is past
        /// every term starting with `x`).
        func extensions(of prefix: Scalars) throws(SQLiteError) -> [Scalars]? {
            let through = string(prefix) + String(repeating: top, count: 3 - prefix.count)
            var found: [Scalars] = []
            var from = string(prefix)
            while true {
                s.reset()
                s.bind(1, from)
                s.bind(2, through)
                guard try s.step() else { return found }
                let term = Array(s.text(0).unicodeScalars)
                guard term.count == 3, term.starts(with: prefix) else { return nil }
                let next = Array(term.prefix(prefix.count + 1))
                found.append(next)
                from = string(next) + String(repeating: top, count: 3 - next.count) + "\u{1}"
            }
        }
        func terms(startingWith prefix: Scalars) throws(SQLiteError) -> [Scalars]? {
            if prefix.count == 3 {
                s.reset()
                s.bind(1, string(prefix))
                s.bind(2, string(prefix))
                return try s.step() ? [prefix] : []
            }
            guard let next = try extensions(of: prefix) else { return nil }
            var all: [Scalars] = []
            for n in next {
                guard let more = try terms(startingWith: n) else { return nil }
                all += more
            }
            return all
        }
        let g = Array(gram.unicodeScalars)
        var result: [String] = []
        var prefixes: [Scalars] = [[]]
        for length in 0...(3 - g.count) {
            for p in prefixes {
                guard let found = try terms(startingWith: p + g) else { return nil }
                result += found.map(string)
            }
            if length < 3 - g.count {
                var next: [Scalars] = []
                for p in prefixes {
                    guard let found = try extensions(of: p) else { return nil }
                    next += found
                }
                prefixes = next
            }
        }
        return result
    }
}
