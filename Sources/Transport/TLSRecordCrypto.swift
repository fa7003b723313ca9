import COpenSSL
import Glibc

/// The TLS 1.3 cipher suites the compact record layer can take over (RFC 8446 §B.4), with the
/// sizes of their keys and hashes. Every operation on them is OpenSSL's (EVP AEAD, HKDF).
enum TLSRecordCipher: UInt16, Sendable {
    case aes128GCMSHA256 = 0x1301
    case aes256GCMSHA384 = 0x1302
    case chacha20Poly1305SHA256 = 0x1303

    var keyLength: Int { self == .aes128GCMSHA256 ? 16 : 32 }
    /// Length of the traffic secrets (the suite's hash output).
    var secretLength: Int { self == .aes256GCMSHA384 ? 48 : 32 }
    static let ivLength = 12
    static let tagLength = 16

    var digest: OpaquePointer { self == .aes256GCMSHA384 ? EVP_sha384() : EVP_sha256() }

    /// RFC 8446 §7.1 HKDF-Expand-Label(secret, label, "", length), through OpenSSL's HKDF
    /// (expand only). Returns nil only if OpenSSL fails.
    func expandLabel(_ secret: UnsafeRawBufferPointer, _ label: String, length: Int) -> [UInt8]? {
        // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255> = "" } HkdfLabel
        var info: [UInt8] = [UInt8(length >> 8), UInt8(length & 0xff)]
        let full = Array(("tls13 " + label).utf8)
        info.append(UInt8(full.count)); info += full; info.append(0)
        guard let pctx = EVP_PKEY_CTX_new_id(PT_EVP_PKEY_HKDF, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(pctx) }
        var out = [UInt8](repeating: 0, count: length)
        var outLen = length
        guard EVP_PKEY_derive_init(pctx) == 1,
              EVP_PKEY_CTX_set_hkdf_mode(pctx, PT_HKDF_MODE_EXPAND_ONLY) == 1,
              EVP_PKEY_CTX_set_hkdf_md(pctx, digest) == 1,
              EVP_PKEY_CTX_set1_hkdf_key(pctx, secret.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(secret.count)) == 1,
              EVP_PKEY_CTX_add1_hkdf_info(pctx, info, Int32(info.count)) == 1,
              EVP_PKEY_derive(pctx, &out, &outLen) == 1, outLen == length
        else { ERR_clear_error(); return nil }
        return out
    }
}

/// One loop's AEAD context, shared by every connection of that loop that runs the compact
/// record layer (`TLSRecordLayer`): each record is sealed or opened after (re)keying it with the
/// connection's key and nonce, so a connection holds only its keys, never an OpenSSL object.
/// Confined to its loop's thread.
final class TLSRecordCrypto {
    private let ctx: OpaquePointer
    private var ciphers: [OpaquePointer?] = [nil, nil, nil]
    private var current: (cipher: TLSRecordCipher, encrypt: Bool)?

    init() { ctx = EVP_CIPHER_CTX_new()! }

    private static let threadKey: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in if let p { Unmanaged<TLSRecordCrypto>.fromOpaque(p).release() } }
        return k
    }()

    /// The calling thread's context (an event loop's thread: one per loop), made on first use.
    static var forCurrentThread: TLSRecordCrypto {
        if let p = pthread_getspecific(threadKey) { return Unmanaged<TLSRecordCrypto>.fromOpaque(p).takeUnretainedValue() }
        let c = TLSRecordCrypto()
        pthread_setspecific(threadKey, Unmanaged.passRetained(c).toOpaque())
        return c
    }

    deinit {
        EVP_CIPHER_CTX_free(ctx)
        for c in ciphers { if let c { EVP_CIPHER_free(c) } }
    }

    private func evpCipher(_ c: TLSRecordCipher) -> OpaquePointer? {
        let i = Int(c.rawValue - 0x1301)
        if let e = ciphers[i] { return e }
        let name = c == .aes128GCMSHA256 ? "AES-128-GCM" : c == .aes256GCMSHA384 ? "AES-256-GCM" : "ChaCha20-Poly1305"
        ciphers[i] = EVP_CIPHER_fetch(nil, name, nil)
        return ciphers[i]
    }

    /// Keys the context for one record (`nonce` is the per-record nonce, RFC 8446 §5.3).
    private func begin(_ c: TLSRecordCipher, encrypt: Bool, key: UnsafePointer<UInt8>, nonce: UnsafePointer<UInt8>) -> Bool {
        let enc: Int32 = encrypt ? 1 : 0
        if let cur = current, cur.cipher == c {
            if EVP_CipherInit_ex(ctx, nil, nil, key, nonce, enc) == 1 { current = (c, encrypt); return true }
        } else if let e = evpCipher(c), EVP_CipherInit_ex(ctx, e, nil, key, nonce, enc) == 1 {
            current = (c, encrypt); return true
        }
        current = nil
        ERR_clear_error()
        return false
    }

    /// AEAD-seals `parts` (concatenated) into `out`, then the 16-byte tag after them, with `aad`.
    /// `out` must have room for the parts' total plus the tag.
    func seal(_ c: TLSRecordCipher, key: UnsafePointer<UInt8>, nonce: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer,
              _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard begin(c, encrypt: true, key: key, nonce: nonce) else { return false }
        var n: Int32 = 0
        var off = 0
        guard EVP_EncryptUpdate(ctx, nil, &n, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else { return fail() }
        if first.count > 0 {
            guard EVP_EncryptUpdate(ctx, out, &n, first.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(first.count)) == 1
            else { return fail() }
            off += Int(n)
        }
        if second.count > 0 {
            guard EVP_EncryptUpdate(ctx, out + off, &n, second.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(second.count)) == 1
            else { return fail() }
            off += Int(n)
        }
        guard EVP_EncryptFinal_ex(ctx, out + off, &n) == 1 else { return fail() }
        off += Int(n)
        return pt_EVP_CIPHER_CTX_get_tag(ctx, Int32(TLSRecordCipher.tagLength), out + off) == 1 || fail()
    }

    /// AEAD-opens `count` bytes at `data` in place; the tag follows them. False when the record
    /// does not authenticate.
    func open(_ c: TLSRecordCipher, key: UnsafePointer<UInt8>, nonce: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer,
              _ data: UnsafeMutablePointer<UInt8>, count: Int) -> Bool {
        guard begin(c, encrypt: false, key: key, nonce: nonce) else { return false }
        var n: Int32 = 0
        guard EVP_DecryptUpdate(ctx, nil, &n, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1,
              count == 0 || EVP_DecryptUpdate(ctx, data, &n, data, Int32(count)) == 1,
              pt_EVP_CIPHER_CTX_set_tag(ctx, Int32(TLSRecordCipher.tagLength), data + count) == 1
        else { return fail() }
        var m: Int32 = 0
        return EVP_DecryptFinal_ex(ctx, data + Int(n), &m) == 1 || fail()
    }

    private func fail() -> Bool { ERR_clear_error(); current = nil; return false }
}
