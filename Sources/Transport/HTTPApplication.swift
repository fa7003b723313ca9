/// An application served over HTTP (the REST gateway, a JSON-RPC server): the same object
/// answers requests arriving on HTTP/1.1 connections and on HTTP/2 streams of h2 connections
/// of an HTTP listener. Everything is called on the connection's loop thread.
public protocol HTTPApplication: AnyObject {
    /// A request head is complete. Returns the handler that receives its body and its end.
    /// The application answers through `writer` (now or later, on `writer.eventLoop`).
    /// On HTTP/1.1, pipelined requests are answered strictly in order: a later request's
    /// writer buffers (bounded) until the earlier responses are complete.
    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler
}

/// Receives one request's body and its outcome (loop thread).
///
/// Order: `body` zero or more times, then exactly one of `end` (the whole body arrived) or
/// `cancelled` (the peer went away, the stream was reset, or the request broke a limit after the
/// head: the transport has answered it itself, e.g. 413). `cancelled` may also come after `end`
/// while the response is still being written (the client went away before it was complete); it
/// never comes after the response ended.
public protocol HTTPRequestHandler: AnyObject {
    /// A chunk of the request body (chunked coding already removed).
    func body(_ chunk: [UInt8])
    /// The request body is complete.
    func end()
    /// The request is over without a complete response: stop producing; writes are ignored.
    func cancelled()
}

/// Answers one request (loop thread only; hand work to `eventLoop` from other threads).
///
/// Either `respond` once (a complete response with Content-Length), or `writeHead` then
/// `writeBody`... then `end` (a stream: chunked on HTTP/1.1, DATA frames on HTTP/2).
/// Output is bounded: `writeBody` returns false once the writer's buffer is over its limit (the
/// bytes given are still kept); wait for `onWritable` before writing more. Calls after the
/// response ended, or after `HTTPRequestHandler.cancelled`, are ignored.
/// Headers the transport owns are set by it and ignored when given: `Content-Length`,
/// `Transfer-Encoding`, `Connection`, `Keep-Alive`, `Upgrade` (and `Date`, added on HTTP/1.1).
public protocol HTTPResponseWriter: AnyObject {
    /// The loop this writer (and the request's handler) lives on.
    var eventLoop: EventLoop { get }
    /// The peer's address as "ip:port" ("[ip]:port" for IPv6).
    var peerAddress: String { get }
    /// "http/1.1" or "h2": the protocol the request arrived on.
    var protocolName: String { get }
    /// A slot for the application's per-connection state (e.g. an authentication cache); shared by
    /// every request of the connection, strong, released when the connection closes.
    var connectionStorage: AnyObject? { get set }

    /// Sends a complete response with `Content-Length: body.count` (HEAD requests: the length,
    /// no body).
    func respond(status: Int, headers: HTTPHeaders, body: [UInt8])
    /// Starts a streamed response (HTTP/1.1: `Transfer-Encoding: chunked`, or close-delimited
    /// for an HTTP/1.0 client).
    func writeHead(status: Int, headers: HTTPHeaders)
    /// Appends body bytes to a streamed response. Returns false when the buffer is now over its
    /// limit (the bytes are kept): write no more until `onWritable`.
    @discardableResult
    func writeBody(_ bytes: [UInt8]) -> Bool
    /// Ends a streamed response.
    func end()
    /// True while `writeBody` would accept more.
    var isWritable: Bool { get }
    /// Called (loop thread) when the buffer drained below its limit after `writeBody` returned false.
    var onWritable: (() -> Void)? { get set }

    /// For a request with `head.isWebSocketUpgrade`: completes the opening handshake and returns
    /// the channel; `handler` then receives messages. HTTP/1.1: RFC 6455 (101,
    /// `Sec-WebSocket-Accept`); HTTP/2: RFC 8441 (200 to the extended CONNECT, the stream then
    /// carries the frames). Either way `Sec-WebSocket-Protocol: subprotocol` is sent when given (it
    /// must be one the client offered). Returns nil when the request is not a valid opening
    /// handshake: the transport has answered 400, or 426 for a version other than 13.
    func acceptWebSocket(subprotocol: String?, handler: WebSocketHandler) -> WebSocketChannel?
}

