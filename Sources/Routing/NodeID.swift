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
        guard let raw = HexCoding.decode(hex) else { return nil }
        self.init(bytes: raw)
    }

    /// Lowercase hex, as LND prints `pub_key`.
    public var hex: String { HexCoding.encode(bytes) }
    public var description: String { hex }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Minimal hex for Routing, which has no dependencies (Crypto has the general one).
enum HexCoding {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ string: String) -> [UInt8]? {
        let utf8 = Array(string.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
