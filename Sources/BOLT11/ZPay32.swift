import Crypto

/// A BOLT 11 string refused the way LND's `zpay32.Decode` refuses it: `text` is LND's own error
/// text (what DecodePayReq and SendPaymentV2's `payment_request` answer LND clients).
public struct ZPay32Error: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

/// LND's invoice reader (`zpay32.Decode` with the node's network), in LND's order and words:
/// size → bech32 (length, characters, case, separator, charset, checksum) → `ln` + the node's
/// network prefix → HRP amount → data lengths → tagged fields → signature → required fields.
/// The one place that turns BOLT 11 failures into LND's texts; the Komodo API keeps
/// lightning-invoice's names (`Bolt11Error.ldkDescription`).
public enum ZPay32 {
    /// zpay32 `maxInvoiceLength`.
    public static let maxInvoiceLength = 7089
    static let signatureValues = 104, timestampValues = 7

    public static func decode(_ text: String, network: Currency) throws(ZPay32Error) -> Bolt11Invoice {
        let bytes = Array(text.utf8)
        if bytes.count > maxInvoiceLength { throw ZPay32Error("invoice is too large") }
        let (hrp, data) = try bech32(bytes)
        if hrp.count < 3 { throw ZPay32Error("hrp too short") }
        if !hrp.hasPrefix("ln") { throw ZPay32Error("prefix should be \"ln\"") }
        let expected = String(network.prefix.dropFirst(2))
        if !hrp.dropFirst(2).hasPrefix(expected) {
            throw ZPay32Error("invoice not for current active network '\(network.lndNetworkName)'")
        }
        let amountText = hrp.dropFirst(2 + expected.count)
        if !amountText.isEmpty { try amount(String(amountText)) }
        if data.count < signatureValues { throw ZPay32Error("short invoice") }
        let body = data[..<(data.count - signatureValues)]
        if body.count < timestampValues { throw ZPay32Error("data too short: \(body.count)") }
        try taggedFields(body.dropFirst(timestampValues))

        let invoice: Bolt11Invoice
        do { invoice = try Bolt11Invoice.decode(text, rules: .zpay32) } catch {
            throw ZPay32Error(lndText(for: error, data: data, hasPayee: hasPayee(body.dropFirst(timestampValues))))
        }
        // A prefix such as `lntbs` (signet) passes LND's prefix test on testnet only to fail in
        // the amount; anything else that still differs is another network.
        guard invoice.currency == network else {
            throw ZPay32Error("invoice not for current active network '\(network.lndNetworkName)'")
        }
        return invoice
    }

