import LightningPrimitives

/// A 32-byte Lightning hash or preimage (BOLT 11 `payment_hash`, BOLT 4 `payment_preimage`).
///
/// For AMP payments LND's payment identifier is the SetID, also 32 bytes; this type carries either.
public struct PaymentHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Four big-endian words held inline: no heap allocation, cheap hashing and comparison
    // (these are dictionary keys on the notify and subscribe hot paths).
    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Fails unless `bytes` is exactly 32 bytes long (LND: `invalid hash length of <n>, want 32`).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for j in 0..<8 { w = w << 8 | UInt64(bytes[i * 8 + j]) }
            return w
        }
        w0 = word(0); w1 = word(1); w2 = word(2); w3 = word(3)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for (i, w) in [w0, w1, w2, w3].enumerated() {
            for j in 0..<8 { out[i * 8 + j] = UInt8(truncatingIfNeeded: w >> (56 - 8 * UInt64(j))) }
        }
        return out
    }

    /// The all-zero value (LND's zero preimage, shown as 64 '0' characters).
    public static let zero = PaymentHash([UInt8](repeating: 0, count: 32))!

    /// Lower-case hex, as LND prints hashes (`Payment.payment_hash`).
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public static func < (a: PaymentHash, b: PaymentHash) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

/// A payment preimage: 32 bytes whose SHA-256 is the payment hash.
public typealias Preimage = PaymentHash