/// Receives one WebSocket's messages (loop thread).
public protocol WebSocketHandler: AnyObject {
    /// A complete text message (UTF-8 validated; fragments reassembled).
    func text(_ channel: WebSocketChannel, _ message: String)
    /// A complete binary message (fragments reassembled).
    func binary(_ channel: WebSocketChannel, _ message: [UInt8])
    /// The WebSocket ended (once): `code` is the close code received or sent (1000 normal,
    /// 1006 when the connection was lost without a close frame, 1007 bad UTF-8, 1009 too big,
    /// 1002 protocol error, 1001 going away, 1011 pong timeout), `reason` its text.
    func closed(code: UInt16, reason: String)
}

/// The server side of one WebSocket (loop thread only; hand work to `eventLoop`).
public protocol WebSocketChannel: AnyObject {
    var eventLoop: EventLoop { get }
    /// Queues a text message. Returns false when the outgoing queue is now over its limit
    /// (the message is kept): send no more until `onWritable`. Ignored after close.
    @discardableResult
    func send(text: String) -> Bool
    /// Queues a binary message (same contract as `send(text:)`).
    @discardableResult
    func send(binary: [UInt8]) -> Bool
    /// Queues a frame built once (e.g. one text message fanned out to many WebSockets: its bytes
    /// are shared, not copied). Same contract as `send(text:)`.
    @discardableResult
    func send(frame: WebSocketServerFrame) -> Bool
    /// True while the outgoing queue is under its limit.
    var isWritable: Bool { get }
    /// Called when the queue drained below its limit after a send returned false.
    var onWritable: (() -> Void)? { get set }
    /// Starts the closing handshake with `code` (e.g. 1000) and `reason` (at most 123 bytes of UTF-8);
    /// the connection closes when the peer answers or after a short wait.
    func close(code: UInt16, reason: String)
    /// The subprotocol accepted in the handshake, if any.
    var subprotocol: String? { get }
}

/// Limits and timers of the HTTP face (HTTP/1.1 and WebSocket; HTTP/2 keeps `HTTP2Configuration`).
public struct HTTPServerConfiguration: Sendable {
    /// Largest request head (request line + header fields), answered 431 beyond (16 KiB).
    public var maxHeaderBytes = 16 * 1024
    /// Largest request body, answered 413 beyond (default: the gRPC receive limit, 200 MiB).
    public var maxBodyBytes = 200 * 1024 * 1024
    /// A keep-alive connection with no request in progress closes after this (60 s).
    public var idleTimeoutNanos: UInt64 = 60_000_000_000
    /// A request head must complete within this from its first byte, else 408 and close (10 s).
    public var headerTimeoutNanos: UInt64 = 10_000_000_000
    /// Pipelined requests received but not yet answered, beyond which reading pauses (HTTP/1.1).
    public var maxPipelinedRequests = 16
    /// Per-response (and per-WebSocket) output buffer above which writers see "not writable".
    public var responseBufferLimit = 256 * 1024
    /// After an error answer (400, 408, 413, 431), input is read and dropped for at most this long
    /// before the connection closes (a "lingering close", so a client still sending its request
    /// can read the answer instead of a reset) (2 s).
    public var errorLingerNanos: UInt64 = 2_000_000_000
    /// WebSocket settings.
    public var webSocket = WebSocketConfiguration()
    public init() {}
}

/// RFC 6455 settings of the server side.
public struct WebSocketConfiguration: Sendable {
    /// Largest message (after reassembly), closed with 1009 beyond (4 MiB).
    public var maxMessageBytes = 4 * 1024 * 1024
    /// The server pings after this much time without a ping sent (30 s) ...
    public var pingIntervalNanos: UInt64 = 30_000_000_000
    /// ... and closes the connection when no pong arrives within this (5 s).
    public var pongWaitNanos: UInt64 = 5_000_000_000
    /// The ping's payload (LND's WebSocket proxy sends this text).
    public var pingPayload = "are you there?"
    /// After sending a close frame, wait at most this for the peer's before closing (5 s).
    public var closeWaitNanos: UInt64 = 5_000_000_000
    public init() {}
}
