import Crypto

/// A decoded, signature-checked BOLT 11 invoice.
///
/// Contract: a value returned by `Bolt11Invoice.decode` passed every BOLT 11 reader requirement
/// (checksum, known prefix, amount precision, exactly one `p`, one `d` or `h`, one `s`, a feature
/// vector with no unknown even bit that supports `payment_secret`, and a valid signature:
/// verified against `n` with low-S enforced when `n` is present, otherwise the payee is recovered,
/// accepting high-S). Accessors return the first (most preferred) field of each type and BOLT 11's
/// defaults when a field is absent.
public struct Bolt11Invoice: Sendable, Equatable {
    public var currency: Currency
    /// The HRP amount in millisatoshis; nil for "any amount".
    public var amountMsat: UInt64?
    /// Seconds since the epoch (35 bits).
    public var timestamp: UInt64
    /// Tagged fields in wire order (skipped ones as `.unknown`).
    public var fields: [TaggedField]
    /// 64-byte compact signature `r || s` as written (possibly high-S when there is no `n`).
    public var signature: [UInt8]
    /// Recovery id 0...3.
    public var recoveryID: UInt8
    /// The payee: the `n` field when present, else the key recovered from the signature.
    public var payee: PublicKey

    /// BOLT 11 default expiry (seconds) when `x` is absent.
    public static let defaultExpiry: UInt64 = 3600
    /// BOLT 11 default `min_final_cltv_expiry_delta` when `c` is absent.
    public static let defaultMinFinalCLTVExpiry: UInt64 = 18

    public var paymentHash: [UInt8] {
        for f in fields { if case .paymentHash(let h) = f { return h } }
        return []
    }

    /// The `s` field; nil if absent (never for a decoded invoice).
    public var paymentSecret: [UInt8]? {
        for f in fields { if case .paymentSecret(let s) = f { return s } }
        return nil
    }

    public var description: String? {
        for f in fields { if case .description(let d) = f { return d } }
        return nil
    }

    public var descriptionHash: [UInt8]? {
        for f in fields { if case .descriptionHash(let h) = f { return h } }
        return nil
    }

    /// The explicit `n` field, if any.
    public var payeeField: PublicKey? {
        for f in fields { if case .payee(let p) = f { return p } }
        return nil
    }

    /// `x`, or 3600 when absent.
    public var expiry: UInt64 {
        for f in fields { if case .expiry(let x) = f { return x } }
        return Self.defaultExpiry
    }

    /// Whether the invoice carries an explicit `x`.
    public var hasExplicitExpiry: Bool { fields.contains { if case .expiry = $0 { return true }; return false } }

    /// `c`, or 18 when absent.
    public var minFinalCLTVExpiry: UInt64 {
        for f in fields { if case .minFinalCLTVExpiry(let c) = f { return c } }
        return Self.defaultMinFinalCLTVExpiry
    }

    public var fallbacks: [Fallback] {
        fields.compactMap { if case .fallback(let f) = $0 { return f }; return nil }
    }

    /// Each `r` field is one route.
    public var routeHints: [[HopHint]] {
        fields.compactMap { if case .routeHint(let r) = $0 { return r }; return nil }
    }

    public var features: FeatureVector {
        for f in fields { if case .features(let v) = f { return v } }
        return .empty
    }

    public var metadata: [UInt8]? {
        for f in fields { if case .metadata(let m) = f { return m } }
        return nil
    }

    /// True once `now` (seconds since the epoch) is past `timestamp + expiry`.
    public func isExpired(now: UInt64) -> Bool {
        let (end, overflow) = timestamp.addingReportingOverflow(expiry)
        return !overflow && now > end
    }
}
