/// A statement parameter, sent in PostgreSQL's binary format with its type (so the server never
/// parses text built from input): `int8`, `bytea`, `text`, `bool`, or NULL.
public enum PostgresValue: Sendable, Hashable {
    case null
    case int64(Int64)
    case bytes([UInt8])
    case text(String)
    case bool(Bool)

    /// The type OID sent with the parameter (0 for NULL: the server infers it).
    var typeOID: UInt32 {
        switch self {
        case .null: return 0
        case .int64: return PostgresType.int8
        case .bytes: return PostgresType.bytea
        case .text: return PostgresType.text
        case .bool: return PostgresType.bool
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
        }
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
}
