import COpenSSL

/// HMAC-SHA256 (RFC 2104) over OpenSSL, with the digest fetched once (`FetchedDigest`).
public enum HMACSHA256 {
    public static let macSize = 32

    public static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { m in authenticate(key: k, message: m) } }
    }

    public static func authenticate(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: macSize) { out, count in
            var len: UInt32 = 0
            // OpenSSL wants a non-nil key pointer even for an empty key.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                let keyPtr = key.baseAddress ?? UnsafeRawPointer(empty.baseAddress!)
                _ = HMAC(FetchedDigest.sha256, keyPtr, Int32(key.count),
                         message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
                         out.baseAddress, &len)
            }
            count = Int(len)
        }
    }
}
