import COpenSSL
import LightningPrimitives

/// RFC 6455 §4.2.2 server handshake values, and the checks both HTTP versions make before
/// accepting an opening handshake (RFC 6455 §4.2.1 on HTTP/1.1, RFC 8441 §5 on HTTP/2).
enum WebSocketHandshake {
    /// The answer to an opening handshake the server will not accept: an HTTP status, its header
    /// fields and a short text body, written as a plain response by either HTTP version.
    struct Refusal {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]

        init(status: Int, headers: HTTPHeaders = HTTPHeaders([("Content-Type", "text/plain")]), text: String) {
            self.status = status
            self.headers = headers
            self.body = Array(text.utf8)
        }
    }

    /// The refusal for a request whose opening handshake cannot be accepted with `subprotocol`, or nil
    /// when it can: not a WebSocket request at all (400); a `Sec-WebSocket-Version` other than 13
    /// (426 naming version 13, RFC 6455 §4.4); a subprotocol chosen that the client did not offer
    /// in `Sec-WebSocket-Protocol` (400: RFC 6455 §4.2.2 allows only an offered one). The
    /// version-specific parts (HTTP/1.1's `Sec-WebSocket-Key`) are the caller's.
    static func refusal(isWebSocketRequest: Bool, headers: HTTPHeaders, subprotocol: String?) -> Refusal? {
        guard isWebSocketRequest else { return Refusal(status: 400, text: "not a WebSocket upgrade\n") }
        guard headers["Sec-WebSocket-Version"]?.trimmingASCIIWhitespace == "13" else {
            return Refusal(status: 426, headers: HTTPHeaders([("Sec-WebSocket-Version", "13")]), text: "")
        }
        if let subprotocol {
            let offered = headers.values("Sec-WebSocket-Protocol").lazy.flatMap { $0.split(separator: ",") }
            guard offered.contains(where: { $0.trimmingASCIIWhitespace == subprotocol }) else {
                return Refusal(status: 400, text: "subprotocol not offered\n")
            }
        }
        return nil
    }

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
