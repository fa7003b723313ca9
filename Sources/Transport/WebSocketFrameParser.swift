/// RFC 6455 §5 frames from a client, parsed incrementally (bytes in any pieces), without a
/// socket: complete messages and control frames out, or the close code of the first violation.
///
/// Framing is libwslay's (`wslay_frame_recv` through `WslayFrameReceiver`): header decode, the
/// 16/64-bit lengths, unmasking. Its `WSLAY_ERR_PROTO` (a fragmented or over-125-byte control
/// frame, a length not in its minimal encoding, a 64-bit length with the top bit set) -> 1002.
///
/// Our rules, on the header wslay reports (each violation ends parsing with its close code; the
/// session sends it):
/// - §5.1/§5.3: every client frame is masked, else 1002; RSV bits must be 0 (no extension is
///   negotiated), else 1002; opcodes other than 0, 1, 2, 8, 9, 10 -> 1002.
/// - §5.4: a continuation frame without a message begun, or a new text/binary frame while one is
///   unfinished -> 1002; control frames may come between fragments.
/// - §5.5: a close frame's body is empty or a valid code (§7.4) then UTF-8 text, else 1002 (1007
///   for the text).
/// - A message (fragments reassembled) over `maxMessageBytes` -> 1009, decided from the frame's
///   declared length when wslay reports the frame (with its first payload byte, or at once for a
///   0-length frame), before any of its payload is buffered.
/// These header verdicts come when wslay reports the frame, i.e. with its first payload byte: a
/// frame header alone, its payload still to come, has no verdict yet.
/// UTF-8 of text messages is the session's check (1007), on the complete message.
///
/// Memory: libwslay's frame context (≈ 4.2 KB, its 4,096-byte input buffer) exists only while a
/// frame is partly received: created when bytes arrive with none present, freed as soon as every
/// byte handed to it belongs to a completely reported frame. An idle WebSocket (between frames)
/// holds no wslay memory. A message's payload is buffered only while it is incomplete; a control
/// frame's (at most 125 bytes) while it arrives.
struct WebSocketFrameParser {
    /// What a frame or a completed message means for the session.
    enum Event {
        /// A complete text (1) or binary (2) message, unmasked and reassembled.
        case message(opcode: UInt8, payload: [UInt8])
        case ping([UInt8])
        case pong([UInt8])
        /// A close frame: its code (nil when the body was empty: RFC 6455 §7.1.5 "1005") and reason.
        case close(code: UInt16?, reason: [UInt8])
        /// The peer broke the protocol: close with this code (1002, 1007, 1009; 1011 when wslay's
        /// context could not be allocated).
        case violation(UInt16)
    }

    /// Where the parser stands.
    enum State: Equatable {
        /// Between frames, or a frame's header is arriving (nothing of it reported yet).
        case header
        /// Reading the current frame's payload (part of it reported).
        case payload
        /// A close frame or a violation ended parsing: further input is ignored.
        case done
    }

    let maxMessageBytes: Int
    private(set) var state = State.header

    /// libwslay's frame context, present only while a frame is partly received.
    private var framing: WslayFrameReceiver?
    /// The current frame, from its header.
    private var fin = false
    private var opcode: UInt8 = 0
    /// The data message being reassembled (opcode 1 or 2; 0: none).
    private var messageOpcode: UInt8 = 0
    private var message: [UInt8] = []
    /// The control frame being received.
    private var control: [UInt8] = []

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// True while a data message is partly received.
    var inMessage: Bool { messageOpcode != 0 }

    /// True while libwslay's frame context is allocated (a frame is partly received).
    var holdsFrameContext: Bool { framing != nil }

    /// Parses `bytes`, calling `emit` for each event in order. After `.close` or `.violation`
    /// nothing more is parsed or emitted.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) -> Void) {
        guard state != .done, !bytes.isEmpty else { return }
        if framing == nil {
            guard let created = WslayFrameReceiver() else { finish(.violation(1011), emit); return }
            framing = created
        }
        let frames = framing!
        frames.receive(bytes)
        while true {
            switch frames.next() {
            case .needMore:
                if frames.atFrameBoundary { framing = nil }
                return
            case .protocolError:
                finish(.violation(1002), emit); return
            case .frame(let header, let data, let first, let last):
                if first, let e = frameBegins(header) { finish(e, emit); return }
                if opcode >= 8 { control.append(contentsOf: data) } else { message.append(contentsOf: data) }
                guard last else { state = .payload; continue }
                state = .header
                if let e = frameComplete() {
                    if case .violation = e { finish(e, emit); return }
                    emit(e)
                    if case .close = e { state = .done; framing = nil; return }
                }
            }
        }
    }

    private mutating func finish(_ e: Event, _ emit: (Event) -> Void) {
        state = .done
        framing = nil
        message = []; control = []
        emit(e)
    }

    /// A frame's header, as wslay decoded it: our rules, and the message limit from its declared length.
    private mutating func frameBegins(_ h: WslayFrameReceiver.Header) -> Event? {
        if h.rsv != 0 { return .violation(1002) }                       // RSV1-3 without an extension
        if !h.masked { return .violation(1002) }                        // client frames must be masked
        switch h.opcode {
        case 0:
            if messageOpcode == 0 { return .violation(1002) }           // continuation of nothing
        case 1, 2:
            if messageOpcode != 0 { return .violation(1002) }           // a new message inside one
        case 8, 9, 10:
            break                                                       // whole and <= 125 bytes: wslay's check
        default:
            return .violation(1002)
        }
        fin = h.fin
        opcode = h.opcode
        if opcode < 8 {
            if h.payloadLength > UInt64(maxMessageBytes - message.count) { return .violation(1009) }
            if opcode != 0 { messageOpcode = opcode }
        }
        return nil
    }

    /// A frame's payload is complete: the event it makes, if any.
    private mutating func frameComplete() -> Event? {
        switch opcode {
        case 8:
            let body = control; control = []
            if body.isEmpty { return .close(code: nil, reason: []) }
            if body.count == 1 { return .violation(1002) }
            let code = UInt16(body[0]) << 8 | UInt16(body[1])
            guard WebSocketFrameParser.isValidReceivedCloseCode(code) else { return .violation(1002) }
            let reason = Array(body[2...])
            guard String(validating: reason, as: UTF8.self) != nil else { return .violation(1007) }
            return .close(code: code, reason: reason)
        case 9:
            let body = control; control = []
            return .ping(body)
        case 10:
            let body = control; control = []
            return .pong(body)
        default:
            guard fin else { return nil }
            let op = messageOpcode
            let payload = message
            message = []; messageOpcode = 0
            return .message(opcode: op, payload: payload)
        }
    }

    /// RFC 6455 §7.4: codes a peer may send (1004-1006 and 1015 are reserved, 1016-2999 unassigned).
    static func isValidReceivedCloseCode(_ c: UInt16) -> Bool {
        switch c {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
