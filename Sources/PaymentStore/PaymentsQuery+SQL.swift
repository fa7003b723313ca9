import Payments

/// The statements both payment stores run alike, spelled once: placeholders differ (`?n` in
/// SQLite, `$n` in PostgreSQL), so each store passes its spelling.
extension PaymentsQuery {
    /// One ListPayments page of `columns` from `payments` (LND `QueryPayments`): placeholder 1 the
    /// exclusive index offset, 2 and 3 the creation range (ns, end exclusive), 4 the limit, bound
    /// from `pageBindings`. Reversed pages walk down from the offset (or the newest);
    /// include_incomplete=false keeps only Succeeded payments.
    func pageSQL(columns: String, placeholder p: (Int) -> String) -> String {
        var conditions: [String] = []
        if reversed {
            if indexOffset != 0 { conditions.append("payment_index < \(p(1))") }
        } else {
            conditions.append("payment_index > \(p(1))")
        }
        if !includeIncomplete { conditions.append("status = \(PaymentStatus.succeeded.rawValue)") }
        if creationDateStart != 0 { conditions.append("creation_ns >= \(p(2))") }
        if creationDateEnd != 0 { conditions.append("creation_ns < \(p(3))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        // Placeholders a shape does not use are still bound: every shape takes the same four.
        return "SELECT \(columns) FROM payments \(whereClause) ORDER BY payment_index \(reversed ? "DESC" : "ASC") LIMIT \(p(4))"
    }

    /// The values of `pageSQL`'s placeholders 1...4.
    var pageBindings: [Int64] {
        [Int64(bitPattern: indexOffset), Self.nanos(creationDateStart), Self.nanos(creationDateEnd &+ 1),
         Int64(min(effectiveMaxPayments, UInt64(Int64.max)))]
    }

    /// Unix seconds as nanoseconds, saturating.
    static func nanos(_ s: UInt64) -> Int64 {
        s >= UInt64(Int64.max / 1_000_000_000) ? Int64.max : Int64(s) * 1_000_000_000
    }
}

extension PaymentStatus {
    /// The statuses DeleteAllPayments removes, as an SQL list of the store's own constants:
    /// failed only, or every status but in-flight.
    static func deletableSQL(failedOnly: Bool) -> String {
        failedOnly
            ? "(\(PaymentStatus.failed.rawValue))"
            : "(\(PaymentStatus.initiated.rawValue), \(PaymentStatus.succeeded.rawValue), \(PaymentStatus.failed.rawValue))"
    }
}
