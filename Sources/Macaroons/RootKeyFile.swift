import Crypto

/// The on-disk encoding of the root key store (`macaroons.rootkeys`, mode 0600).
///
/// Plain form:   `"PTRK1\n"` ‖ records
/// Sealed form:  `"PTRKS1\n"` ‖ salt(16) ‖ iterations(u32 BE) ‖ ciphertext ‖ tag(32)
/// Records:      repeated `varint(len(id)) id varint(32) key`
///
/// Sealing (when a password is given): `PBKDF2-HMAC-SHA256(password, salt, iterations)` yields
/// 64 bytes = encryption key ‖ MAC key; the records are XORed with the keystream
/// `HMAC-SHA256(encKey, u64be(0)) ‖ HMAC-SHA256(encKey, u64be(1)) ‖ …` (HMAC as a PRF in
/// counter mode) and authenticated encrypt-then-MAC with
/// `tag = HMAC-SHA256(macKey, header ‖ ciphertext)`, compared in constant time. A fresh salt on
/// every write gives fresh keys, so a keystream is never reused. HMAC-SHA256 is OpenSSL's (via
/// Crypto); the module has no direct AES binding, hence this PRF-based construction.
enum RootKeyFile {
    static let plainMagic = Array("PTRK1\n".utf8)
    static let sealedMagic = Array("PTRKS1\n".utf8)
    static let maximumSize = 1 << 20
    static let minimumIterations = 1

    static func encodeRecords(_ keys: [([UInt8], [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (id, key) in keys {
            Macaroon.appendVarint(&out, UInt64(id.count)); out += id
            Macaroon.appendVarint(&out, UInt64(key.count)); out += key
        }
        return out
    }

    static func decodeRecords(_ data: ArraySlice<UInt8>) throws(MacaroonError) -> [([UInt8], [UInt8])] {
        var parser = BinaryV2Parser(data: Array(data), offset: 0)
        var out: [([UInt8], [UInt8])] = []
        do {
            while parser.offset < parser.data.count {
                let idLen = Int(try parser.parseVarint())
                guard idLen <= parser.data.count - parser.offset else { throw FormatError("truncated") }
                let id = Array(parser.data[parser.offset..<(parser.offset + idLen)]); parser.offset += idLen
                let keyLen = Int(try parser.parseVarint())
                guard keyLen == 32, keyLen <= parser.data.count - parser.offset else { throw FormatError("bad key") }
                let key = Array(parser.data[parser.offset..<(parser.offset + keyLen)]); parser.offset += keyLen
                out.append((id, key))
            }
        } catch {
            throw MacaroonError("root key file is corrupt")
        }
        return out
    }

    static func encode(_ keys: [([UInt8], [UInt8])], password: [UInt8]?, iterations: Int) -> [UInt8] {
        let records = encodeRecords(keys)
        guard let password else { return plainMagic + records }
        let salt = SecureRandom.bytes(16)
        var header = sealedMagic + salt
        let it = UInt32(iterations)
        header += [UInt8(it >> 24), UInt8(it >> 16 & 0xff), UInt8(it >> 8 & 0xff), UInt8(it & 0xff)]
        let (encKey, macKey) = deriveKeys(password: password, salt: salt, iterations: iterations)
        let ciphertext = xorKeystream(records, key: encKey)
        let tag = HMACSHA256.authenticate(key: macKey, message: header + ciphertext)
        return header + ciphertext + tag
    }

    static func decode(_ data: [UInt8], password: [UInt8]?) throws(MacaroonError) -> (keys: [([UInt8], [UInt8])], sealed: Bool) {
        if data.starts(with: plainMagic) {
            return (try decodeRecords(data[plainMagic.count...]), false)
        }
        guard data.starts(with: sealedMagic) else { throw MacaroonError("root key file is corrupt") }
        let headerLength = sealedMagic.count + 16 + 4
        guard data.count >= headerLength + 32 else { throw MacaroonError("root key file is corrupt") }
        guard let password else { throw MacaroonError("macaroon store is locked") }
        let salt = Array(data[sealedMagic.count..<(sealedMagic.count + 16)])
        let itBytes = data[(sealedMagic.count + 16)..<headerLength]
        let iterations = itBytes.reduce(0) { $0 << 8 | Int($1) }
        guard iterations >= minimumIterations, iterations <= 10_000_000 else { throw MacaroonError("root key file is corrupt") }
        let (encKey, macKey) = deriveKeys(password: password, salt: salt, iterations: iterations)
        let body = Array(data[..<(data.count - 32)])
        let tag = Array(data[(data.count - 32)...])
        guard ConstantTime.equals(HMACSHA256.authenticate(key: macKey, message: body), tag) else {
            throw MacaroonError("invalid password")
        }
        let records = xorKeystream(Array(body[headerLength...]), key: encKey)
        return (try decodeRecords(records[...]), true)
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018) for 64 bytes, split into two 32-byte keys.
    static func deriveKeys(password: [UInt8], salt: [UInt8], iterations: Int) -> ([UInt8], [UInt8]) {
        func block(_ index: UInt32) -> [UInt8] {
            var u = HMACSHA256.authenticate(key: password, message: salt + [UInt8(index >> 24), UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff)])
            var t = u
            if iterations > 1 {
                for _ in 1..<iterations {
                    u = HMACSHA256.authenticate(key: password, message: u)
                    for k in 0..<32 { t[k] ^= u[k] }
                }
            }
            return t
        }
        return (block(1), block(2))
    }

    static func xorKeystream(_ data: [UInt8], key: [UInt8]) -> [UInt8] {
        var out = data
        var counter: UInt64 = 0
        var i = 0
        while i < out.count {
            var c: [UInt8] = []
            for s in stride(from: 56, through: 0, by: -8) { c.append(UInt8(truncatingIfNeeded: counter >> UInt64(s))) }
            let ks = HMACSHA256.authenticate(key: key, message: c)
            for k in 0..<min(32, out.count - i) { out[i + k] ^= ks[k] }
            i += 32
            counter += 1
        }
        return out
    }
}
