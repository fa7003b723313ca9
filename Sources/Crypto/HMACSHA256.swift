import COpenSSL

/// HMAC-SHA256 (RFC 2104) over OpenSSL.
public enum HMACSHA256 {
    public static let macSize = 32

    public static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { m in authenticate(key: k, message: m) } }
    }

    public static func authenticate(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: macSize) { out, count in
            var len: UInt32 = 0
            // A nil key pointer with length 0 is valid for OpenSSL only with a non-nil pointer.
            var empty: UInt8 = 0
            let keyPtr = key.baseAddress ?? UnsafeRawPointer(&empty)
            _ = HMAC(EVP_sha256(), keyPtr, Int32(key.count),
                     message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
                     out.baseAddress, &len)
            count = Int(len)
        }
    }
}
