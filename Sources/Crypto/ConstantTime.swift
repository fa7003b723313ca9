import COpenSSL

/// Comparisons of secrets whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True when `a` and `b` are equal. Lengths are not secret; contents are compared with
    /// `CRYPTO_memcmp`.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in
            CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0
        } }
    }
}
