/// The server side of one WebSocket (RFC 6455) without a socket: bytes in (`receive`), bytes out
/// (`produceWhile`), messages to a `WebSocketHandler`.
///
/// Client frames go through `WebSocketFrameParser` (masking required, fragments reassembled up to
/// `maxMessageBytes`, control frames checked; a violation is answered with its close code: 1002,
/// or 1009 for a message too big); pings are answered with pongs (the latest ping's payload), a
/// close frame with one echoing its code. This session adds UTF-8 validation of text messages
/// (close 1007), a ping every `pingInterval` with `pingPayload` and the end of the connection when
/// no pong follows within `pongWait` (close 1011), a bounded outgoing queue (`send` returns false
/// above `outputLimit`; `onWritable` fires when it drained), and a wait of at most `closeWait`
/// for the peer's close frame after ours.
///
/// Output: control frames (pong, ping, and a close for a violation, a pong timeout or the peer's
/// close) go ahead of queued messages; nothing follows a close frame. A `close` from the
/// application goes after the messages already queued. Queued frames are `WebSocketServerFrame`
/// bytes, shared with every other WebSocket that queued the same frame.
/// Memory while idle: a few fields of the parser (libwslay's frame context exists only while a
/// client frame is partly received); buffers exist only while a message is arriving or frames wait
/// to be sent.
/// Confined to the connection's loop thread.
public final class WebSocketSession: WebSocketChannel {
    /// Where the closing handshake stands.
    enum State: Equatable {
        case open
        /// `close` was called while messages were queued: they go out first, then the close frame.
        case draining
        /// We sent (or queued ahead of data) a close frame at the given time; waiting for the peer's.
        case closeSent(at: UInt64)
        /// Both close frames were exchanged, or the peer's arrived and ours answers it.
        case closed
        /// The connection must end now (close wait over, lost); nothing more is sent.
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
    private var parser: WebSocketFrameParser
    /// Input is ignored from now on (a close arrived, or a violation or bad UTF-8 was answered).
    private var readingStopped = false
    /// Messages queued, and their total size: the oldest in `nextFrame` when it holds one, the
    /// rest in `queue` from `queueHead` (one message waiting, the common case, allocates nothing).
    private var nextFrame: [UInt8]?
    private var queue: [[UInt8]] = []
    private var queueHead = 0
    private(set) var queuedBytes = 0
    /// Control frames owed: a pong (the latest ping's payload), our ping, a close ahead of data.
    private var pongPayload: [UInt8]?
    private var pingOwed = false
    private var urgentClose: [UInt8]?
    /// The application's close frame, sent after the queued messages.
    private var finalClose: [UInt8]?
    private var wantsWritable = false
    private var nextPingAt: UInt64
    private var pongDueAt: UInt64?
    private var closeReported = false

    public init(loop: EventLoop, handler: WebSocketHandler?, subprotocol: String?,
                configuration: WebSocketConfiguration = WebSocketConfiguration(), outputLimit: Int = 256 * 1024,
                now: UInt64 = monotonicNanos()) {
        eventLoop = loop; self.handler = handler; self.subprotocol = subprotocol
        self.configuration = configuration; self.outputLimit = outputLimit
        nextPingAt = now &+ configuration.pingIntervalNanos
        parser = WebSocketFrameParser(maxMessageBytes: configuration.maxMessageBytes)
    }

    // MARK: WebSocketChannel

    @discardableResult
    public func send(text: String) -> Bool { enqueue(WebSocketServerFrame(text: text.utf8).bytes) }

    @discardableResult
    public func send(binary: [UInt8]) -> Bool { enqueue(WebSocketServerFrame(opcode: 2, payload: binary).bytes) }

    @discardableResult
    public func send(frame: WebSocketServerFrame) -> Bool { enqueue(frame.bytes) }

    public var isWritable: Bool { state == .open && queuedBytes < outputLimit }

    public func close(code: UInt16, reason: String) {
        guard state == .open else { return }
        finalClose = WebSocketServerFrame.close(code: code, reason: reason).bytes
        state = .draining
        notifyClosed(code: code, reason: reason)
        onNeedsFlush?()
    }

    // MARK: Connection side

    /// True while input is wanted.
    public var wantsInput: Bool { true }

    /// Processes received bytes. Returns false when the connection must end at once.
    public func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if state == .failed { return false }
        if state == .closed || readingStopped { return true }   // ignored
        parser.parse(bytes) { event in self.handle(event) }
        return true
    }

