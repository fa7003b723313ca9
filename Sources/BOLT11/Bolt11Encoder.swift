import Crypto

/// An invoice before its signature: what a writer fills in (BOLT 11 writer requirements).
///
/// Contract: `sign(with:)` writes the HRP amount in its shortest form, the 35-bit timestamp and the
/// fields in the given order with minimal-length integers, signs sha256(hrp || data) with a
/// low-S RFC 6979 recoverable signature, and returns the Bech32 string (lowercase) together with
/// the invoice as `Bolt11Invoice.decode` would return it. An empty feature vector is omitted, as
/// BOLT 11 requires. It does not check reader semantics (e.g. a missing `p`): callers that need a
/// payable invoice include `p`, `s`, `d` or `h`, and `9`.
public struct UnsignedBolt11Invoice: Sendable, Equatable {
    public var currency: Currency
    public var amountMsat: UInt64?
    public var timestamp: UInt64
    public var fields: [TaggedField]

    public init(currency: Currency, amountMsat: UInt64?, timestamp: UInt64, fields: [TaggedField]) {
        self.currency = currency
        self.amountMsat = amountMsat
        self.timestamp = timestamp
        self.fields = fields
    }

    /// The lowercase HRP bytes: `ln` + currency + amount.
    public func hrp() throws(Bolt11EncodingError) -> [UInt8] {
        var text = currency.prefix
        if let amountMsat { text += try HRPAmount.encode(msat: amountMsat) }
        return Array(text.utf8)
    }

    /// Timestamp and tagged fields as 5-bit values (the signed data, before padding).
    public func dataValues() throws(Bolt11EncodingError) -> [UInt8] {
        guard timestamp < 1 << 35 else { throw .timestampOutOfRange(timestamp) }
        var out = [UInt8]()
        out.reserveCapacity(512)
        for i in stride(from: 30, through: 0, by: -5) { out.append(UInt8((timestamp >> UInt64(i)) & 31)) }
        for field in fields {
            var value = [UInt8]()
            switch field {
            case .paymentHash(let b), .paymentSecret(let b), .descriptionHash(let b):
                guard b.count == 32 else { throw .invalidFieldLength(tag: field.tag, bytes: b.count) }
                FiveBit.fromBytes(b, into: &value)
            case .payee(let key):
                FiveBit.fromBytes(key.compressed, into: &value)
            case .description(let d):
                FiveBit.fromBytes(d.utf8, into: &value)
            case .expiry(let x), .minFinalCLTVExpiry(let x):
                value = FiveBit.minimal(x)
            case .fallback(let f):
                switch f {
                case .pubKeyHash(let h), .scriptHash(let h):
                    guard h.count == 20 else { throw .invalidFallback }
                case .segwit(let v, let p):
                    guard v <= 16, (2...40).contains(p.count) else { throw .invalidFallback }
                }
                value.append(f.version)
                FiveBit.fromBytes(f.payload, into: &value)
            case .routeHint(let hops):
                var bytes = [UInt8]()
                bytes.reserveCapacity(hops.count * HopHint.encodedSize)
                for hop in hops { hop.append(to: &bytes) }
                FiveBit.fromBytes(bytes, into: &value)
            case .features(let v):
                value = v.fiveBit
                if value.isEmpty { continue }
            case .metadata(let m):
                FiveBit.fromBytes(m, into: &value)
            case .unknown(_, let raw):
                value = raw
            }
            guard value.count <= 1023 else { throw .fieldTooLong(tag: field.tag, values: value.count) }
            out.append(field.type)
            out.append(UInt8(value.count >> 5))
            out.append(UInt8(value.count & 31))
            out += value
        }
        return out
    }

    /// sha256(hrp || data zero-padded to a byte boundary): the message the payee signs.
    public func signingHash() throws(Bolt11EncodingError) -> [UInt8] {
        SHA256.hash(FiveBit.signedBytes(hrp: try hrp(), data: try dataValues()[...]))
    }

    /// Signs with `key` and encodes.
    public func sign(with key: PrivateKey) throws(Bolt11EncodingError) -> (paymentRequest: String, invoice: Bolt11Invoice) {
        let hrp = try hrp()
        let data = try dataValues()
        let hash = SHA256.hash(FiveBit.signedBytes(hrp: hrp, data: data[...]))
        guard let (sig, recid) = try? key.signRecoverable(hash: hash) else { throw .signingFailed }
        let text = Self.assemble(hrp: hrp, data: data, signature: sig, recoveryID: UInt8(recid))
        let invoice = Bolt11Invoice(currency: currency, amountMsat: amountMsat, timestamp: timestamp,
                                    fields: fields.filter { if case .features(let v) = $0 { return !v.isEmpty }; return true },
                                    signature: sig, recoveryID: UInt8(recid), payee: key.publicKey)
        return (text, invoice)
    }

    /// Encodes with a given 64-byte signature and recovery id (no check that it is valid).
    public func encoded(signature: [UInt8], recoveryID: UInt8) throws(Bolt11EncodingError) -> String {
        guard signature.count == 64, recoveryID <= 3 else { throw .signingFailed }
        return Self.assemble(hrp: try hrp(), data: try dataValues(), signature: signature, recoveryID: recoveryID)
    }

    static func assemble(hrp: [UInt8], data: [UInt8], signature: [UInt8], recoveryID: UInt8) -> String {
        var all = data
        all.reserveCapacity(data.count + Bolt11Invoice.signatureValues)
        FiveBit.fromBytes(signature + [recoveryID], into: &all)
        return Bech32.encode(hrp: hrp, data: all)
    }
}

extension Bolt11Invoice {
    /// The invoice without its signature.
    public var unsigned: UnsignedBolt11Invoice {
        UnsignedBolt11Invoice(currency: currency, amountMsat: amountMsat, timestamp: timestamp, fields: fields)
    }

    /// Re-encodes the invoice with its own signature (lowercase). Equal to the decoded text
    /// (lowercased) whenever that text used minimal integer encodings.
    public func encoded() -> String {
        (try? unsigned.encoded(signature: signature, recoveryID: recoveryID)) ?? ""
    }
}
