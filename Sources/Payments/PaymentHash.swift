/// A 32-byte Lightning hash or preimage (BOLT 11 `payment_hash`, BOLT 4 `payment_preimage`).
///
/// For AMP payments LND's payment identifier is the SetID, also 32 bytes; this type carries either.
public struct PaymentHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Fails unless `bytes` is exactly 32 bytes long (LND: `invalid hash length of <n>, want 32`).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// The all-zero value (LND's zero preimage, shown as 64 '0' characters).
    public static let zero = PaymentHash([UInt8](repeating: 0, count: 32))!

    /// Lower-case hex, as LND prints hashes (`Payment.payment_hash`).
    public var hex: String { PaymentHex.encode(bytes) }
    public var description: String { hex }

    public static func < (a: PaymentHash, b: PaymentHash) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// A payment preimage: 32 bytes whose SHA-256 is the payment hash.
public typealias Preimage = PaymentHash

enum PaymentHex {
    static let digits = Array("0123456789abcdef".utf8)
    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
