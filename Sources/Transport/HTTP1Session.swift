/// An HTTP/1.1 server connection (RFC 9112) that never touches a socket: feed received plaintext
/// to `receive`, drain bytes to send with `produceWhile`. Requests go to an `HTTPApplication`;
/// after an accepted WebSocket upgrade the connection runs a `WebSocketSession`.
///
/// - Keep-alive and pipelining: requests are parsed (and handed to the application) as they
///   arrive, up to `maxPipelinedRequests` unanswered ones (then input pauses); responses go out
///   strictly in request order, each buffered by its writer (bounded) until its turn.
/// - Request bodies: Content-Length or chunked; `Expect: 100-continue` is answered with
///   `100 Continue` when the request's turn comes and its body is wanted.
/// - Limits, each answered and never buffered without bound: head over `maxHeaderBytes` -> 431,
///   body over `maxBodyBytes` -> 413, malformed input -> 400 (each followed by close); a head not
///   complete within `headerTimeout` of its first byte -> 408 and close; no request for
///   `idleTimeout` on a keep-alive connection -> close.
/// Confined to the connection's loop thread.
public final class HTTP1Session: ConnectionProtocolHandler {
    /// Where the input side stands.
    enum State {
        /// Between requests (keep-alive), since the given time.
        case idle(since: UInt64)
        /// A request head is being received; it began at the given time.
        case readingHead(since: UInt64)
        /// The head was delivered; its body is being received.
        case readingBody(HTTP1ResponseWriter)
        /// Too many pipelined requests are unanswered: input waits.
        case pipelineFull
        /// An upgrade request is complete: input waits for the application to accept (WebSocket)
        /// or answer it (then the connection closes).
        case awaitingUpgrade(HTTP1ResponseWriter)
        /// The connection runs RFC 6455 (after the 101 response went out).
        case webSocket(WebSocketSession)
        /// No more requests are read (Connection: close, an error, a refused upgrade); the
        /// connection closes once the responses already owed are sent.
        case closing
        /// The connection is gone.
        case closed
    }

    /// What the session does after an input event or a deadline.
    enum Action: Equatable {
        case none
        /// Answer `status` (after the responses owed) and close.
        case failAndClose(status: Int, reason: String)
        /// Close at once (idle keep-alive timeout).
        case closeNow
    }

    public let configuration: HTTPServerConfiguration
    let loop: EventLoop
    let application: HTTPApplication
    public var peerAddress = ""
    public var onNeedsFlush: (() -> Void)?
    public var onIdleWork: (() -> Void)?
    /// Shared by every request of the connection (`HTTPResponseWriter.connectionStorage`).
    var connectionStorage: AnyObject?

    private(set) var state: State
    /// Let go of after a WebSocket upgrade (no more HTTP/1.1 on the connection).
    private var parser: HTTP1RequestParser!
    /// Responses owed, in request order (the first is being sent).
    private(set) var responses: [HTTP1ResponseWriter] = []
    /// Input received while parsing was paused (at most one `receive` call's worth: the connection
    /// stops reading while `wantsInput` is false).
    private var stash: [UInt8] = []
    private var closeWhenDrained = false
    private var closeNow = false
    private var writableWaiters: [HTTP1ResponseWriter] = []

    public init(loop: EventLoop, application: HTTPApplication, configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                now: UInt64 = monotonicNanos()) {
        self.loop = loop; self.application = application; self.configuration = configuration
        parser = HTTP1RequestParser(maxHeadBytes: configuration.maxHeaderBytes)
        state = .idle(since: now)
        parser.delegate = self
    }

    // MARK: ConnectionProtocolHandler

    public var wantsInput: Bool {
        switch state {
        case .idle, .readingHead, .readingBody: return stash.isEmpty
        case .webSocket(let ws): return ws.wantsInput
        case .closing: return true   // read and dropped: a peer's EOF is still seen, and a client
                                     // still sending after an error answer can read it (lingering)
        case .pipelineFull, .awaitingUpgrade, .closed: return false
        }
    }

