import Crypto

/// One hop of a private route hint (BOLT 11 `r`; fields as in BOLT 7 `channel_update`).
public struct HopHint: Sendable, Equatable, Hashable {
    /// Node id of the start of the channel.
    public var nodeID: PublicKey
    public var shortChannelID: UInt64
    public var feeBaseMsat: UInt32
    public var feeProportionalMillionths: UInt32
    public var cltvExpiryDelta: UInt16

    public init(nodeID: PublicKey, shortChannelID: UInt64, feeBaseMsat: UInt32,
                feeProportionalMillionths: UInt32, cltvExpiryDelta: UInt16) {
        self.nodeID = nodeID
        self.shortChannelID = shortChannelID
        self.feeBaseMsat = feeBaseMsat
        self.feeProportionalMillionths = feeProportionalMillionths
        self.cltvExpiryDelta = cltvExpiryDelta
    }

    /// Size of one hop in an `r` field.
    public static let encodedSize = 51

    /// Appends the 51-byte BOLT 11 `r` hop encoding.
    public func append(to out: inout [UInt8]) {
        out += nodeID.compressed
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: shortChannelID >> UInt64(s))) }
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: feeBaseMsat >> UInt32(s))) }
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: feeProportionalMillionths >> UInt32(s))) }
        out.append(UInt8(cltvExpiryDelta >> 8)); out.append(UInt8(cltvExpiryDelta & 0xff))
    }

    /// Parses one 51-byte hop; the node id must be a valid point.
    public init(bytes b: ArraySlice<UInt8>) throws(Secp256k1.Error) {
        guard b.count == Self.encodedSize else { throw .invalidPublicKey }
        let s = b.startIndex
        nodeID = try PublicKey(serialized: Array(b[s..<s + 33]))
        shortChannelID = b[(s + 33)..<(s + 41)].reduce(0) { $0 << 8 | UInt64($1) }
        feeBaseMsat = b[(s + 41)..<(s + 45)].reduce(0) { $0 << 8 | UInt32($1) }
        feeProportionalMillionths = b[(s + 45)..<(s + 49)].reduce(0) { $0 << 8 | UInt32($1) }
        cltvExpiryDelta = UInt16(b[s + 49]) << 8 | UInt16(b[s + 50])
    }

    /// The `BLOCKxTXxOUTPUT` form of the short channel id.
    public var shortChannelIDString: String {
        "\(shortChannelID >> 40)x\((shortChannelID >> 16) & 0xffffff)x\(shortChannelID & 0xffff)"
    }
}

/// An on-chain fallback (BOLT 11 `f`): a witness program (version 0...16), or a P2PKH (17) or
/// P2SH (18) hash.
public enum Fallback: Sendable, Equatable, Hashable {
    case segwit(version: UInt8, program: [UInt8])
    case pubKeyHash([UInt8])
    case scriptHash([UInt8])

    var version: UInt8 {
        switch self {
        case .segwit(let v, _): return v
        case .pubKeyHash: return 17
        case .scriptHash: return 18
        }
    }

    var payload: [UInt8] {
        switch self {
        case .segwit(_, let p), .pubKeyHash(let p), .scriptHash(let p): return p
        }
    }
}

/// One tagged field of the data part, in the order it was written. Fields a reader must skip
/// (unknown types, `p`/`h`/`s`/`n` of the wrong length, `f` of an unknown version) are kept as
/// `.unknown` with their raw 5-bit values so an invoice re-encodes to the same bytes.
public enum TaggedField: Sendable, Equatable, Hashable {
    /// `p` (1): SHA-256 payment hash, 32 bytes.
    case paymentHash([UInt8])
    /// `s` (16): payment secret (`payment_addr`), 32 bytes.
    case paymentSecret([UInt8])
    /// `d` (13): UTF-8 description.
    case description(String)
    /// `n` (19): the payee's node id.
    case payee(PublicKey)
    /// `h` (23): SHA-256 of a long description, 32 bytes.
    case descriptionHash([UInt8])
    /// `x` (6): expiry in seconds.
    case expiry(UInt64)
    /// `c` (24): `min_final_cltv_expiry_delta`.
    case minFinalCLTVExpiry(UInt64)
    /// `f` (9): fallback on-chain address.
    case fallback(Fallback)
    /// `r` (3): one private route (ordered hops).
    case routeHint([HopHint])
    /// `9` (5): feature bits.
    case features(FeatureVector)
    /// `m` (27): payment metadata.
    case metadata([UInt8])
    /// Any field skipped by the reader: type and raw 5-bit data values.
    case unknown(type: UInt8, data: [UInt8])

    // BOLT 11 field type numbers (the 5-bit value of the tag character).
    public static let typeP: UInt8 = 1, typeS: UInt8 = 16, typeD: UInt8 = 13, typeN: UInt8 = 19,
                      typeH: UInt8 = 23, typeX: UInt8 = 6, typeC: UInt8 = 24, typeF: UInt8 = 9,
                      typeR: UInt8 = 3, type9: UInt8 = 5, typeM: UInt8 = 27

    /// The field type number.
    public var type: UInt8 {
        switch self {
        case .paymentHash: return Self.typeP
        case .paymentSecret: return Self.typeS
        case .description: return Self.typeD
        case .payee: return Self.typeN
        case .descriptionHash: return Self.typeH
        case .expiry: return Self.typeX
        case .minFinalCLTVExpiry: return Self.typeC
        case .fallback: return Self.typeF
        case .routeHint: return Self.typeR
        case .features: return Self.type9
        case .metadata: return Self.typeM
        case .unknown(let t, _): return t
        }
    }

    /// The tag character (`p`, `s`, ...).
    public var tag: Character { Character(Unicode.Scalar(Bech32.charset[Int(type)])) }
}
