import COpenSSL
import LightningPrimitives

/// RFC 6455 §4.2.2 server handshake values.
enum WebSocketHandshake {
    /// The GUID every server appends to the client's key (RFC 6455 §1.3).
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for `key`: base64(SHA-1(key + GUID)); nil when `key` is not the
    /// base64 form of 16 bytes (RFC 6455 §4.1: a 24-character value ending in "==").
    static func acceptValue(forKey rawKey: String) -> String? {
        let key = String(rawKey.trimmingASCIIWhitespace)
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == UInt8(ascii: "="), bytes[23] == UInt8(ascii: "=") else { return nil }
        for c in bytes[0..<22] {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                continue
            default:
                return nil
            }
        }
        let input = bytes + Array(guid.utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        _ = input.withUnsafeBufferPointer { SHA1($0.baseAddress, $0.count, &digest) }
        return Base64.encode(digest)
    }
}