    /// zpay32's `decodeBech32`: no 90-character limit; returns the lowercase HRP and the values
    /// without the checksum.
    static func bech32(_ s: [UInt8]) throws(ZPay32Error) -> (String, [UInt8]) {
        if s.count < 8 { throw ZPay32Error("invalid bech32 string length \(s.count)") }
        for b in s where b < 33 || b > 126 {
            throw ZPay32Error("invalid character in string: '\(Character(Unicode.Scalar(b)))'")
        }
        let hasLower = s.contains { $0 >= 0x61 && $0 <= 0x7a }, hasUpper = s.contains { $0 >= 0x41 && $0 <= 0x5a }
        if hasLower && hasUpper { throw ZPay32Error("string not all lowercase or all uppercase") }
        let lower = s.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 32 : $0 }
        guard let one = lower.lastIndex(of: 0x31), one >= 1, one + 7 <= lower.count else {
            throw ZPay32Error("invalid index of 1")
        }
        let hrp = Array(lower[..<one])
        var values: [UInt8] = []
        values.reserveCapacity(lower.count - one - 1)
        for c in lower[(one + 1)...] {
            guard let i = Bech32.charset.firstIndex(of: c) else {
                throw ZPay32Error("failed converting data to bytes: invalid character not part of charset: \(c)")
            }
            values.append(UInt8(i))
        }
        if Bech32.polymod(hrp: hrp, data: values) != 1 {
            let expected = Bech32.encode(hrp: hrp, data: Array(values.dropLast(6))).suffix(6)
            let got = String(decoding: lower.suffix(6), as: UTF8.self)
            throw ZPay32Error("checksum failed. Expected \(expected), got \(got).")
        }
        return (String(decoding: hrp, as: UTF8.self), Array(values.dropLast(6)))
    }

    /// zpay32 `decodeAmount` (only its errors matter here: the amount itself is read again).
    static func amount(_ a: String) throws(ZPay32Error) {
        guard let last = a.utf8.last else { throw ZPay32Error("amount must be non-empty") }
        if last >= 0x30 && last <= 0x39 {
            try parseUint(a)
            return
        }
        guard [UInt8(ascii: "m"), UInt8(ascii: "u"), UInt8(ascii: "n"), UInt8(ascii: "p")].contains(last) else {
            throw ZPay32Error("unknown multiplier \(Character(Unicode.Scalar(last)))")
        }
        let num = String(a.dropLast())
        if num.isEmpty { throw ZPay32Error("number must be non-empty") }
        let value = try parseUint(num)
        if last == UInt8(ascii: "p") {
            if value < 10 { throw ZPay32Error("minimum amount is 10p") }
            if value % 10 != 0 { throw ZPay32Error("amount \(value) pBTC not expressible in msat") }
        }
    }

    /// Go's `strconv.ParseUint(s, 10, 64)` with its error texts.
    @discardableResult
    static func parseUint(_ s: String) throws(ZPay32Error) -> UInt64 {
        if s.isEmpty || !s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw ZPay32Error("strconv.ParseUint: parsing \(goQuote(s)): invalid syntax")
        }
        guard let v = UInt64(s) else { throw ZPay32Error("strconv.ParseUint: parsing \(goQuote(s)): value out of range") }
        return v
    }

    /// Go's `%q` for the ASCII strings that reach it here.
    static func goQuote(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    /// zpay32 `parseTaggedFields`' own checks: the field structure, and the contents it reads of
    /// the first field of each type (`r`: every one).
    static func taggedFields(_ f: ArraySlice<UInt8>) throws(ZPay32Error) {
        var seen = Set<UInt8>()
        var i = f.startIndex
        while i < f.endIndex {
            if f.endIndex - i < 3 { throw ZPay32Error("last tagged field is broken") }
            let type = f[i]
            let length = Int(f[i + 1]) << 5 | Int(f[i + 2])
            if f.endIndex - (i + 3) < length { throw ZPay32Error("invalid field length") }
            let v = f[(i + 3)..<(i + 3 + length)]
            i += 3 + length
            if type != TaggedField.typeR && seen.contains(type) { continue }
            switch type {
            case TaggedField.typeX, TaggedField.typeC:
                if v.count > 13 { throw ZPay32Error("cannot parse data of length \(v.count) as uint64") }
                seen.insert(type)
            case TaggedField.typeR:
                let bytes = v.count * 5 / 8
                if bytes % 51 != 0 { throw ZPay32Error("expected length multiple of 51 bytes, got \(bytes)") }
            case TaggedField.typeF:
                if v.count < 2 { throw ZPay32Error("empty fallback address field") }
                let program = v.count - 1
                switch v.first! {
                case 0:
                    let n = program * 5 / 8
                    if n != 20 && n != 32 { throw ZPay32Error("unknown witness program length \(n)") }
                case 17: if program * 5 / 8 != 20 { throw ZPay32Error("pkHash must be 20 bytes") }
                case 18: if program * 5 / 8 != 20 { throw ZPay32Error("scriptHash must be 20 bytes") }
                default: break
                }
                seen.insert(type)
            case TaggedField.typeP, TaggedField.typeS, TaggedField.typeH:
                // A wrong length is skipped and the next field of the type is read instead.
                if v.count == 52 { seen.insert(type) }
            case TaggedField.typeN:
                if v.count == 53 { seen.insert(type) }
            default:
                seen.insert(type)
            }
        }
    }

    static func hasPayee(_ f: ArraySlice<UInt8>) -> Bool {
        var i = f.startIndex
        while f.endIndex - i >= 3 {
            let length = Int(f[i + 1]) << 5 | Int(f[i + 2])
            if f[i] == TaggedField.typeN && length == 53 { return true }
            i += 3 + length
        }
        return false
    }

    /// Why btcec's `RecoverCompact` refuses the signature (no `n`: the payee is recovered).
    static func recoveryText(_ data: [UInt8]) -> String {
        let sig = FiveBit.toBytesPadded(data[(data.count - signatureValues)...])
        let order = Hex.decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")!
        // P − N: with the recovery code's overflow bit, R + N must stay below the field prime.
        let primeMinusOrder = Hex.decode("000000000000000000000000000000014551231950b75fc4402da1722fc9baee")!
        let r = Array(sig[0..<32]), s = Array(sig[32..<64]), code = sig[64]
        if code > 3 { return "invalid compact signature recovery code" }
        if !r.lexicographicallyPrecedes(order) { return "signature R is >= curve order" }
        if r.allSatisfy({ $0 == 0 }) { return "signature R is 0" }
        if !s.lexicographicallyPrecedes(order) { return "signature S is >= curve order" }
        if s.allSatisfy({ $0 == 0 }) { return "signature S is 0" }
        if code & 2 != 0 && !r.lexicographicallyPrecedes(primeMinusOrder) { return "signature R + N >= P" }
        return "signature is not for a valid curve point"
    }

    /// LND's text for what the lenient decode still refuses.
    static func lndText(for e: Bolt11Error, data: [UInt8], hasPayee: Bool) -> String {
        switch e {
        case .semantic(.noPaymentHash): return "no payment hash found"
        case .semantic(.multipleDescriptions): return "both description and description hash set"
        case .semantic(.noDescription): return "neither description nor description hash set"
        case .semantic(.invalidSignature), .semantic(.invalidRecoveryId), .parse(.malformedSignature(.invalidSignature)):
            return hasPayee ? "invalid invoice signature" : recoveryText(data)
        case .parse(.malformedSignature(.invalidRecoveryId)): return "invalid compact signature recovery code"
        case .parse(.malformedSignature(.invalidPublicKey)): return "invalid public key"
        case .parse(.paddingError): return "invalid incomplete group"
        case .parse(.integerOverflow): return "cannot parse data as uint64"
        case .semantic(.impreciseAmount): return "amount not expressible in msat"
        default: return e.ldkDescription
        }
    }
}
