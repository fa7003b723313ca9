/// The protocol a `Connection` runs after its TLS handshake, chosen by the negotiated ALPN
/// (`h2` -> `HTTP2Session`, `http/1.1` or none -> `HTTP1Session`).
///
/// Contract: a handler is pure protocol state (plaintext bytes in, plaintext bytes out,
/// callbacks); it never touches a socket, a TLS object or a timer. It is confined to the
/// connection's loop thread. The connection:
///  - feeds every decrypted byte to `receive` (false: fatal; the connection flushes what
///    `produceWhile` still yields, e.g. a GOAWAY or a 400, and closes);
///  - drains output with `produceWhile` whenever `onNeedsFlush` was called or bytes were
///    received, stopping while the socket's backlog is over its bound (the handler then keeps
///    the rest in its own bounded buffers and tells its writers "not writable");
///  - closes once `isAlive` turns false and everything produced was sent;
///  - arms one timer for `nextDeadline` (monotonic nanoseconds) and calls `deadlineReached`
///    when it passes (idle keep-alive, slow-header deadline, WebSocket ping/pong);
///  - calls `releaseIdle` at the loop's next idle moment after `onIdleWork` asked for it;
///  - calls `beginGracefulShutdown` when the server drains, and `connectionClosed` exactly once
///    when the connection ends (every request/stream still open hears "cancelled").
public protocol ConnectionProtocolHandler: AnyObject {
    /// Processes received plaintext. Returns false on a fatal protocol error.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Drains bytes to send, calling `sink` with each chunk (valid only during the call) until
    /// it returns false or nothing is left. Returns false on a fatal error.
    func produceWhile(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool
    /// False while the handler cannot take more input (HTTP/1.1: too many pipelined requests
    /// unanswered, or an upgrade undecided): the connection stops reading until a later
    /// `produceWhile` finds it true again.
    var wantsInput: Bool { get }
    /// True while the protocol still wants to read or write.
    var isAlive: Bool { get }
    /// Set by the connection: called when activity outside `receive` left bytes to send.
    var onNeedsFlush: (() -> Void)? { get set }
    /// Set by the connection: called when the handler has work for the loop's idle moment
    /// (`releaseIdle`).
    var onIdleWork: (() -> Void)? { get set }
    /// Idle-time housekeeping (e.g. letting go of closed HTTP/2 streams).
    func releaseIdle()
    /// The peer's address as "ip:port" ("[ip]:port" for IPv6); set by the connection.
    var peerAddress: String { get set }
    /// The next monotonic time (nanoseconds) at which `deadlineReached` must run, if any.
    var nextDeadline: UInt64? { get }
    /// A deadline passed (`now` is `monotonicNanos()`): the handler acts (answers 408, pings,
    /// closes) and may set a new `nextDeadline`.
    func deadlineReached(now: UInt64)
    /// Starts a graceful shutdown: in-flight work may finish; nothing new starts.
    func beginGracefulShutdown()
    /// The connection is gone (called once): everything still open is cancelled.
    func connectionClosed()
}

/// ALPN protocol identifiers (RFC 7301 registry) this transport speaks.
public enum ALPNProtocol {
    public static let http2 = "h2"
    public static let http1 = "http/1.1"
}
