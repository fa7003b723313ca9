import CSecp256k1

/// secp256k1 keys and ECDSA (SEC 1, BIP 62 low-S) over libsecp256k1.
public enum Secp256k1 {
    /// One context for the process, randomized once; libsecp256k1 contexts are safe to share
    /// for signing and verification once created.
    nonisolated(unsafe) static let context: OpaquePointer = {
        let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY))!
        var seed = SecureRandom.bytes(32)
        _ = secp256k1_context_randomize(ctx, &seed)
        return ctx
    }()

    public enum Error: Swift.Error, Equatable, Sendable {
        case invalidPrivateKey
        case invalidPublicKey
        case invalidSignature
        case invalidRecoveryID
        case invalidMessageHash
        case recoveryFailed
    }
}

/// A secp256k1 private key (32 bytes, 0 < k < n).
public struct PrivateKey: Sendable, Equatable {
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation bytes: [UInt8]) throws(Secp256k1.Error) {
        guard bytes.count == 32, secp256k1_ec_seckey_verify(Secp256k1.context, bytes) == 1 else {
            throw .invalidPrivateKey
        }
        rawRepresentation = bytes
    }

    /// A fresh key from the CSPRNG.
    public static func generate() -> PrivateKey {
        while true {
            if let k = try? PrivateKey(rawRepresentation: SecureRandom.bytes(32)) { return k }
        }
    }

    public var publicKey: PublicKey {
        var pk = secp256k1_pubkey()
        precondition(secp256k1_ec_pubkey_create(Secp256k1.context, &pk, rawRepresentation) == 1)
        return PublicKey(raw: pk)
    }

    /// Deterministic (RFC 6979) ECDSA signature over a 32-byte hash, normalized to low-S,
    /// as 64-byte compact `r || s`.
    public func sign(hash: [UInt8]) throws(Secp256k1.Error) -> [UInt8] {
        guard hash.count == 32 else { throw .invalidMessageHash }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_sign(Secp256k1.context, &sig, hash, rawRepresentation, nil, nil) == 1 else {
            throw .invalidPrivateKey
        }
        var out = [UInt8](repeating: 0, count: 64)
        _ = secp256k1_ecdsa_signature_serialize_compact(Secp256k1.context, &out, &sig)
        return out
    }

    /// Recoverable compact signature (BOLT 11 `signature`): 64 bytes plus recovery id 0...3.
    public func signRecoverable(hash: [UInt8]) throws(Secp256k1.Error) -> (signature: [UInt8], recoveryID: Int32) {
        guard hash.count == 32 else { throw .invalidMessageHash }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(Secp256k1.context, &sig, hash, rawRepresentation, nil, nil) == 1 else {
            throw .invalidPrivateKey
        }
        var out = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1.context, &out, &recid, &sig)
        return (out, recid)
    }
}

/// Helpers over 64-byte compact ECDSA signatures (`r || s`, big-endian).
public enum ECDSASignature {
    /// True when `signature` parses and its `s` is at most n/2 (BIP 62 low-S, what
    /// `secp256k1_ecdsa_verify` demands). False for a high-S or malformed signature.
    public static func isLowS(_ signature: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1.context, &sig, signature) == 1 else { return false }
        return secp256k1_ecdsa_signature_normalize(Secp256k1.context, nil, &sig) == 0
    }

    /// True when `signature` is a well-formed compact signature (r and s below the group order).
    public static func isWellFormed(_ signature: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        var sig = secp256k1_ecdsa_signature()
        return secp256k1_ecdsa_signature_parse_compact(Secp256k1.context, &sig, signature) == 1
    }

    /// The low-S form of `signature` (`s` replaced by n - s when it was high); nil if it does not parse.
    public static func normalized(_ signature: [UInt8]) -> [UInt8]? {
        guard signature.count == 64 else { return nil }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1.context, &sig, signature) == 1 else { return nil }
        var low = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_normalize(Secp256k1.context, &low, &sig)
        var out = [UInt8](repeating: 0, count: 64)
        _ = secp256k1_ecdsa_signature_serialize_compact(Secp256k1.context, &out, &low)
        return out
    }
}

/// A secp256k1 public key; serialized compressed (33 bytes) as Lightning node ids are.
public struct PublicKey: Sendable, Equatable, Hashable {
    /// The 33-byte compressed SEC 1 encoding.
    public let compressed: [UInt8]

    /// The parsed point, kept so verification does not decompress the key again.
    let raw: secp256k1_pubkey

    init(raw: secp256k1_pubkey) {
        var raw = raw
        var out = [UInt8](repeating: 0, count: 33)
        var len = 33
        _ = secp256k1_ec_pubkey_serialize(Secp256k1.context, &out, &len, &raw, UInt32(SECP256K1_EC_COMPRESSED))
        compressed = out
        self.raw = raw
    }

    public static func == (a: PublicKey, b: PublicKey) -> Bool { a.compressed == b.compressed }
    public func hash(into hasher: inout Hasher) { hasher.combine(compressed) }

    /// Parses a compressed (33-byte) or uncompressed (65-byte) SEC 1 public key.
    public init(serialized bytes: [UInt8]) throws(Secp256k1.Error) {
        var pk = secp256k1_pubkey()
        guard bytes.count == 33 || bytes.count == 65,
              secp256k1_ec_pubkey_parse(Secp256k1.context, &pk, bytes, bytes.count) == 1 else {
            throw .invalidPublicKey
        }
        if bytes.count == 33 {
            // Already the canonical compressed form (libsecp256k1 accepted the 02/03 prefix and x).
            self.init(raw: pk, compressed: bytes)
        } else {
            self.init(raw: pk)
        }
    }

    init(raw: secp256k1_pubkey, compressed: [UInt8]) {
        self.raw = raw
        self.compressed = compressed
    }


    /// Verifies a 64-byte compact signature over a 32-byte hash. High-S signatures are refused
    /// unless `allowHighS` (libsecp256k1 verifies only normalized signatures).
    public func verify(signature: [UInt8], hash: [UInt8], allowHighS: Bool = false) -> Bool {
        guard signature.count == 64, hash.count == 32 else { return false }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1.context, &sig, signature) == 1 else { return false }
        if allowHighS {
            var normalized = secp256k1_ecdsa_signature()
            _ = secp256k1_ecdsa_signature_normalize(Secp256k1.context, &normalized, &sig)
            sig = normalized
        }
        var pk = raw
        return secp256k1_ecdsa_verify(Secp256k1.context, &sig, hash, &pk) == 1
    }

    /// True when `bytes` is a valid compressed (33-byte) or uncompressed (65-byte) SEC 1 point.
    public static func isValid(serialized bytes: [UInt8]) -> Bool {
        (try? PublicKey(serialized: bytes)) != nil
    }

    /// Recovers the signer's key from a compact recoverable signature over a 32-byte hash.
    public static func recover(signature: [UInt8], recoveryID: Int32, hash: [UInt8]) throws(Secp256k1.Error) -> PublicKey {
        guard signature.count == 64 else { throw .invalidSignature }
        guard (0...3).contains(recoveryID) else { throw .invalidRecoveryID }
        guard hash.count == 32 else { throw .invalidMessageHash }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(Secp256k1.context, &sig, signature, recoveryID) == 1 else {
            throw .invalidSignature
        }
        var pk = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(Secp256k1.context, &pk, &sig, hash) == 1 else { throw .recoveryFailed }
        return PublicKey(raw: pk)
    }
}
