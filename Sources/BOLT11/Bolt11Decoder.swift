import Crypto

extension Bolt11Invoice {
    /// Number of 5-bit values of the signature (520 bits) and of the timestamp (35 bits).
    static let signatureValues = 104, timestampValues = 7

    /// Decodes and checks a BOLT 11 string (either case; a `lightning:` URI prefix is not accepted
    /// here, callers strip it).
    ///
    /// Implements BOLT 11 "Requirements" for readers, in lightning-invoice's check order so the
    /// first error is the one LDK reports: Bech32 → data length → HRP → tagged fields → signature
    /// syntax → field counts → features → signature → amount precision.
    public static func decode(_ text: String) throws(Bolt11Error) -> Bolt11Invoice {
        try decode(text, rules: .lightningInvoice)
    }

    /// Decodes with `rules`: `.lightningInvoice` as documented above; `.zpay32` as LND's reader
    /// accepts after its own earlier checks (`ZPay32.decode` runs those first): duplicate fields
    /// are skipped (the first counts), `s` and `9` are optional and unknown feature bits allowed,
    /// a `d` that is not UTF-8 is read lossily, a fallback of an unknown version is skipped, the
    /// signature is checked before the field counts, and the recovery id only matters without `n`.
    public static func decode(_ text: String, rules: Bolt11ReaderRules) throws(Bolt11Error) -> Bolt11Invoice {
        let hrp: [UInt8], data: [UInt8]
        do { (hrp, data) = try Bech32.decode(text) } catch { throw .parse(.bech32(error)) }
        guard data.count >= signatureValues else { throw .parse(.tooShortDataPart) }

        // Human-readable part: "ln" + currency + [amount [multiplier]].
        let (currency, amountMsat, imprecise) = try parseHRP(hrp)

        let body = data[0..<(data.count - signatureValues)]
        guard body.count >= timestampValues else { throw .parse(.tooShortDataPart) }
        var timestamp: UInt64 = 0
        for v in body.prefix(timestampValues) { timestamp = timestamp << 5 | UInt64(v) }
        let fields = try parseTaggedFields(body.dropFirst(timestampValues), rules: rules)

        // Signature: 64 bytes + recovery id byte.
        let sigBytes = FiveBit.toBytesPadded(data[(data.count - signatureValues)...])
        let signature = Array(sigBytes[0..<64])
        let recoveryID = sigBytes[64]
        let lenient = rules == .zpay32
        let hasPayee = fields.contains { if case .payee = $0 { return true }; return false }
        if !(lenient && hasPayee) {
            guard recoveryID <= 3 else { throw .parse(.malformedSignature(.invalidRecoveryId)) }
        }
        guard ECDSASignature.isWellFormed(signature) else { throw .parse(.malformedSignature(.invalidSignature)) }

        // Field counts.
        var hashes = 0, descriptions = 0, secrets = 0
        var payeeField: PublicKey?
        var features: FeatureVector?
        for f in fields {
            switch f {
            case .paymentHash: hashes += 1
            case .description, .descriptionHash: descriptions += 1
            case .paymentSecret: secrets += 1
            case .payee(let p): if payeeField == nil { payeeField = p }
            case .features(let v): if features == nil { features = v }
            default: break
            }
        }
        if !lenient {
            if hashes == 0 { throw .semantic(.noPaymentHash) }
            if hashes > 1 { throw .semantic(.multiplePaymentHashes) }
            if descriptions == 0 { throw .semantic(.noDescription) }
            if descriptions > 1 { throw .semantic(.multipleDescriptions) }
            if secrets == 0 { throw .semantic(.noPaymentSecret) }
            if secrets > 1 { throw .semantic(.multiplePaymentSecrets) }

            // Features: present, no unknown even bit, payment_secret supported.
            guard let features, features.unknownRequiredBits.isEmpty,
                  features.supports(FeatureVector.paymentSecretRequired) else { throw .semantic(.invalidFeatures) }
        }

        // Signature over sha256(hrp || data without signature, zero-padded to bytes).
        let hash = SHA256.hash(FiveBit.signedBytes(hrp: hrp, data: body))
        let payee: PublicKey
        if let n = payeeField {
            // BOLT 11: with `n`, verify against it; the signature must be low-S.
            guard n.verify(signature: signature, hash: hash) else { throw .semantic(.invalidSignature) }
            payee = n
        } else {
            // Without `n`, recover; recovery accepts high-S (bolts#1284).
            guard let key = try? PublicKey.recover(signature: signature, recoveryID: Int32(recoveryID), hash: hash) else {
                throw .semantic(.invalidSignature)
            }
            payee = key
        }

        if lenient {
            // zpay32 validateInvoice: a payment hash; `d` or `h`, not both.
            if hashes == 0 { throw .semantic(.noPaymentHash) }
            let d = fields.contains { if case .description = $0 { return true }; return false }
            let h = fields.contains { if case .descriptionHash = $0 { return true }; return false }
            if d && h { throw .semantic(.multipleDescriptions) }
            if !d && !h { throw .semantic(.noDescription) }
        }
        if imprecise { throw .semantic(.impreciseAmount) }
        return Bolt11Invoice(currency: currency, amountMsat: amountMsat, timestamp: timestamp, fields: fields,
                             signature: signature, recoveryID: recoveryID, payee: payee)
    }

