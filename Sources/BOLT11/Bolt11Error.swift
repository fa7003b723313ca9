/// Why a BOLT 11 string was refused. The cases mirror rust-lightning's `lightning-invoice`
/// (`ParseOrSemanticError`) so the Komodo API can report them by the same names; `ldkDescription`
/// renders exactly what LDK's `{:?}` prints, e.g. `ParseError(Bech32Error(InvalidChecksum))` or
/// `SemanticError(NoPaymentSecret)` (komodo-lightning-rpc §1.6).
public enum Bolt11Error: Error, Equatable, Sendable, CustomStringConvertible {
    case parse(Bolt11ParseError)
    case semantic(Bolt11SemanticError)

    public var ldkDescription: String {
        switch self {
        case .parse(let e): return "ParseError(\(e.ldkDescription))"
        case .semantic(let e): return "SemanticError(\(e.ldkDescription))"
        }
    }

    public var description: String { ldkDescription }
}

/// rust-bech32 0.9 `Error`.
public enum Bech32Error: Error, Equatable, Sendable {
    case missingSeparator
    case invalidChecksum
    case invalidLength
    case invalidChar(Character)
    case invalidData(UInt8)
    case invalidPadding
    case mixedCase

    public var ldkDescription: String {
        switch self {
        case .missingSeparator: return "MissingSeparator"
        case .invalidChecksum: return "InvalidChecksum"
        case .invalidLength: return "InvalidLength"
        case .invalidChar(let c): return "InvalidChar(\(rustDebug(c)))"
        case .invalidData(let d): return "InvalidData(\(d))"
        case .invalidPadding: return "InvalidPadding"
        case .mixedCase: return "MixedCase"
        }
    }
}

/// Rust's `core::num::IntErrorKind`, for amounts that do not parse as `u64`.
public enum IntErrorKind: String, Equatable, Sendable {
    case empty = "Empty", invalidDigit = "InvalidDigit", posOverflow = "PosOverflow"
}

/// libsecp256k1 error names as rust-secp256k1 prints them.
public enum Secp256k1ErrorName: String, Equatable, Sendable {
    case invalidSignature = "InvalidSignature", invalidPublicKey = "InvalidPublicKey",
         invalidRecoveryId = "InvalidRecoveryId"
}

/// Syntax errors (lightning-invoice `Bolt11ParseError`).
public enum Bolt11ParseError: Equatable, Sendable {
    case bech32(Bech32Error)
    case parseAmount(IntErrorKind)
    case malformedSignature(Secp256k1ErrorName)
    case badPrefix
    case unknownCurrency
    case unknownSiPrefix
    case malformedHRP
    case tooShortDataPart
    case unexpectedEndOfTaggedFields
    /// Invalid UTF-8 in `d`: Rust's `Utf8Error { valid_up_to, error_len }`.
    case descriptionDecode(validUpTo: Int, errorLength: Int?)
    case paddingError
    case integerOverflow
    case invalidSegWitProgramLength
    case invalidPubKeyHashLength
    case invalidScriptHashLength

    public var ldkDescription: String {
        switch self {
        case .bech32(let e): return "Bech32Error(\(e.ldkDescription))"
        case .parseAmount(let k): return "ParseAmountError(ParseIntError { kind: \(k.rawValue) })"
        case .malformedSignature(let e): return "MalformedSignature(\(e.rawValue))"
        case .badPrefix: return "BadPrefix"
        case .unknownCurrency: return "UnknownCurrency"
        case .unknownSiPrefix: return "UnknownSiPrefix"
        case .malformedHRP: return "MalformedHRP"
        case .tooShortDataPart: return "TooShortDataPart"
        case .unexpectedEndOfTaggedFields: return "UnexpectedEndOfTaggedFields"
        case let .descriptionDecode(upTo, len):
            return "DescriptionDecodeError(Utf8Error { valid_up_to: \(upTo), error_len: \(len.map { "Some(\($0))" } ?? "None") })"
        case .paddingError: return "PaddingError"
        case .integerOverflow: return "IntegerOverflowError"
        case .invalidSegWitProgramLength: return "InvalidSegWitProgramLength"
        case .invalidPubKeyHashLength: return "InvalidPubKeyHashLength"
        case .invalidScriptHashLength: return "InvalidScriptHashLength"
        }
    }
}

/// Well-formed but unacceptable invoices (lightning-invoice `Bolt11SemanticError`), checked in
/// LDK's order: field counts, features, signature, amount precision.
public enum Bolt11SemanticError: String, Equatable, Sendable {
    case noPaymentHash = "NoPaymentHash"
    case multiplePaymentHashes = "MultiplePaymentHashes"
    case noDescription = "NoDescription"
    case multipleDescriptions = "MultipleDescriptions"
    case noPaymentSecret = "NoPaymentSecret"
    case multiplePaymentSecrets = "MultiplePaymentSecrets"
    case invalidFeatures = "InvalidFeatures"
    case invalidRecoveryId = "InvalidRecoveryId"
    case invalidSignature = "InvalidSignature"
    case impreciseAmount = "ImpreciseAmount"

    public var ldkDescription: String { rawValue }
}

/// Rust's `{:?}` of a `char`: single-quoted, with Rust's escapes for the usual specials.
func rustDebug(_ c: Character) -> String {
    switch c {
    case "'": return "'\\''"
    case "\\": return "'\\\\'"
    case "\n": return "'\\n'"
    case "\r": return "'\\r'"
    case "\t": return "'\\t'"
    case "\0": return "'\\0'"
    default:
        if let s = c.unicodeScalars.first, c.unicodeScalars.count == 1, s.value < 0x20 || s.value == 0x7f {
            return "'\\u{\(String(s.value, radix: 16))}'"
        }
        return "'\(c)'"
    }
}

/// Why an invoice could not be written.
public enum Bolt11EncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A zero amount: BOLT 11 writers omit the amount instead.
    case amountNotPositive
    /// More than 21 million BTC, or not representable in pico-BTC.
    case amountTooLarge(UInt64)
    /// The timestamp does not fit BOLT 11's 35 bits.
    case timestampOutOfRange(UInt64)
    /// A field's data exceeds 1023 five-bit values (639 bytes of description, for example).
    case fieldTooLong(tag: Character, values: Int)
    /// A fixed-size field (`p`, `s`, `h`: 32 bytes) of the wrong size.
    case invalidFieldLength(tag: Character, bytes: Int)
    /// A fallback whose version/program is not valid for BOLT 11.
    case invalidFallback
    /// The signing key failed (never for a valid `PrivateKey`).
    case signingFailed

    public var description: String {
        switch self {
        case .amountNotPositive: return "invoice amount must be positive or absent"
        case .amountTooLarge(let a): return "invoice amount \(a) msat is too large"
        case .timestampOutOfRange(let t): return "invoice timestamp \(t) does not fit 35 bits"
        case let .fieldTooLong(tag, n): return "invoice field '\(tag)' is \(n) values long (max 1023)"
        case let .invalidFieldLength(tag, n): return "invoice field '\(tag)' is \(n) bytes, want 32"
        case .invalidFallback: return "invalid fallback address"
        case .signingFailed: return "invoice signing failed"
        }
    }
}
