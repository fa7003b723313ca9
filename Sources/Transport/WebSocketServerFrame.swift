/// One complete RFC 6455 §5.2 frame as a server sends it (FIN set, never masked), ready for the
/// wire. Built once, it can be queued on any number of WebSockets: the bytes are shared (a fan-out
/// of one update to thousands of streams frames it once, not per stream).
///
/// The bytes are written by libwslay (`wslay_frame_send`, whose `send_callback` appends header and
/// payload to `bytes`) through the building thread's frame context (`WslayFrameSender`).
public struct WebSocketServerFrame: Sendable {
    /// Header + payload.
    public let bytes: [UInt8]

    /// A frame with `opcode` (1 text, 2 binary, 8 close, 9 ping, 10 pong) and `payload`; a control
    /// frame's (8, 9, 10) payload is at most 125 bytes (RFC 6455 §5.5).
    public init(opcode: UInt8, payload: some Collection<UInt8>) {
        bytes = payload.withContiguousStorageIfAvailable { Self.build(opcode: opcode, UnsafeRawBufferPointer($0)) }
            ?? Array(payload).withUnsafeBytes { Self.build(opcode: opcode, $0) }
    }

    /// A text message (`utf8` must be valid UTF-8).
    public init(text utf8: some Collection<UInt8>) { self.init(opcode: 1, payload: utf8) }

    /// A frame already written (see `WslayFrameSender.normalClosure`).
    private init(framed: [UInt8]) { bytes = framed }

    /// A close frame with `code` and `reason` (cut to 123 bytes on a character boundary), or an
    /// empty one without a code.
    static func close(code: UInt16?, reason: String = "") -> WebSocketServerFrame {
        guard let code else { return WebSocketServerFrame(opcode: 8, payload: EmptyCollection()) }
        if code == 1000 && reason.isEmpty, let sender = WslayFrameSender.current {
            return WebSocketServerFrame(framed: sender.normalClosure)   // every stream's end: this thread's own
        }
        var r = Array(reason.utf8.prefix(123))
        while String(validating: r, as: UTF8.self) == nil { r.removeLast() }
        return WebSocketServerFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xff)] + r)
    }

    /// Header and payload written by `wslay_frame_send` (fin, no RSV, unmasked) into a new array.
    private static func build(opcode: UInt8, _ payload: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        let sent = WslayFrameSender.current?.write(opcode: opcode, payload: payload, to: &out) ?? -1
        // wslay refuses only a control frame over 125 bytes (a caller's bug) or fails to allocate.
        precondition(sent == payload.count, "wslay_frame_send: \(sent)")
        return out
    }
}
