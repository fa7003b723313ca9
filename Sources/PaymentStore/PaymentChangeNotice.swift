import LightningPrimitives
import Payments

/// The payload of the NOTIFY a payments writer sends with each commit (`PostgresPaymentTransactor`,
/// read by `PostgresPaymentFeed` on every other replica): the committing transaction's id and,
/// when the transaction changed few enough payments, their new snapshots. A replica then
/// publishes those changes when the notification arrives, without first reading them back: that
/// read waits for a database process to be scheduled, while the replica that made the change
/// keeps the cores busy with its own fan-out. The read still follows (the change index keeps
/// nothing from being missed) and finds versions already published.
///
/// Format: `<xid>` or `<xid>:<hex>`. The hex is of: a version byte (1), the number of payments,
/// then per payment its row as the database would return it — the cells of
/// `PaymentRowDecoder.paymentColumns`, the number of attempts, each attempt's
/// `PaymentRowDecoder.attemptColumns` — each cell a tag (0 NULL, 1 integer as a zig-zag varint,
/// 2 length-prefixed bytes). Decoding goes through `PaymentRowDecoder`, exactly as a row read from
/// the database does, so a snapshot from a notice equals the one a read would give; malformed
/// input fails with `PaymentCodec.DecodeError`, never a crash.
enum PaymentChangeNotice {
    /// PostgreSQL refuses a payload of 8000 bytes or more; the transaction id takes up to 20.
    static let maxHexCount = 7_900

    /// The text after the transaction id: `:<hex>` of `snapshots`, or "" when there are none or
    /// they do not fit (the notice then carries the id alone).
    static func suffix(_ snapshots: [PaymentSnapshot]) -> String {
        guard !snapshots.isEmpty else { return "" }
        let bytes = encode(snapshots)
        guard bytes.count * 2 <= maxHexCount else { return "" }
        return ":" + Hex.encode(bytes)
    }

    /// The transaction id of a payload, and its snapshots (empty for a payload with the id alone).
    static func parse(_ payload: String) throws(PaymentCodec.DecodeError) -> (xid: Int64, snapshots: [PaymentSnapshot]) {
        guard let colon = payload.firstIndex(of: ":") else {
            guard let xid = Int64(payload) else { throw PaymentCodec.DecodeError(what: "notice transaction id") }
            return (xid, [])
        }
        guard let xid = Int64(payload[..<colon]), let bytes = Hex.decode(payload[payload.index(after: colon)...]) else {
            throw PaymentCodec.DecodeError(what: "notice payload")
        }
        return (xid, try decode(bytes))
    }

    // MARK: Rows

    /// One cell of a row.
    enum Cell: Equatable {
        case null
        case integer(Int64)
        case bytes([UInt8])
    }

    /// A row of cells read as a database row (`PaymentRow`): a cell of the wrong kind, or a column
    /// beyond the row, is a decode error.
    struct CellRow: PaymentRow {
        var cells: [Cell]
        func int64(_ column: Int32) throws -> Int64 {
            guard Int(column) < cells.count, case .integer(let v) = cells[Int(column)] else {
                throw PaymentCodec.DecodeError(what: "integer cell \(column)")
            }
            return v
        }
        func blob(_ column: Int32) throws -> [UInt8] {
            guard Int(column) < cells.count, case .bytes(let b) = cells[Int(column)] else {
                throw PaymentCodec.DecodeError(what: "bytes cell \(column)")
            }
            return b
        }
        func isNull(_ column: Int32) -> Bool { Int(column) >= cells.count || cells[Int(column)] == .null }
    }

    static let paymentCellCount = 9, attemptCellCount = 9

    /// `PaymentRowDecoder.paymentColumns` of `s` (the row id, which only joins attempts, as 0).
    static func paymentCells(_ s: PaymentSnapshot) -> [Cell] {
        [.integer(0), .bytes(s.paymentHash.bytes), .integer(Int64(bitPattern: s.paymentIndex)), .integer(s.info.valueMsat),
         .integer(s.info.creationTimeNs), .bytes(s.info.paymentRequest), .bytes(PaymentCodec.encode(s.info.firstHopCustomRecords)),
         s.failureReason.map { .integer(Int64($0.dbValue)) } ?? .null, .integer(s.lastUpdateNs)]
    }

    /// `PaymentRowDecoder.attemptColumns` of `a`.
    static func attemptCells(_ a: HTLCAttempt) -> [Cell] {
        [.integer(Int64(bitPattern: a.attemptID)), .bytes(a.info.sessionKey), .integer(a.info.attemptTimeNs),
         a.info.hash.map { .bytes($0.bytes) } ?? .null, .bytes(PaymentCodec.encode(a.info.route)),
         a.settle.map { .bytes($0.preimage.bytes) } ?? .null, a.settle.map { .integer($0.settleTimeNs) } ?? .null,
         a.failure.map { .integer($0.failTimeNs) } ?? .null, a.failure.map { .bytes(PaymentCodec.encode($0)) } ?? .null]
    }

    static func encode(_ snapshots: [PaymentSnapshot]) -> [UInt8] {
        var w = PaymentCodec.Writer()
        w.u8(PaymentCodec.version)
        w.uvar(UInt64(snapshots.count))
        func put(_ cells: [Cell]) {
            for c in cells {
                switch c {
                case .null: w.u8(0)
                case .integer(let v): w.u8(1); w.svar(v)
                case .bytes(let b): w.u8(2); w.blob(b)
                }
            }
        }
        for s in snapshots {
            put(paymentCells(s))
            w.uvar(UInt64(s.attempts.count))
            for a in s.attempts { put(attemptCells(a)) }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(PaymentCodec.DecodeError) -> [PaymentSnapshot] {
        var r = PaymentCodec.Reader(bytes)
        try r.version()
        func cells(_ n: Int) throws(PaymentCodec.DecodeError) -> [Cell] {
            var out: [Cell] = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                switch try r.u8() {
                case 0: out.append(.null)
                case 1: out.append(.integer(try r.svar()))
                case 2: out.append(.bytes(try r.blob()))
                default: throw PaymentCodec.DecodeError(what: "cell tag")
                }
            }
            return out
        }
        // Every payment takes at least its cells' tags and an attempt count: a count beyond what
        // the bytes could hold is refused before anything is reserved.
        let count = try r.uvar()
        guard count <= UInt64(bytes.count) else { throw PaymentCodec.DecodeError(what: "payment count beyond end") }
        var out: [PaymentSnapshot] = []
        do {
            for _ in 0..<count {
                let payment = try cells(paymentCellCount)
                var s = try PaymentRowDecoder.header(CellRow(cells: payment))
                let attempts = try r.uvar()
                guard attempts <= UInt64(bytes.count) else { throw PaymentCodec.DecodeError(what: "attempt count beyond end") }
                for _ in 0..<attempts {
                    s.attempts.append(try PaymentRowDecoder.attempt(CellRow(cells: payment + cells(attemptCellCount)),
                                                                    at: Int32(paymentCellCount), omitHops: false))
                }
                out.append(s)
            }
        } catch let e as PaymentCodec.DecodeError {
            throw e
        } catch {
            throw PaymentCodec.DecodeError(what: String(describing: error))
        }
        guard r.pos == bytes.count else { throw PaymentCodec.DecodeError(what: "trailing bytes") }
        return out
    }
}
