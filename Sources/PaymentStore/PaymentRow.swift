import Payments
import PostgreSQL
import SQLite

/// One row of a payments query, whichever database produced it. The payment and attempt column
/// lists (`PaymentRowDecoder.paymentColumns`, `.attemptColumns`) are the same on both backends,
/// so one decoder turns rows into snapshots for SQLite and PostgreSQL alike.
protocol PaymentRow {
    func int64(_ column: Int32) throws -> Int64
    func blob(_ column: Int32) throws -> [UInt8]
    func isNull(_ column: Int32) -> Bool
}

extension Statement: PaymentRow {}

/// Row `row` of a PostgreSQL result.
struct PostgresPaymentRow: PaymentRow {
    let result: PostgresResult
    let row: Int
    func int64(_ column: Int32) throws -> Int64 { try result.int64(row, Int(column)) }
    func blob(_ column: Int32) throws -> [UInt8] { try result.bytes(row, Int(column)) }
    func isNull(_ column: Int32) -> Bool { result.isNull(row, Int(column)) }
}

/// Decodes payment and attempt columns into snapshots. Outside bytes (a corrupted row) fail with
/// `PaymentCodec.DecodeError`, never a crash.
enum PaymentRowDecoder {
    static let paymentColumns =
        "id, hash, payment_index, value_msat, creation_ns, payment_request, first_hop_records, failure_reason, last_update_ns"
    static let attemptColumns = "attempt_id, session_key, attempt_ns, attempt_hash, route, settle_preimage, settle_ns, fail_ns, failure"

    /// The payment columns (`paymentColumns`, from column 0) without attempts.
    static func header(_ st: some PaymentRow) throws -> PaymentSnapshot {
        guard let hash = PaymentHash(try st.blob(1)) else { throw PaymentCodec.DecodeError(what: "payment hash") }
        let records = try PaymentCodec.decodeRecords(try st.blob(6))
        let info = PaymentCreationInfo(paymentIdentifier: hash, valueMsat: try st.int64(3), creationTimeNs: try st.int64(4),
                                       paymentRequest: try st.blob(5), firstHopCustomRecords: records)
        var reason: FailureReason?
        if !st.isNull(7) {
            guard let r = FailureReason(dbValue: UInt8(truncatingIfNeeded: try st.int64(7))) else {
                throw PaymentCodec.DecodeError(what: "failure reason")
            }
            reason = r
        }
        return PaymentSnapshot(info: info, paymentIndex: UInt64(bitPattern: try st.int64(2)), attempts: [],
                               failureReason: reason, lastUpdateNs: try st.int64(8))
    }

    /// One attempt whose `attemptColumns` start at column `c`.
    static func attempt(_ st: some PaymentRow, at c: Int32, omitHops: Bool) throws -> HTLCAttempt {
        var route = try PaymentCodec.decodeRoute(try st.blob(c + 4))
        if omitHops { route = route.withoutHops }
        let attemptHash = st.isNull(c + 3) ? nil : PaymentHash(try st.blob(c + 3))
        var a = HTLCAttempt(info: HTLCAttemptInfo(attemptID: UInt64(bitPattern: try st.int64(c)), sessionKey: try st.blob(c + 1),
                                                  route: route, attemptTimeNs: try st.int64(c + 2), hash: attemptHash))
        if !st.isNull(c + 5) {
            guard let pre = PaymentHash(try st.blob(c + 5)) else { throw PaymentCodec.DecodeError(what: "preimage") }
            a.settle = HTLCSettle(preimage: pre, settleTimeNs: try st.int64(c + 6))
        }
        if !st.isNull(c + 7) {
            a.failure = try PaymentCodec.decodeFailure(try st.blob(c + 8), failTimeNs: try st.int64(c + 7))
        }
        return a
    }
}
