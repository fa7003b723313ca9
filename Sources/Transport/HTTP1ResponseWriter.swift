/// The `HTTPResponseWriter` of one HTTP/1.1 request: it serializes the response into its own
/// buffer, which the session sends when the request's turn comes (pipelined responses go out in
/// request order). Loop thread only; after the connection closed every call is ignored.
final class HTTP1ResponseWriter: HTTPResponseWriter {
    /// Where the response stands.
    enum State {
        /// Nothing written yet.
        case pending
        /// Head sent; body follows (chunked, or delimited by closing the connection for HTTP/1.0).
        case streaming(chunked: Bool)
        /// The whole response is in the buffer.
        case complete
        /// The request was cancelled (connection lost, a limit broke): writes are ignored.
        case cancelled
    }

    weak var session: HTTP1Session?
    let head: HTTPRequestHead
    let eventLoop: EventLoop
    let keepAlive: Bool
    var handler: HTTPRequestHandler?
    private(set) var state = State.pending
    /// The connection closes after this response.
    var closeAfter: Bool
    var isUpgradeRequest = false
    var acceptedWebSocket: WebSocketSession?
    var requestEnded = false
    var needsContinue = false
    var bodyBytes = 0
    var wantsWritable = false
    var onWritable: (() -> Void)?
    private var output: [UInt8] = []
    private var outOffset = 0
    private let limit: Int

    init(session: HTTP1Session, head: HTTPRequestHead, keepAlive: Bool) {
        self.session = session; self.head = head; self.keepAlive = keepAlive
        eventLoop = session.loop
        closeAfter = !keepAlive
        limit = session.configuration.responseBufferLimit
    }

    var peerAddress: String { session?.peerAddress ?? "" }
    var protocolName: String { ALPNProtocol.http1 }
    var connectionStorage: AnyObject? {
        get { session?.connectionStorage }
        set { session?.connectionStorage = newValue }
    }

    var buffered: Int { output.count - outOffset }
    var isComplete: Bool { if case .complete = state { return true }; return false }
    var startedOutput: Bool { if case .pending = state { return false }; return true }
    var isWritable: Bool {
        switch state {
        case .pending, .streaming: return buffered < limit
        case .complete, .cancelled: return false
        }
    }

    // MARK: HTTPResponseWriter

