import COpenSSL

/// OpenSSL 3 digest implementations fetched once per process.
///
/// OpenSSL 3's one-shot helpers (`SHA256()`, `HMAC(EVP_sha256(), ...)`) look the algorithm up in
/// the provider store on every call ("implicit fetch"), which costs more than hashing a few
/// hundred bytes. An explicitly fetched `EVP_MD` is immutable, reference-counted and safe to
/// share between threads (OpenSSL's "Performance" guide recommends exactly this).
enum FetchedDigest {
    /// SHA-256 from the default provider; nil only if OpenSSL cannot provide it at all.
    nonisolated(unsafe) static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
}
