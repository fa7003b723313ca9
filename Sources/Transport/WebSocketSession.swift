import CWslay

/// The server side of one WebSocket (RFC 6455) over libwslay's event API, without a socket:
/// bytes in (`receive`), bytes out (`produceWhile`), messages to a `WebSocketHandler`.
///
/// wslay enforces the framing rules: client frames must be masked (else close 1002),
/// fragments are reassembled up to `maxMessageBytes` (else close 1009), pings are answered with
/// pongs, a close frame is answered with one. This session adds UTF-8 validation of text
/// messages (close 1007), a ping every `pingInterval` with `pingPayload` and the end of the
/// connection when no pong follows within `pongWait` (close 1011), a bounded outgoing queue
/// (`send` returns false above `outputLimit`; `onWritable` fires when it drained), and a wait of
/// at most `closeWait` for the peer's close frame after ours.
/// Confined to the connection's loop thread.
public final class WebSocketSession: WebSocketChannel {
    /// Where the closing handshake stands.
    enum State: Equatable {
        case open
        /// `close` was called while messages were queued: they go out first (wslay sends control
        /// frames ahead of queued data, and nothing after a close frame), then the close frame.
        case draining(code: UInt16, reason: [UInt8])
        /// We sent (or queued) a close frame at the given time; waiting for the peer's.
        case closeSent(at: UInt64)
        /// Both close frames were exchanged, or the peer's arrived and ours answered it.
        case closed
        /// The connection must end now (pong timeout, fatal error); nothing more is sent.
        case failed
    }

    public let eventLoop: EventLoop
    public let subprotocol: String?
    public let configuration: WebSocketConfiguration
    let outputLimit: Int
    public var onWritable: (() -> Void)?
    public var peerAddress = ""
    var onNeedsFlush: (() -> Void)?
    private(set) var state = State.open
    private var handler: WebSocketHandler?
    private var ctx: OpaquePointer?
    private var input: UnsafeRawBufferPointer?
    private var sink: ((UnsafeRawBufferPointer) -> Bool)?
    private var sinkFull = false
    private var wantsWritable = false
    private var nextPingAt: UInt64
    private var pongDueAt: UInt64?

    public init(loop: EventLoop, handler: WebSocketHandler?, subprotocol: String?,
                configuration: WebSocketConfiguration = WebSocketConfiguration(), outputLimit: Int = 256 * 1024,
                now: UInt64 = monotonicNanos()) {
        eventLoop = loop; self.handler = handler; self.subprotocol = subprotocol
        self.configuration = configuration; self.outputLimit = outputLimit
        nextPingAt = now &+ configuration.pingIntervalNanos
        var cbs = wslay_event_callbacks()
        cbs.recv_callback = { _, buf, len, _, ud in session(ud).recv(buf!, len) }
        cbs.send_callback = { _, data, len, _, ud in session(ud).send(data!, len) }
        cbs.on_msg_recv_callback = { _, arg, ud in session(ud).message(arg!.pointee) }
        var c: OpaquePointer?
        _ = wslay_event_context_server_init(&c, &cbs, Unmanaged.passUnretained(self).toOpaque())
        ctx = c
        wslay_event_config_set_max_recv_msg_length(ctx, UInt64(configuration.maxMessageBytes))
    }

    deinit { if let ctx { wslay_event_context_free(ctx) } }

    // MARK: WebSocketChannel

    @discardableResult
    public func send(text: String) -> Bool { queue(opcode: UInt8(WSLAY_TEXT_FRAME.rawValue), Array(text.utf8)) }

    @discardableResult
    public func send(binary: [UInt8]) -> Bool { queue(opcode: UInt8(WSLAY_BINARY_FRAME.rawValue), binary) }

    public var isWritable: Bool { state == .open && queuedBytes < outputLimit }