    public func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch state {
        case .closed: return false
        case .closing: return true   // ignored: no more requests are read
        case .webSocket(let ws): return ws.receive(bytes)
        case .pipelineFull, .awaitingUpgrade:
            stash.append(contentsOf: bytes.bindMemory(to: UInt8.self))
            return true
        case .idle, .readingHead, .readingBody:
            if !stash.isEmpty { stash.append(contentsOf: bytes.bindMemory(to: UInt8.self)); resumeInput(); return !closeNow }
            parse(bytes)
            resumeInput()   // bytes after an upgrade go to the WebSocket
            return !closeNow
        }
    }

    /// Parses `bytes`, keeping what follows a pause in `stash`.
    private func parse(_ bytes: UnsafeRawBufferPointer) {
        switch parser.feed(bytes) {
        case .consumed:
            break
        case .paused(let consumed, _):
            if consumed < bytes.count {
                stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]).bindMemory(to: UInt8.self))
            }
        case .failed(let e):
            apply(.failAndClose(status: e.status, reason: e.reason))
        }
    }

    /// Parses the stash when input may go on.
    private func resumeInput() {
        while !stash.isEmpty {
            switch state {
            case .idle, .readingHead, .readingBody:
                let bytes = stash
                stash = []
                parser.resume()
                bytes.withUnsafeBytes { parse($0) }
                if stash.count == bytes.count { return }   // no progress (paused at once again)
            case .webSocket(let ws):
                let bytes = stash
                stash = []
                if !bytes.withUnsafeBytes({ ws.receive($0) }) { closeNow = true }
                return
            case .closing:
                stash = []
            default:
                return
            }
        }
    }

    public func produceWhile(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        if case .closed = state { return false }
        var more = true
        while more {
            more = false
            // Input paused for the pipeline bound resumes once responses left.
            if case .pipelineFull = state, responses.count < configuration.maxPipelinedRequests {
                state = .idle(since: monotonicNanos())
                resumeInput()
            }
            while let w = responses.first {
                if w.buffered > 0 {
                    let go = w.drain(sink)
                    if w.wantsWritable && w.buffered < configuration.responseBufferLimit { writableWaiters.append(w) }
                    if !go { notifyWritable(); return true }
                }
                guard w.isComplete && w.buffered == 0 else { break }
                responses.removeFirst()
                w.finished()
                if w.closeAfter {
                    // The connection ends here: requests pipelined after this one are not answered.
                    closeWhenDrained = true
                    let dropped = responses
                    responses.removeAll()
                    for d in dropped { d.cancelRequest() }
                    break
                }
                if let next = responses.first { next.becameCurrent() }
                else if case .idle = state { state = .idle(since: monotonicNanos()) }   // idle from now
                more = true
            }
            if closeWhenDrained { break }
            if case .webSocket(let ws) = state, responses.isEmpty {
                // No more HTTP/1.1 on this connection (let go of here, never inside the parser's own callbacks).
                if parser != nil { parser = nil }
                if !ws.produceWhile(sink) { closeNow = true }
            }
        }
        notifyWritable()
        return true
    }

    private func notifyWritable() {
        guard !writableWaiters.isEmpty else { return }
        let ws = writableWaiters
        writableWaiters.removeAll()
        for w in ws { w.notifyWritable() }
    }

    public var isAlive: Bool {
        if closeNow { return false }
        switch state {
        case .closed: return false
        case .webSocket(let ws): return ws.isAlive
        case .closing: return (closeWhenDrained || responses.isEmpty) ? lingerUntil != nil : true
        default: return !closeWhenDrained
        }
    }

    public func releaseIdle() {}

    public var nextDeadline: UInt64? {
        switch state {
        case .idle(let since) where responses.isEmpty: return since &+ configuration.idleTimeoutNanos
        case .readingHead(let since): return since &+ configuration.headerTimeoutNanos
        case .webSocket(let ws): return ws.nextDeadline
        case .closing: return lingerUntil
        default: return nil
        }
    }

    public func deadlineReached(now: UInt64) {
        apply(deadlineAction(now: now))
    }

    /// The state machine's answer to a passed deadline.
    func deadlineAction(now: UInt64) -> Action {
        switch state {
        case .idle(let since) where responses.isEmpty:
            return now &- since >= configuration.idleTimeoutNanos ? .closeNow : .none
        case .readingHead(let since):
            return now &- since >= configuration.headerTimeoutNanos
                ? .failAndClose(status: 408, reason: "request header not received in time") : .none
        case .webSocket(let ws):
            ws.deadlineReached(now: now)
            return .none
        case .closing:
            if let l = lingerUntil, now >= l { return .closeNow }
            return .none
        default:
            return .none
        }
    }

    private func apply(_ action: Action) {
        switch action {
        case .none: break
        case .closeNow:
            closeNow = true
            onNeedsFlush?()
        case .failAndClose(let status, let reason):
            // A request whose head was delivered and whose response has not started is answered
            // with the error instead; one whose response started can only be cut short.
            if case .readingBody(let w) = state {
                let started = w.startedOutput
                w.cancelRequest()
                if !started {
                    w.setErrorResponse(status: status, reason: reason)
                } else {
                    w.closeAfter = true; w.abortResponse()
                }
            } else {
                let w = HTTP1ResponseWriter(session: self, head: HTTP1Session.errorHead, keepAlive: false)
                w.setErrorResponse(status: status, reason: reason)
                enqueue(w)
            }
            state = .closing
            stash = []
            lingerUntil = monotonicNanos() &+ configuration.errorLingerNanos
            onNeedsFlush?()
        }
    }

    /// Set after an error answer: until then input is read and dropped (see `errorLingerNanos`).
    private(set) var lingerUntil: UInt64?
    /// True during the lingering close after an error answer (for tests and diagnostics).
    var isLingering: Bool { if case .closing = state { return lingerUntil != nil && (responses.isEmpty || closeWhenDrained) }; return false }

    private static let errorHead = HTTPRequestHead(method: "GET", target: "/", version: (1, 1), headers: HTTPHeaders())

    private func enqueue(_ w: HTTP1ResponseWriter) {
        responses.append(w)
        if responses.count == 1 { w.becameCurrent() }
    }

    public func beginGracefulShutdown() {
        switch state {
        case .idle:
            if responses.isEmpty { closeNow = true } else { state = .closing }
        case .pipelineFull, .readingHead:
            state = .closing; stash = []
        case .webSocket(let ws):
            ws.close(code: 1001, reason: "server shutting down")
        default:
            break
        }
        // The response being written (or the one to come) says Connection: close.
        if let last = responses.last { last.closeAfter = true }
        onNeedsFlush?()
    }

    public func connectionClosed() {
        if case .closed = state { return }
        let previous = state
        state = .closed
        stash = []
        if case .readingBody(let w) = previous { w.cancelRequest() }
        if case .awaitingUpgrade(let w) = previous { w.cancelRequest() }
        if case .webSocket(let ws) = previous { ws.connectionClosed() }
        let owed = responses
        responses.removeAll()
        for w in owed { w.cancelRequest() }
        writableWaiters.removeAll()
        connectionStorage = nil
        onNeedsFlush = nil
    }

    // MARK: Called by the writers

    /// A writer has new bytes or completed.
    func writerChanged(_ w: HTTP1ResponseWriter) {
        onNeedsFlush?()
    }

    /// The application accepted the upgrade of `w`'s request: from now on the connection speaks
    /// RFC 6455 (the 101 response is in `w`'s buffer and goes out first).
    func upgraded(_ w: HTTP1ResponseWriter, to ws: WebSocketSession) {
        if case .readingBody(let current) = state, current === w {
            // Accepted from `request`, before the (empty) body ended: switch at its end.
            w.acceptedWebSocket = ws
            return
        }
        guard case .awaitingUpgrade(let pending) = state, pending === w else { return }
        state = .webSocket(ws)
        ws.onNeedsFlush = { [unowned self] in self.onNeedsFlush?() }
        resumeInput()
        onNeedsFlush?()
    }

    /// The application answered an upgrade request without upgrading: the connection closes after.
    func upgradeRefused(_ w: HTTP1ResponseWriter) {
        guard case .awaitingUpgrade(let pending) = state, pending === w else { return }
        state = .closing
        stash = []
        w.closeAfter = true
    }
}

