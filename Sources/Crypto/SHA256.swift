import COpenSSL

/// SHA-256 (FIPS 180-4) over OpenSSL, with the digest fetched once (`FetchedDigest`).
public enum SHA256 {
    public static let digestSize = 32

    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestSize) { out, count in
            var len: UInt32 = 0
            // An empty input still needs a valid pointer.
            let empty: UInt8 = 0
            let ok = withUnsafePointer(to: empty) { e in
                EVP_Digest(data.baseAddress ?? UnsafeRawPointer(e), data.count, out.baseAddress, &len,
                           FetchedDigest.sha256, nil)
            }
            precondition(ok == 1 && len == 32, "OpenSSL SHA-256 failed")
            count = digestSize
        }
    }

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        if let r = data.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(data).withUnsafeBytes { hash($0) }
    }
}
