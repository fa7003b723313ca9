/// A statement parameter, sent in PostgreSQL's binary format with its type (so the server never
/// parses text built from input): `int8`, `bytea`, `text`, `bool`, or NULL.
public enum PostgresValue: Sendable, Hashable {
    case null
    case int64(Int64)
    case bytes([UInt8])
    case text(String)
    case bool(Bool)
    /// A one-dimensional `int8[]` (nil elements are NULL), e.g. for `= ANY($1)` or `unnest($1, …)`.
    case int64Array([Int64?])
    /// A one-dimensional `bytea[]` (nil elements are NULL).
    case bytesArray([[UInt8]?])

    /// The type OID sent with the parameter (0 for NULL: the server infers it).
    var typeOID: UInt32 {
        switch self {
        case .null: return 0
        case .int64: return PostgresType.int8
        case .bytes: return PostgresType.bytea
        case .text: return PostgresType.text
        case .bool: return PostgresType.bool
        case .int64Array: return PostgresType.int8Array
        case .bytesArray: return PostgresType.byteaArray
        }
    }

    /// The binary wire form (nil for NULL).
    var binary: [UInt8]? {
        switch self {
        case .null: return nil
        case .int64(let v): return withUnsafeBytes(of: v.bigEndian) { Array($0) }
        case .bytes(let b): return b
        case .text(let s): return Array(s.utf8)
        case .bool(let b): return [b ? 1 : 0]
        case .int64Array(let v): return Self.array(element: PostgresType.int8, v.map { $0.map { x in withUnsafeBytes(of: x.bigEndian) { Array($0) } } })
        case .bytesArray(let v): return Self.array(element: PostgresType.bytea, v)
        }
    }

    /// PostgreSQL's binary array format (`array_send`): dimensions (1), flags (1 when some
    /// element is NULL), the element type, then the dimension's length and lower bound (1), then
    /// each element as a 4-byte length (-1 for NULL) and its binary form.
    private static func array(element: UInt32, _ items: [[UInt8]?]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + items.reduce(0) { $0 + 4 + ($1?.count ?? 0) })
        func put(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { out += $0 } }
        put(1); put(items.contains { $0 == nil } ? 1 : 0); put(element); put(UInt32(items.count)); put(1)
        for item in items {
            guard let item else {
                put(UInt32(bitPattern: -1))
                continue
            }
            put(UInt32(item.count))
            out += item
        }
        return out
    }
}

extension PostgresValue {
    /// `.bytes`, or `.null` for nil.
    public static func bytes(_ b: [UInt8]?) -> PostgresValue { b.map { .bytes($0) } ?? .null }
    /// `.int64`, or `.null` for nil.
    public static func int64(_ v: Int64?) -> PostgresValue { v.map { .int64($0) } ?? .null }
}

/// The built-in type OIDs PayTrack reads and writes (PostgreSQL's `pg_type.dat`).
enum PostgresType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let varchar: UInt32 = 1043
    static let byteaArray: UInt32 = 1001
    static let int8Array: UInt32 = 1016
}
