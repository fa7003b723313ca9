/// Serves an `HTTPApplication` on the streams of an `h2` connection of an HTTP listener (not the
/// gRPC path, which sits on `HTTP2Session`/`HTTP2Stream` directly): each request stream becomes an
/// `HTTPRequestHead`, a handler and an `HTTPResponseWriter`. Loop thread only.
final class HTTP2ApplicationAdapter: HTTP2SessionDelegate {
    let application: HTTPApplication
    let configuration: HTTPServerConfiguration
    let loop: EventLoop
    /// The connection's `HTTPResponseWriter.connectionStorage`.
    var connectionStorage: AnyObject?
    /// The connection's WebSockets (RFC 8441 streams).
    let webSockets: HTTP2WebSocketSet

    init(application: HTTPApplication, configuration: HTTPServerConfiguration, loop: EventLoop) {
        self.application = application; self.configuration = configuration; self.loop = loop
        webSockets = HTTP2WebSocketSet(loop: loop)
    }

    func session(_ session: HTTP2Session, streamOpened stream: HTTP2Stream) {
        stream.delegate = HTTP2ResponseWriter(adapter: self, stream: stream)
    }

    /// The server drains: every WebSocket closes with 1001, as on HTTP/1.1.
    func sessionWillDrain(_ session: HTTP2Session) { webSockets.drain() }

    func sessionClosed(_ session: HTTP2Session) { webSockets.closeAll() }
}

/// One request stream as `HTTPResponseWriter` (and the stream's delegate).
final class HTTP2ResponseWriter: HTTPResponseWriter, HTTP2StreamDelegate {
    /// Where the exchange stands.
    enum State {
        /// Request head fields arriving.
        case receivingHead
        /// The head went to the application; body and response in progress.
        case active
        /// The response ended (the request may still be sending its body).
        case responded
        /// An extended CONNECT became a WebSocket (RFC 8441): the stream's DATA is its frames.
        case webSocket(HTTP2WebSocketStream)
        /// The stream is gone.
        case closed
    }

    private weak var adapter: HTTP2ApplicationAdapter?
    private let stream: HTTP2Stream
    let eventLoop: EventLoop
    private var state = State.receivingHead
    private var fields = HTTPHeaders()
    private var method = "", path = "", authority: String?, scheme = "https", connectProtocol: String?
    private var headBytes = 0
    private var headTooLarge = false
    private var handler: HTTPRequestHandler?
    private var bodyBytes = 0
    private var isHead = false
    /// The request is an extended CONNECT for a WebSocket (RFC 8441).
    private var isWebSocketRequest = false
    private var requestEnded = false
    var onWritable: (() -> Void)?
    private let limit: Int

    init(adapter: HTTP2ApplicationAdapter, stream: HTTP2Stream) {
        self.adapter = adapter; self.stream = stream; eventLoop = adapter.loop
        limit = adapter.configuration.responseBufferLimit
    }

    var peerAddress: String { stream.session.peerAddress }
    var protocolName: String { ALPNProtocol.http2 }
    var connectionStorage: AnyObject? {
        get { adapter?.connectionStorage }
        set { adapter?.connectionStorage = newValue }
    }

    // MARK: HTTP2StreamDelegate

