/// One complete RFC 6455 §5.2 frame as a server sends it (FIN set, never masked), ready for the
/// wire. Built once, it can be queued on any number of WebSockets: the bytes are shared (a fan-out
/// of one update to thousands of streams frames it once, not per stream).
public struct WebSocketServerFrame: Sendable {
    /// Header + payload.
    public let bytes: [UInt8]

    /// A frame with `opcode` (1 text, 2 binary, 8 close, 9 ping, 10 pong) and `payload`.
    public init(opcode: UInt8, payload: some Collection<UInt8>) {
        let n = payload.count
        var b: [UInt8] = []
        b.reserveCapacity(n + 10)
        b.append(0x80 | opcode)
        if n < 126 {
            b.append(UInt8(n))
        } else if n <= 0xffff {
            b.append(126); b.append(UInt8(n >> 8)); b.append(UInt8(n & 0xff))
        } else {
            b.append(127)
            for i in (0..<8).reversed() { b.append(UInt8(truncatingIfNeeded: UInt64(n) >> (8 * UInt64(i)))) }
        }
        b.append(contentsOf: payload)
        bytes = b
    }

    /// A text message (`utf8` must be valid UTF-8).
    public init(text utf8: some Collection<UInt8>) { self.init(opcode: 1, payload: utf8) }

    /// Close 1000 without a reason, built once.
    static let normalClosure = WebSocketServerFrame(opcode: 8, payload: [0x03, 0xe8])

    /// A close frame with `code` and `reason` (cut to 123 bytes on a character boundary), or an
    /// empty one without a code.
    static func close(code: UInt16?, reason: String = "") -> WebSocketServerFrame {
        guard let code else { return WebSocketServerFrame(opcode: 8, payload: EmptyCollection()) }
        if code == 1000 && reason.isEmpty { return normalClosure }   // every stream's end: shared
        var r = Array(reason.utf8.prefix(123))
        while String(validating: r, as: UTF8.self) == nil { r.removeLast() }
        return WebSocketServerFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xff)] + r)
    }
}
