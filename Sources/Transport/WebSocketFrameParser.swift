/// RFC 6455 §5 frames from a client, parsed incrementally (bytes in any pieces), without a
/// socket: complete messages and control frames out, or the close code of the first violation.
///
/// Rules (each violation ends parsing with its close code; the session sends it):
/// - §5.1/§5.3: every client frame is masked, else 1002; RSV bits must be 0 (no extension is
///   negotiated), else 1002; opcodes other than 0, 1, 2, 8, 9, 10 -> 1002.
/// - §5.4: a continuation frame without a message begun, or a new text/binary frame while one is
///   unfinished -> 1002; control frames may come between fragments.
/// - §5.5: control frames are never fragmented and carry at most 125 bytes, else 1002; a close
///   frame's body is empty or a valid code (§7.4) then UTF-8 text, else 1002 (1007 for the text).
/// - §5.2: a 64-bit length with the top bit set -> 1002.
/// - A message (fragments reassembled) over `maxMessageBytes` -> 1009, decided from the frame
///   header before its payload is buffered.
/// UTF-8 of text messages is the session's check (1007), on the complete message.
///
/// Memory: a message's payload is buffered only while it is incomplete; a control frame's (at
/// most 125 bytes) while it arrives; the header in 14 bytes of fixed storage.
struct WebSocketFrameParser {
    /// What a frame or a completed message means for the session.
    enum Event {
        /// A complete text (1) or binary (2) message, unmasked and reassembled.
        case message(opcode: UInt8, payload: [UInt8])
        case ping([UInt8])
        case pong([UInt8])
        /// A close frame: its code (nil when the body was empty: RFC 6455 §7.1.5 "1005") and reason.
        case close(code: UInt16?, reason: [UInt8])
        /// The peer broke the protocol: close with this code (1002, 1007, 1009).
        case violation(UInt16)
    }

    /// Where the parser stands.
    enum State: Equatable {
        /// Collecting a frame header (the count of its bytes seen so far is `headerSeen`).
        case header
        /// Reading the current frame's payload (`payloadLeft` bytes to come).
        case payload
        /// A close frame or a violation ended parsing: further input is ignored.
        case done
    }

    let maxMessageBytes: Int
    private(set) var state = State.header

    // Header storage (at most 2 + 8 + 4 bytes) and what was decoded from it.
    private var head: (UInt64, UInt64) = (0, 0)
    private var headerSeen = 0
    private var fin = false
    private var opcode: UInt8 = 0
    private var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    private var maskOffset = 0
    private var payloadLeft = 0
    /// The data message being reassembled (opcode 1 or 2; 0: none).
    private var messageOpcode: UInt8 = 0
    private var message: [UInt8] = []
    /// The control frame being received.
    private var control: [UInt8] = []

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// True while a data message is partly received.
    var inMessage: Bool { messageOpcode != 0 }

    /// Parses `bytes`, calling `emit` for each event in order. After `.close` or `.violation`
    /// nothing more is parsed or emitted.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .done:
                return
            case .header:
                headerByte(bytes[i], at: headerSeen)
                headerSeen += 1
                i += 1
                if headerSeen == 2, let e = checkFirstTwo() { finish(e, emit); return }
                if headerSeen >= 2 && headerSeen == headerLength {
                    if let e = headerComplete() { finish(e, emit); return }
                    if payloadLeft == 0, let e = frameComplete() {
                        if case .violation = e { finish(e, emit); return }
                        emit(e)
                        if case .close = e { state = .done; return }
                    }
                }
            case .payload:
                let take = min(payloadLeft, n - i)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])
                if opcode >= 8 {
                    WebSocketFrameParser.appendUnmasked(chunk, to: &control, mask: mask, offset: &maskOffset)
                } else {
                    WebSocketFrameParser.appendUnmasked(chunk, to: &message, mask: mask, offset: &maskOffset)
                }
                payloadLeft -= take
                i += take
                if payloadLeft == 0 {
                    state = .header
                    if let e = frameComplete() {
                        if case .violation = e { finish(e, emit); return }
                        emit(e)
                        if case .close = e { state = .done; return }
                    }
                }
            }
        }
    }

    private mutating func finish(_ e: Event, _ emit: (Event) -> Void) {
        state = .done
        message = []; control = []
        emit(e)
    }

    private mutating func headerByte(_ b: UInt8, at i: Int) {
        withUnsafeMutableBytes(of: &head) { $0[i] = b }
    }

    private func headerAt(_ i: Int) -> UInt8 { withUnsafeBytes(of: head) { $0[i] } }

    /// Bytes of the whole header, known once the first two are in.
    private var headerLength: Int {
        let len7 = headerAt(1) & 0x7f
        return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4
    }

    /// Checks the first two bytes (fin/rsv/opcode, mask bit/length).
    private mutating func checkFirstTwo() -> Event? {
        let b0 = headerAt(0), b1 = headerAt(1)
        fin = b0 & 0x80 != 0
        opcode = b0 & 0x0f
        if b0 & 0x70 != 0 { return .violation(1002) }                   // RSV1-3 without an extension
        if b1 & 0x80 == 0 { return .violation(1002) }                   // client frames must be masked
        switch opcode {
        case 0:
            if messageOpcode == 0 { return .violation(1002) }           // continuation of nothing
        case 1, 2:
            if messageOpcode != 0 { return .violation(1002) }           // a new message inside one
        case 8, 9, 10:
            if !fin || b1 & 0x7f > 125 { return .violation(1002) }      // control frames: whole, <= 125 bytes
        default:
            return .violation(1002)
        }
        return nil
    }

    /// The header is complete: decode the length and mask, check the message limit.
    private mutating func headerComplete() -> Event? {
        headerSeen = 0
        let len7 = Int(headerAt(1) & 0x7f)
        var length = 0
        var m = 2
        if len7 == 126 {
            length = Int(headerAt(2)) << 8 | Int(headerAt(3)); m = 4
        } else if len7 == 127 {
            var l: UInt64 = 0
            for k in 2..<10 { l = l << 8 | UInt64(headerAt(k)) }
            if l >> 63 != 0 { return .violation(1002) }
            if l > UInt64(Int.max / 2) { return .violation(1009) }
            length = Int(l); m = 10
        } else {
            length = len7
        }
        mask = (headerAt(m), headerAt(m + 1), headerAt(m + 2), headerAt(m + 3))
        maskOffset = 0
        head = (0, 0)
        if opcode < 8 {
            if length > maxMessageBytes - message.count { return .violation(1009) }
            if opcode != 0 { messageOpcode = opcode }
        }
        payloadLeft = length
        state = length > 0 ? .payload : .header
        return nil
    }

    /// RFC 6455 §5.3: payload byte i is XORed with mask byte (i mod 4).
    private static func appendUnmasked(_ chunk: UnsafeRawBufferPointer, to buf: inout [UInt8],
                                       mask: (UInt8, UInt8, UInt8, UInt8), offset: inout Int) {
        let start = buf.count
        buf.append(contentsOf: chunk)
        var off = offset
        buf.withUnsafeMutableBufferPointer { b in
            withUnsafeBytes(of: mask) { key in
                for j in start..<b.count { b[j] ^= key[off & 3]; off &+= 1 }
            }
        }
        offset = off & 3
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