    func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        headBytes += name.count + value.count + 4
        if headBytes > (adapter?.configuration.maxHeaderBytes ?? 0) { headTooLarge = true; return }
        let n = String(decoding: name, as: UTF8.self), v = String(decoding: value, as: UTF8.self)
        guard case .receivingHead = state else { return }   // trailers: ignored
        switch n {
        case ":method": method = v
        case ":path": path = v
        case ":authority": authority = v
        case ":scheme": scheme = v
        case ":protocol": connectProtocol = v
        default: if !n.hasPrefix(":") { fields.add(name: n, value: v) }
        }
    }

    func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) {
        guard case .receivingHead = state, let adapter else { return }
        if headTooLarge {
            state = .active
            respond(status: 431, headers: HTTPHeaders(), body: Array("request header fields too large\n".utf8))
            return
        }
        if fields["Host"] == nil, let a = authority { fields.add(name: "Host", value: a) }
        var head = HTTPRequestHead(method: method, target: path, version: (2, 0), headers: fields, scheme: scheme)
        head.connectProtocol = connectProtocol
        isWebSocketRequest = head.isWebSocketUpgrade
        isHead = method == "HEAD"
        if let cl = fields["Content-Length"], let n = Int(cl), n > adapter.configuration.maxBodyBytes {
            state = .active
            respond(status: 413, headers: HTTPHeaders(), body: Array("request body too large\n".utf8))
            return
        }
        state = .active
        handler = adapter.application.request(head, self)
    }

    func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) {
        if case .webSocket(let ws) = state { ws.receive(data); return }
        guard let h = handler, !requestEnded else { return }
        bodyBytes += data.count
        if bodyBytes > (adapter?.configuration.maxBodyBytes ?? 0) {
            handler = nil
            h.cancelled()
            if case .active = state {
                state = .active
                respond(status: 413, headers: HTTPHeaders(), body: Array("request body too large\n".utf8))
            } else {
                stream.reset(errorCode: 8)
            }
            return
        }
        h.body(Array(data.bindMemory(to: UInt8.self)))
    }

    func streamRemoteEnded(_ stream: HTTP2Stream) {
        guard !requestEnded else { return }
        requestEnded = true
        if case .webSocket(let ws) = state { ws.peerEnded(); return }
        handler?.end()
        if case .responded = state { handler = nil }
    }

    func streamWritable(_ stream: HTTP2Stream) {
        switch state {
        case .active: onWritable?()
        case .webSocket(let ws): ws.writable()
        default: break
        }
    }

    func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) {
        if case .webSocket(let ws) = state {
            state = .closed
            ws.streamClosed()
            return
        }
        let wasResponded: Bool
        if case .responded = state { wasResponded = true } else { wasResponded = false }
        state = .closed
        let h = handler
        handler = nil
        onWritable = nil
        if !(wasResponded && requestEnded) { h?.cancelled() }
    }

    func streamReleased(_ stream: HTTP2Stream) {
        handler = nil
        onWritable = nil
    }

    // MARK: HTTPResponseWriter

    private var headersSent = false

    private func block(status: Int, headers: HTTPHeaders, contentLength: Int?) -> HTTP2HeaderBlock {
        var f: [(name: String, value: String)] = [(":status", String(status))]
        for (n, v) in headers where !HTTP1ResponseEncoding.isTransportOwned(n) && HTTP1ResponseEncoding.isValidField(n, v) {
            f.append((n.lowercased(), v))
        }
        if let n = contentLength { f.append(("content-length", String(n))) }
        return HTTP2HeaderBlock(f)
    }

    func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        guard case .active = state, !headersSent else { return }
        headersSent = true
        let noBody = HTTP1ResponseEncoding.forbidsBody(status)
        let b = block(status: status, headers: headers, contentLength: noBody ? nil : body.count)
        if noBody || isHead || body.isEmpty {
            stream.respondTrailersOnly(b)
        } else {
            stream.sendHeaders(b)
            stream.write(body)
            stream.finish(trailers: nil)
        }
        responded()
    }

    func writeHead(status: Int, headers: HTTPHeaders) {
        guard case .active = state, !headersSent else { return }
        headersSent = true
        stream.sendHeaders(block(status: status, headers: headers, contentLength: nil))
    }

    @discardableResult
    func writeBody(_ bytes: [UInt8]) -> Bool {
        guard case .active = state, headersSent else { return false }
        if !isHead { stream.write(bytes) }
        if stream.bufferedBytes >= limit {
            stream.notifyWhenBuffered(atMost: limit / 2)
            return false
        }
        return true
    }

    func end() {
        guard case .active = state, headersSent else { return }
        stream.finish(trailers: nil)
        responded()
    }

    var isWritable: Bool {
        if case .active = state { return stream.bufferedBytes < limit }
        return false
    }

    /// WebSocket over HTTP/2 (RFC 8441 §5): an extended CONNECT with `:protocol websocket` and
    /// `sec-websocket-version: 13` is answered 200 (with `sec-websocket-protocol` when one was
    /// chosen; it must be one the client offered), and the stream then carries RFC 6455 frames both
    /// ways (`HTTP2WebSocketStream`). Anything else is answered as on HTTP/1.1: 400, or 426 with
    /// `sec-websocket-version: 13`.
    func acceptWebSocket(subprotocol: String?, handler wsHandler: WebSocketHandler) -> WebSocketChannel? {
        guard case .active = state, !headersSent, let adapter else { return nil }
        if let refusal = WebSocketHandshake.refusal(isWebSocketRequest: isWebSocketRequest, headers: fields,
                                                    subprotocol: subprotocol) {
            respond(status: refusal.status, headers: refusal.headers, body: refusal.body)
            return nil
        }
        var extra = HTTPHeaders()
        if let p = subprotocol { extra.add(name: "Sec-WebSocket-Protocol", value: p) }
        headersSent = true
        stream.sendHeaders(block(status: 200, headers: extra, contentLength: nil))
        let socket = WebSocketSession(loop: eventLoop, handler: wsHandler, subprotocol: subprotocol,
                                      configuration: adapter.configuration.webSocket, outputLimit: limit)
        socket.peerAddress = peerAddress
        // The request handler's part is over: from now on the WebSocket handler hears everything.
        // The handler object itself goes with the stream, let go of at an idle moment (with
        // thousands of others when a fan-out ends them together: `HTTP2Stream.releaseWhenIdle`).
        stream.context = handler
        stream.releaseWhenIdle = true
        handler = nil
        onWritable = nil
        fields = HTTPHeaders()
        state = .webSocket(HTTP2WebSocketStream(stream: stream, socket: socket, set: adapter.webSockets, loop: eventLoop,
                                                limit: limit))
        return socket
    }

    private func responded() {
        state = .responded
        if requestEnded { handler = nil }
    }
}

