import COpenSSL

/// Cryptographically secure random bytes (OpenSSL `RAND_bytes`, seeded from the OS).
public enum SecureRandom {
    /// `count` random bytes. Traps only if OpenSSL's generator cannot be seeded, in which case no
    /// key material may be produced at all.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0)
        return [UInt8](unsafeUninitializedCapacity: count) { out, n in
            if count > 0 {
                precondition(RAND_bytes(out.baseAddress, Int32(count)) == 1, "RAND_bytes failed")
            }
            n = count
        }
    }

    /// A uniformly random UInt64.
    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
