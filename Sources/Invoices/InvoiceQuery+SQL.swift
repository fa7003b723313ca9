/// The ListInvoices page both invoice stores run alike, spelled once: placeholders differ (`?n`
/// in SQLite, `$n` in PostgreSQL), so each store passes its spelling (as the payment stores do
/// with `PaymentsQuery.pageSQL`).
extension InvoiceQuery {
    /// The clause after `FROM invoices` for one page (LND `QueryInvoices`): placeholder 1 the
    /// exclusive add-index offset, 2 and 3 the inclusive creation range (unix seconds), 4 the
    /// limit, bound from `pageBindings(limit:)`. Reversed pages walk down from the offset (or the
    /// newest); pending_only keeps OPEN (0) and ACCEPTED (3). Rows come in the walk's order.
    func pageSQL(placeholder p: (Int) -> String) -> String {
        var conditions: [String] = []
        if reversed {
            if indexOffset > 0 { conditions.append("add_index < \(p(1))") }
        } else {
            conditions.append("add_index > \(p(1))")
        }
        if pendingOnly { conditions.append("state IN (0, 3)") }
        if creationDateStart > 0 { conditions.append("creation_date >= \(p(2))") }
        if creationDateEnd > 0 { conditions.append("creation_date <= \(p(3))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        // Placeholders a shape does not use are still bound: every shape takes the same four.
        return "\(whereClause) ORDER BY add_index \(reversed ? "DESC" : "ASC") LIMIT \(p(4))"
    }

    /// The values of `pageSQL`'s placeholders 1...4.
    func pageBindings(limit: UInt64) -> [Int64] {
        [Int64(bitPattern: indexOffset), Int64(clamping: creationDateStart), Int64(clamping: creationDateEnd),
         Int64(clamping: limit)]
    }
}