    public func close(code: UInt16, reason: String) {
        guard state == .open, let ctx else { return }
        var r = Array(reason.utf8.prefix(123))
        while String(validating: r, as: UTF8.self) == nil { r.removeLast() }   // cut on a character boundary
        if wslay_event_get_queued_msg_count(ctx) > 0 {
            state = .draining(code: code, reason: r)
        } else {
            _ = wslay_event_queue_close(ctx, code, r, r.count)
            state = .closeSent(at: monotonicNanos())
        }
        notifyClosed(code: code, reason: reason)
        onNeedsFlush?()
    }

    // MARK: Connection side

    var queuedBytes: Int { ctx.map { Int(wslay_event_get_queued_msg_length($0)) } ?? 0 }

    /// True while input is wanted (false once reading ended: a close frame arrived, or an error).
    public var wantsInput: Bool { true }

    /// Processes received bytes. Returns false when the connection must end at once.
    public func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let ctx, state != .failed else { return false }
        if state == .closed || wslay_event_get_read_enabled(ctx) == 0 { return true }   // ignored
        input = bytes
        let r = wslay_event_recv(ctx)
        input = nil
        if r != 0 { fail(); return false }
        afterEvents()
        return true
    }

    /// Drains frames to send through `sink` until it returns false. Returns false when the
    /// connection must end at once.
    public func produceWhile(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard let ctx, state != .failed else { return false }
        if wslay_event_want_write(ctx) != 0 {
            let r: Int32 = withoutActuallyEscaping(sink) { s in
                self.sink = s; sinkFull = false
                defer { self.sink = nil }
                return wslay_event_send(ctx)
            }
            if r != 0 { fail(); return false }
        }
        if case .draining(let code, let reason) = state, wslay_event_get_queued_msg_count(ctx) == 0 {
            _ = wslay_event_queue_close(ctx, code, reason, reason.count)
            state = .closeSent(at: monotonicNanos())
            _ = withoutActuallyEscaping(sink) { s -> Int32 in
                self.sink = s; sinkFull = false
                defer { self.sink = nil }
                return wslay_event_send(ctx)
            }
        }
        afterEvents()
        if wantsWritable && queuedBytes < outputLimit && state == .open {
            wantsWritable = false
            onWritable?()
        }
        return true
    }

    /// True until the closing handshake is done or the connection failed.
    public var isAlive: Bool {
        guard let ctx else { return false }
        switch state {
        case .failed, .closed: return wslay_event_want_write(ctx) != 0 && state == .closed
        default: return true
        }
    }

    public var nextDeadline: UInt64? {
        switch state {
        case .open, .draining: return min(nextPingAt, pongDueAt ?? .max)
        case .closeSent(let at): return at &+ configuration.closeWaitNanos
        case .closed, .failed: return nil
        }
    }

    public func deadlineReached(now: UInt64) {
        switch state {
        case .open, .draining:
            if let due = pongDueAt, now >= due {
                // No pong in time: the peer is gone. Say so and end the connection.
                pongDueAt = nil
                if let ctx {
                    let reason = Array("pong timeout".utf8)
                    _ = wslay_event_queue_close(ctx, 1011, reason, reason.count)
                }
                // The close frame goes ahead of queued data; the peer gets `closeWait` to answer.
                state = .closeSent(at: now)
                notifyClosed(code: 1011, reason: "pong timeout")
                onNeedsFlush?()
                return
            }
            if now >= nextPingAt, let ctx {
                let payload = Array(configuration.pingPayload.utf8.prefix(125))
                payload.withUnsafeBufferPointer { p in
                    var msg = wslay_event_msg(opcode: UInt8(WSLAY_PING.rawValue), msg: p.baseAddress, msg_length: p.count)
                    _ = wslay_event_queue_msg(ctx, &msg)
                }
                if pongDueAt == nil { pongDueAt = now &+ configuration.pongWaitNanos }
                nextPingAt = now &+ configuration.pingIntervalNanos
                onNeedsFlush?()
            }
        case .closeSent(let at):
            if now &- at >= configuration.closeWaitNanos { state = .failed; onNeedsFlush?() }
        case .closed, .failed:
            break
        }
    }

    /// The connection is gone: the handler hears 1006 unless a close was already reported.
    public func connectionClosed() {
        if state != .failed && state != .closed { state = .failed }
        notifyClosed(code: 1006, reason: "connection lost")
        handler = nil
        onWritable = nil
        onNeedsFlush = nil
    }

    // MARK: Internals

    private var closeReported = false

    private func notifyClosed(code: UInt16, reason: String) {
        guard !closeReported else { return }
        closeReported = true
        let h = handler
        handler = nil
        h?.closed(code: code, reason: reason)
    }

    private func fail() {
        state = .failed
        notifyClosed(code: 1006, reason: "connection failed")
    }

    private func queue(opcode: UInt8, _ bytes: [UInt8]) -> Bool {
        guard state == .open, let ctx else { return false }
        let r = bytes.withUnsafeBufferPointer { p -> Int32 in
            var msg = wslay_event_msg(opcode: opcode, msg: p.baseAddress, msg_length: p.count)
            return wslay_event_queue_msg(ctx, &msg)
        }
        if r != 0 { return false }
        onNeedsFlush?()
        if queuedBytes >= outputLimit { wantsWritable = true; return false }
        return true
    }

    /// Follows wslay's view of the closing handshake after receiving or sending.
    private func afterEvents() {
        guard let ctx else { return }
        let received = wslay_event_get_close_received(ctx) != 0
        let sent = wslay_event_get_close_sent(ctx) != 0
        if received {
            // wslay answered (or will answer) the peer's close frame with one of its own.
            let code = wslay_event_get_status_code_received(ctx)
            notifyClosed(code: code, reason: "")
            state = .closed
        } else if sent, state == .open {
            // wslay closed on its own (protocol error 1002, too big 1009): wait for the peer's.
            state = .closeSent(at: monotonicNanos())
            notifyClosed(code: wslay_event_get_status_code_sent(ctx), reason: "")
        }
        if wslay_event_get_read_enabled(ctx) == 0 && !received && !sent && wslay_event_want_write(ctx) == 0 {
            state = .failed
        }
    }

    fileprivate func recv(_ buf: UnsafeMutablePointer<UInt8>, _ len: Int) -> Int {
        guard let inp = input, inp.count > 0 else {
            wslay_event_set_error(ctx, Int32(WSLAY_ERR_WOULDBLOCK.rawValue))
            return -1
        }
        let n = min(len, inp.count)
        buf.update(from: inp.baseAddress!.assumingMemoryBound(to: UInt8.self), count: n)
        input = UnsafeRawBufferPointer(rebasing: inp[n...])
        return n
    }

    fileprivate func send(_ data: UnsafePointer<UInt8>, _ len: Int) -> Int {
        guard let s = sink, !sinkFull else {
            wslay_event_set_error(ctx, Int32(WSLAY_ERR_WOULDBLOCK.rawValue))
            return -1
        }
        if !s(UnsafeRawBufferPointer(start: data, count: len)) { sinkFull = true }
        return len
    }

    fileprivate func message(_ arg: wslay_event_on_msg_recv_arg) {
        switch UInt32(arg.opcode) {
        case WSLAY_TEXT_FRAME.rawValue:
            let bytes = UnsafeBufferPointer(start: arg.msg, count: arg.msg_length)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                close(code: 1007, reason: "invalid UTF-8 in text message")
                wslay_event_shutdown_read(ctx)
                return
            }
            if state == .open { handler?.text(self, text) }
        case WSLAY_BINARY_FRAME.rawValue:
            if state == .open { handler?.binary(self, Array(UnsafeBufferPointer(start: arg.msg, count: arg.msg_length))) }
        case WSLAY_PONG.rawValue:
            pongDueAt = nil
        default:
            break
        }
    }
}

@inline(__always) private func session(_ p: UnsafeMutableRawPointer?) -> WebSocketSession {
    Unmanaged<WebSocketSession>.fromOpaque(p!).takeUnretainedValue()
}
