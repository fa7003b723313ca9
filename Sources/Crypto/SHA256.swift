import COpenSSL

/// SHA-256 (FIPS 180-4) over OpenSSL's one-shot digest.
public enum SHA256 {
    public static let digestSize = 32

    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestSize) { out, count in
            _ = COpenSSL.SHA256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, out.baseAddress)
            count = digestSize
        }
    }

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        if let r = data.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(data).withUnsafeBytes { hash($0) }
    }
}