    func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        guard case .pending = state else { return }
        var extra: [(String, String)] = []
        let noBody = HTTP1ResponseEncoding.forbidsBody(status)
        if !noBody { extra.append(("Content-Length", String(body.count))) }
        appendConnectionField(&extra)
        HTTP1ResponseEncoding.appendHead(to: &output, status: status, headers: headers, extra: extra)
        if !noBody && head.method != "HEAD" { output.append(contentsOf: body) }
        finishResponse()
    }

    func writeHead(status: Int, headers: HTTPHeaders) {
        guard case .pending = state else { return }
        var extra: [(String, String)] = []
        let noBody = HTTP1ResponseEncoding.forbidsBody(status) || head.method == "HEAD"
        let chunked = !noBody && head.version.minor >= 1
        if chunked { extra.append(("Transfer-Encoding", "chunked")) }
        else if !noBody { closeAfter = true }   // HTTP/1.0: the body ends with the connection
        appendConnectionField(&extra)
        HTTP1ResponseEncoding.appendHead(to: &output, status: status, headers: headers, extra: extra)
        state = noBody ? .streaming(chunked: false) : .streaming(chunked: chunked)
        if noBody { bodySuppressed = true }
        changed()
    }

    private var bodySuppressed = false

    @discardableResult
    func writeBody(_ bytes: [UInt8]) -> Bool {
        guard case .streaming(let chunked) = state else { return false }
        if !bodySuppressed {
            if chunked { HTTP1ResponseEncoding.appendChunk(to: &output, bytes) } else { output.append(contentsOf: bytes) }
            changed()
        }
        let ok = buffered < limit
        if !ok { wantsWritable = true }
        return ok
    }

    func end() {
        guard case .streaming(let chunked) = state else { return }
        if chunked && !bodySuppressed { output.append(contentsOf: HTTP1ResponseEncoding.lastChunk) }
        finishResponse()
    }

    func acceptWebSocket(subprotocol: String?, handler wsHandler: WebSocketHandler) -> WebSocketChannel? {
        guard case .pending = state, let session else { return nil }
        if let refusal = WebSocketHandshake.refusal(isWebSocketRequest: isUpgradeRequest && head.isWebSocketUpgrade,
                                                    headers: head.headers, subprotocol: subprotocol) {
            respond(status: refusal.status, headers: refusal.headers, body: refusal.body)
            return nil
        }
        guard let key = head.headers["Sec-WebSocket-Key"], let accept = WebSocketHandshake.acceptValue(forKey: key) else {
            respond(status: 400, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: Array("bad Sec-WebSocket-Key\n".utf8))
            return nil
        }
        var extra: [(String, String)] = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)]
        if let p = subprotocol { extra.append(("Sec-WebSocket-Protocol", p)) }
        HTTP1ResponseEncoding.appendHead(to: &output, status: 101, headers: HTTPHeaders(), extra: extra)
        state = .complete
        closeAfter = false
        let ws = WebSocketSession(loop: eventLoop, handler: wsHandler, subprotocol: subprotocol,
                                  configuration: session.configuration.webSocket,
                                  outputLimit: session.configuration.responseBufferLimit)
        ws.peerAddress = session.peerAddress
        session.upgraded(self, to: ws)
        changed()
        return ws
    }

    // MARK: Session side

    private func appendConnectionField(_ extra: inout [(String, String)]) {
        if closeAfter { extra.append(("Connection", "close")) }
        else if head.version.minor == 0 { extra.append(("Connection", "keep-alive")) }
    }

    private func finishResponse() {
        state = .complete
        if isUpgradeRequest { session?.upgradeRefused(self) }
        if !requestEnded {
            // Answered before the body arrived: the rest of it is read and dropped (the handler
            // hears nothing more); a client still waiting for 100-continue is not sent one.
            needsContinue = false
        }
        changed()
    }

    private func changed() { session?.writerChanged(self) }

    /// This response is now the one being sent.
    func becameCurrent() {
        if needsContinue && !requestEnded, case .pending = state {
            needsContinue = false
            var o = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            o.append(contentsOf: output[outOffset...])
            output = o; outOffset = 0
        }
    }

    /// Replaces a response not started with an error answer (and Connection: close).
    func setErrorResponse(status: Int, reason: String) {
        state = .pending
        closeAfter = true
        var body = Array(reason.utf8); body.append(0x0a)
        respondInternal(status: status, body: body)
    }

    private func respondInternal(status: Int, body: [UInt8]) {
        var extra: [(String, String)] = [("Content-Length", String(body.count))]
        appendConnectionField(&extra)
        HTTP1ResponseEncoding.appendHead(to: &output, status: status,
                                         headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), extra: extra)
        output.append(contentsOf: body)
        state = .complete
        changed()
    }

    /// A started response is cut short: what is buffered goes out, then the connection closes.
    func abortResponse() {
        state = .complete
        changed()
    }

    /// The request is over without a complete response (connection lost, a limit broke).
    func cancelRequest() {
        let h = handler
        handler = nil
        onWritable = nil
        let wasComplete = isComplete
        if !wasComplete { state = .cancelled }
        if !(wasComplete && requestEnded) { h?.cancelled() }
    }

    /// Sends buffered bytes; returns what `sink` last returned.
    func drain(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let go = output.withUnsafeBytes { p in sink(UnsafeRawBufferPointer(rebasing: p[outOffset...])) }
        output.removeAll(keepingCapacity: false); outOffset = 0
        return go
    }

    /// Set once the response was sent in full and popped from the session's queue.
    private(set) var sent = false

    /// Sent in full and popped from the queue: lets go of the handler (or, when the request body
    /// is still arriving, `requestDone` does once it ended).
    func finished() {
        sent = true
        if requestEnded { handler = nil }
        onWritable = nil
    }

    /// The request ended (its handler heard `end`): a response already sent lets go of the handler
    /// now (handler and writer usually hold each other).
    func requestDone() {
        if sent { handler = nil }
    }

    func notifyWritable() {
        guard wantsWritable else { return }
        wantsWritable = false
        if case .streaming = state { onWritable?() }
    }
}
