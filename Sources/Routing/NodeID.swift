import LightningPrimitives

/// A Lightning node identity: the 33-byte compressed secp256k1 public key (BOLT 7 `node_id`).
///
/// Routing never does elliptic-curve work, so this is only the serialized key; Simnet derives it
/// from a `Crypto.PrivateKey`. Ordering is lexicographic over the bytes, which is how BOLT 7 picks
/// `node_id_1` (the lesser) and `node_id_2` of a channel.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 33 serialized bytes.
    public let bytes: [UInt8]

    /// Fails unless `bytes` is 33 bytes starting with 0x02 or 0x03 (a compressed point prefix).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 33, bytes[0] == 2 || bytes[0] == 3 else { return nil }
        self.bytes = bytes
    }

    /// Parses 66 hex characters (either case).
    public init?(hex: String) {
        guard let raw = Hex.decode(hex) else { return nil }
        self.init(bytes: raw)
    }

    /// Lowercase hex, as LND prints `pub_key`.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
