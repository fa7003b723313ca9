import CLibpq

/// The rows of one statement, in binary format. Rows and columns are 0-based.
///
/// Contract: the accessors check the column's type OID and the value's length, and throw a
/// `.server`-kind error naming the column on a mismatch: a schema that disagrees with the code
/// is reported, never read as garbage.
public final class PostgresResult: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Number of rows returned.
    public let count: Int
    /// Rows the statement changed (INSERT/UPDATE/DELETE), from the command tag.
    public let affectedRows: Int

    init(handle: OpaquePointer) {
        self.handle = handle
        count = Int(PQntuples(handle))
        affectedRows = Int(String(cString: PQcmdTuples(handle))) ?? 0
    }

    deinit { PQclear(handle) }

    public var isEmpty: Bool { count == 0 }

    public func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(handle, Int32(row), Int32(column)) != 0
    }

    private func raw(_ row: Int, _ column: Int) -> UnsafeRawBufferPointer {
        let n = Int(PQgetlength(handle, Int32(row), Int32(column)))
        guard n > 0, let p = PQgetvalue(handle, Int32(row), Int32(column)) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }

    private func mismatch(_ column: Int, _ want: String) -> PostgresError {
        let name = PQfname(handle, Int32(column)).map { String(cString: $0) } ?? "\(column)"
        return PostgresError(kind: .server, message: "column \(name): expected \(want), got type \(PQftype(handle, Int32(column)))")
    }

    /// An integer column (`int2`, `int4`, `int8`); NULL reads as 0.
    public func int64(_ row: Int, _ column: Int) throws(PostgresError) -> Int64 {
        let b = raw(row, column)
        if b.isEmpty && isNull(row, column) { return 0 }
        var v: Int64 = 0
        switch (PQftype(handle, Int32(column)), b.count) {
        case (PostgresType.int8, 8): for x in b { v = v << 8 | Int64(x) }
        case (PostgresType.int4, 4), (PostgresType.oid, 4):
            var u: UInt32 = 0
            for x in b { u = u << 8 | UInt32(x) }
            v = PQftype(handle, Int32(column)) == PostgresType.oid ? Int64(u) : Int64(Int32(bitPattern: u))
        case (PostgresType.int2, 2): v = Int64(Int16(bitPattern: UInt16(b[0]) << 8 | UInt16(b[1])))
        default: throw mismatch(column, "an integer")
        }
        return v
    }

    /// A `bytea` column; NULL reads as empty.
    public func bytes(_ row: Int, _ column: Int) throws(PostgresError) -> [UInt8] {
        guard PQftype(handle, Int32(column)) == PostgresType.bytea else { throw mismatch(column, "bytea") }
        return Array(raw(row, column))
    }

    /// A `text`/`varchar`/`name` column; NULL reads as "".
    public func text(_ row: Int, _ column: Int) throws(PostgresError) -> String {
        let t = PQftype(handle, Int32(column))
        guard t == PostgresType.text || t == PostgresType.varchar || t == 19 else { throw mismatch(column, "text") }
        return String(decoding: raw(row, column), as: UTF8.self)
    }

    /// A `bool` column; NULL reads as false.
    public func bool(_ row: Int, _ column: Int) throws(PostgresError) -> Bool {
        guard PQftype(handle, Int32(column)) == PostgresType.bool else { throw mismatch(column, "bool") }
        let b = raw(row, column)
        return b.first.map { $0 != 0 } ?? false
    }
}