    private func handle(_ event: WebSocketFrameParser.Event) {
        if readingStopped { return }
        switch event {
        case .message(let opcode, let payload):
            if opcode == 1 {
                guard let text = String(validating: payload, as: UTF8.self) else {
                    readingStopped = true
                    close(code: 1007, reason: "invalid UTF-8 in text message")
                    return
                }
                if state == .open { handler?.text(self, text) }
            } else if state == .open {
                handler?.binary(self, payload)
            }
        case .ping(let payload):
            if urgentClose == nil && state != .closed { pongPayload = payload; onNeedsFlush?() }
        case .pong:
            pongDueAt = nil
        case .close(let code, _):
            readingStopped = true
            switch state {
            case .open, .draining:
                // Answer at once, echoing the code; queued messages are dropped (nothing follows a close).
                urgentClose = WebSocketServerFrame.close(code: code).bytes
                dropQueue()
                state = .closed
                notifyClosed(code: code ?? 1005, reason: "")
            case .closeSent:
                state = .closed
            case .closed, .failed:
                break
            }
            onNeedsFlush?()
        case .violation(let code):
            readingStopped = true
            guard state == .open || state == .draining else { return }
            urgentClose = WebSocketServerFrame.close(code: code).bytes
            dropQueue()
            state = .closeSent(at: monotonicNanos())
            notifyClosed(code: code, reason: "")
            onNeedsFlush?()
        }
    }

    /// Drains frames to send through `sink` until it returns false. Returns false when the
    /// connection must end at once.
    public func produceWhile(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        produceFrames { frame in frame.withUnsafeBytes { sink($0) } }
    }

    /// `produceWhile` with each frame as its array (queued messages are the arrays the
    /// application shared, e.g. one fan-out frame): a sink that keeps frames by reference copies
    /// nothing.
    func produceFrames(_ sink: ([UInt8]) -> Bool) -> Bool {
        if state == .failed { return false }
        var go = true
        func emit(_ frame: [UInt8]) { go = sink(frame) }
        if go, let p = pongPayload {
            pongPayload = nil
            emit(WebSocketServerFrame(opcode: 10, payload: p).bytes)
        }
        if go && pingOwed {
            pingOwed = false
            emit(WebSocketServerFrame(opcode: 9, payload: configuration.pingPayload.utf8.prefix(125)).bytes)
        }
        if go, let c = urgentClose {
            urgentClose = nil
            emit(c)
        }
        if go, let f = nextFrame {
            nextFrame = nil
            queuedBytes -= f.count
            emit(f)
        }
        while go && queueHead < queue.count {
            let f = queue[queueHead]
            queueHead += 1
            queuedBytes -= f.count
            emit(f)
        }
        if queueHead == queue.count && queueHead > 0 { queue = []; queueHead = 0 }   // hold no storage while idle
        if go, nextFrame == nil, queueHead == queue.count, let c = finalClose {
            finalClose = nil
            emit(c)
            if state == .draining { state = .closeSent(at: monotonicNanos()) }
        }
        if wantsWritable && queuedBytes < outputLimit && state == .open {
            wantsWritable = false
            onWritable?()
        }
        return true
    }

    /// True until the closing handshake is done (and our close frame sent) or the connection failed.
    public var isAlive: Bool {
        switch state {
        case .failed: return false
        case .closed: return urgentClose != nil || finalClose != nil
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
                urgentClose = WebSocketServerFrame.close(code: 1011, reason: "pong timeout").bytes
                dropQueue()
                finalClose = nil
                // The close frame goes ahead of queued data; the peer gets `closeWait` to answer.
                state = .closeSent(at: now)
                notifyClosed(code: 1011, reason: "pong timeout")
                onNeedsFlush?()
                return
            }
            if now >= nextPingAt {
                pingOwed = true
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
        dropQueue()
    }

    // MARK: Internals

    private func notifyClosed(code: UInt16, reason: String) {
        guard !closeReported else { return }
        closeReported = true
        let h = handler
        handler = nil
        h?.closed(code: code, reason: reason)
    }

    private func dropQueue() {
        nextFrame = nil; queue = []; queueHead = 0; queuedBytes = 0
    }

    private func enqueue(_ frame: [UInt8]) -> Bool {
        guard state == .open else { return false }
        if nextFrame == nil && queueHead == queue.count { nextFrame = frame } else { queue.append(frame) }
        queuedBytes += frame.count
        onNeedsFlush?()
        if queuedBytes >= outputLimit { wantsWritable = true; return false }
        return true
    }
}