extension TLSServer {
    /// An HTTP listener: offers `h2` then `http/1.1`; an `h2` connection serves `application` on
    /// its streams (WebSockets too, by extended CONNECT, with `HTTP2Configuration.httpListener`),
    /// an `http/1.1` one (or one without ALPN) runs an `HTTP1Session`.
    public static func http(group: EventLoopGroup, tls: TLSContext, application: HTTPApplication,
                            configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                            http2: HTTP2Configuration = .httpListener) -> TLSServer {
        TLSServer(group: group, tls: tls, alpnProtocols: [ALPNProtocol.http2, ALPNProtocol.http1],
                  releaseIdleTLSBuffers: true, compactTLSRecordLayer: true) { alpn, loop in
            if alpn == ALPNProtocol.http2 {
                let s = HTTP2Session(server: true, configuration: http2)
                s.delegate = HTTP2ApplicationAdapter(application: application, configuration: configuration, loop: loop)
                return s
            }
            return HTTP1Session(loop: loop, application: application, configuration: configuration)
        }
    }
}

extension TLSServer {
    /// A cleartext HTTP/1.1 listener (no TLS, no h2c) serving `application`, as KDF's RPC port is
    /// by default.
    public static func plainHTTP1(group: EventLoopGroup, application: HTTPApplication,
                                  configuration: HTTPServerConfiguration = HTTPServerConfiguration()) -> TLSServer {
        TLSServer(group: group, tls: nil, alpnProtocols: [ALPNProtocol.http1]) { _, loop in
            HTTP1Session(loop: loop, application: application, configuration: configuration)
        }
    }
}