extension HTTP1Session: HTTP1RequestParserDelegate {
    func parserMessageBegan() {
        state = .readingHead(since: monotonicNanos())
    }

    func parserHeadComplete(_ head: HTTPRequestHead, keepAlive: Bool, upgrade: Bool, contentLength: UInt64?) -> HTTP1ParseError? {
        if let n = contentLength, n > UInt64(configuration.maxBodyBytes) { return .bodyTooLarge }
        let w = HTTP1ResponseWriter(session: self, head: head, keepAlive: keepAlive && !upgrade)
        w.isUpgradeRequest = upgrade
        if let expect = head.headers["Expect"] {
            guard HTTPHeaders.equalsIgnoringCase(expect, "100-continue") else {
                return HTTP1ParseError(status: 417, reason: "unsupported expectation")
            }
            if head.version.minor >= 1 && (contentLength ?? 1) > 0 { w.needsContinue = true }
        }
        state = .readingBody(w)
        enqueue(w)
        w.handler = application.request(head, w)
        return nil
    }

    func parserBody(_ chunk: UnsafeRawBufferPointer) -> HTTP1ParseError? {
        guard case .readingBody(let w) = state else { return nil }
        w.bodyBytes += chunk.count
        if w.bodyBytes > configuration.maxBodyBytes { return .bodyTooLarge }
        w.handler?.body(Array(chunk.bindMemory(to: UInt8.self)))
        return nil
    }

    func parserMessageComplete() -> Bool {
        guard case .readingBody(let w) = state else { return false }
        w.requestEnded = true
        w.needsContinue = false
        if w.isUpgradeRequest {
            state = .awaitingUpgrade(w)
            if let ws = w.acceptedWebSocket { w.acceptedWebSocket = nil; upgraded(w, to: ws) }
            w.handler?.end()
            w.requestDone()
            // The application may have accepted or answered at once.
            if case .awaitingUpgrade = state, w.isComplete { upgradeRefused(w) }
            return true
        }
        if !w.keepAlive {
            state = .closing
            w.closeAfter = true
        } else if responses.count >= configuration.maxPipelinedRequests {
            state = .pipelineFull
        } else {
            state = .idle(since: monotonicNanos())
        }
        w.handler?.end()
        w.requestDone()
        if case .closing = state { return true }
        if case .pipelineFull = state { return true }
        return false
    }
}