    /// Splits `ln` + currency letters + amount digits + multiplier. The amount is computed in msat
    /// (not pico-BTC, which would overflow 64 bits above ~18.4M BTC); `imprecise` flags a `p`
    /// amount that is not a multiple of 10.
    static func parseHRP(_ hrp: [UInt8]) throws(Bolt11Error) -> (Currency, UInt64?, imprecise: Bool) {
        guard hrp.count >= 2, hrp[0] == UInt8(ascii: "l"), hrp[1] == UInt8(ascii: "n") else { throw .parse(.badPrefix) }
        let isDigit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        var i = 2
        while i < hrp.count && !isDigit(hrp[i]) { i += 1 }
        let currencyText = String(decoding: hrp[2..<i], as: UTF8.self)
        let amountStart = i
        while i < hrp.count && isDigit(hrp[i]) { i += 1 }
        let digits = hrp[amountStart..<i]
        let suffix = hrp[i...]
        guard let currency = Currency(rawValue: currencyText) else { throw .parse(.unknownCurrency) }
        var amount: UInt64?
        if !digits.isEmpty {
            var v: UInt64 = 0
            for d in digits {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(d - 0x30))
                if o1 || o2 { throw .parse(.parseAmount(.posOverflow)) }
                v = a
            }
            amount = v
        }
        var multiplier: UInt64 = 1_000_000_000_000
        if !suffix.isEmpty {
            guard suffix.count == 1, let m = HRPAmount.picoMultiplier(suffix.first!) else { throw .parse(.unknownSiPrefix) }
            multiplier = m
        }
        guard let amount else { return (currency, nil, false) }
        if multiplier == 1 { return (currency, amount / 10, amount % 10 != 0) }
        let (msat, overflow) = amount.multipliedReportingOverflow(by: multiplier / 10)
        if overflow { throw .parse(.integerOverflow) }
        return (currency, msat, false)
    }

    /// Parses the tagged fields (BOLT 11 "Tagged Fields"); fields to be skipped become `.unknown`.
    static func parseTaggedFields(_ data: ArraySlice<UInt8>, rules: Bolt11ReaderRules = .lightningInvoice) throws(Bolt11Error) -> [TaggedField] {
        var fields = [TaggedField]()
        var i = data.startIndex
        while i < data.endIndex {
            guard data.endIndex - i >= 3 else { throw .parse(.unexpectedEndOfTaggedFields) }
            let type = data[i]
            let length = Int(data[i + 1]) << 5 | Int(data[i + 2])
            guard data.endIndex - (i + 3) >= length else { throw .parse(.unexpectedEndOfTaggedFields) }
            let value = data[(i + 3)..<(i + 3 + length)]
            i += 3 + length
            fields.append(try parseField(type: type, value, rules: rules) ?? .unknown(type: type, data: Array(value)))
        }
        return fields
    }

    /// One field; nil means "skip" (unknown type or a length/version BOLT 11 says to ignore).
    static func parseField(type: UInt8, _ v: ArraySlice<UInt8>, rules: Bolt11ReaderRules = .lightningInvoice) throws(Bolt11Error) -> TaggedField? {
        func bytes(_ v: ArraySlice<UInt8>) throws(Bolt11Error) -> [UInt8] {
            guard let b = FiveBit.toBytesStrict(v) else { throw .parse(.paddingError) }
            return b
        }
        switch type {
        case TaggedField.typeP:
            return v.count == 52 ? .paymentHash(try bytes(v)) : nil
        case TaggedField.typeS:
            return v.count == 52 ? .paymentSecret(try bytes(v)) : nil
        case TaggedField.typeH:
            return v.count == 52 ? .descriptionHash(try bytes(v)) : nil
        case TaggedField.typeN:
            guard v.count == 53 else { return nil }
            guard let key = try? PublicKey(serialized: try bytes(v)) else {
                throw .parse(.malformedSignature(.invalidPublicKey))
            }
            return .payee(key)
        case TaggedField.typeD:
            let b = try bytes(v)
            if rules == .lightningInvoice, let (upTo, len) = utf8Error(b) {
                throw .parse(.descriptionDecode(validUpTo: upTo, errorLength: len))
            }
            return .description(String(decoding: b, as: UTF8.self))
        case TaggedField.typeX:
            guard let x = FiveBit.uint64(v) else { throw .parse(.integerOverflow) }
            return .expiry(x)
        case TaggedField.typeC:
            guard let c = FiveBit.uint64(v) else { throw .parse(.integerOverflow) }
            return .minFinalCLTVExpiry(c)
        case TaggedField.typeF:
            guard let version = v.first else { throw .parse(.unexpectedEndOfTaggedFields) }
            guard version <= 18 else { return nil }
            let program = try bytes(v.dropFirst())
            switch version {
            case 17:
                guard program.count == 20 else { throw .parse(.invalidPubKeyHashLength) }
                return .fallback(.pubKeyHash(program))
            case 18:
                guard program.count == 20 else { throw .parse(.invalidScriptHashLength) }
                return .fallback(.scriptHash(program))
            default:
                // zpay32 reads only version 0 (20 or 32 bytes, checked before) and skips the others.
                if rules == .zpay32 && version != 0 && !(2...40).contains(program.count) { return nil }
                guard (2...40).contains(program.count) else { throw .parse(.invalidSegWitProgramLength) }
                return .fallback(.segwit(version: version, program: program))
            }
        case TaggedField.typeR:
            let b = try bytes(v)
            guard b.count % HopHint.encodedSize == 0 else { throw .parse(.unexpectedEndOfTaggedFields) }
            var hops = [HopHint]()
            var j = 0
            while j < b.count {
                guard let hop = try? HopHint(bytes: b[j..<(j + HopHint.encodedSize)]) else {
                    throw .parse(.malformedSignature(.invalidPublicKey))
                }
                hops.append(hop)
                j += HopHint.encodedSize
            }
            return .routeHint(hops)
        case TaggedField.type9:
            return .features(FeatureVector(fiveBit: v))
        case TaggedField.typeM:
            return .metadata(try bytes(v))
        default:
            return nil
        }
    }

    /// Rust `str::from_utf8` error position: (valid_up_to, error_len), nil when valid UTF-8.
    static func utf8Error(_ b: [UInt8]) -> (Int, Int?)? {
        var i = 0
        let n = b.count
        func cont(_ k: Int) -> Bool { k < n && b[k] & 0xc0 == 0x80 }
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            switch c {
            case 0xc2...0xdf:
                guard i + 1 < n else { return (i, nil) }
                guard cont(i + 1) else { return (i, 1) }
                i += 2
            case 0xe0...0xef:
                guard i + 1 < n else { return (i, nil) }
                let c1 = b[i + 1]
                let ok1: Bool
                switch c {
                case 0xe0: ok1 = (0xa0...0xbf).contains(c1)
                case 0xed: ok1 = (0x80...0x9f).contains(c1)
                default: ok1 = (0x80...0xbf).contains(c1)
                }
                guard ok1 else { return (i, 1) }
                guard i + 2 < n else { return (i, nil) }
                guard cont(i + 2) else { return (i, 2) }
                i += 3
            case 0xf0...0xf4:
                guard i + 1 < n else { return (i, nil) }
                let c1 = b[i + 1]
                let ok1: Bool
                switch c {
                case 0xf0: ok1 = (0x90...0xbf).contains(c1)
                case 0xf4: ok1 = (0x80...0x8f).contains(c1)
                default: ok1 = (0x80...0xbf).contains(c1)
                }
                guard ok1 else { return (i, 1) }
                guard i + 2 < n else { return (i, nil) }
                guard cont(i + 2) else { return (i, 2) }
                guard i + 3 < n else { return (i, nil) }
                guard cont(i + 3) else { return (i, 3) }
                i += 4
            default:
                return (i, 1)
            }
        }
        return nil
    }
}

/// Which reader's acceptance rules a decode follows.
public enum Bolt11ReaderRules: Sendable, Equatable {
    /// rust-lightning's lightning-invoice (the Komodo API's vocabulary).
    case lightningInvoice
    /// LND's zpay32, after `ZPay32.decode`'s own earlier checks.
    case zpay32
}
