import Transport

/// A method implementation. Handlers are invoked on the connection's loop thread, synchronously,
/// with the single request message as raw bytes. They may complete synchronously (fast path) or
/// later from any thread.
public enum RPCHandler: Sendable {
    /// Unary: exactly one response (`respond`) or a failure (`fail`).
    case unary(@Sendable (ServerCallContext, [UInt8], UnaryResponder) -> Void)
    /// Server streaming: any number of `send`s, then `finish`.
    case serverStreaming(@Sendable (ServerCallContext, [UInt8], ServerStreamWriter) -> Void)
    /// Bidirectional streaming (used by server reflection): invoked once the call is accepted,
    /// before any request message; returns the callbacks for incoming messages (loop thread).
    case bidiStreaming(@Sendable (ServerCallContext, ServerStreamWriter) -> BidiRequestHandler)
}

/// Receives the request messages of a bidirectional call, on the loop thread.
public struct BidiRequestHandler {
    public var onMessage: ([UInt8]) -> Void
    /// The client half-closed its side.
    public var onEnd: () -> Void
    public init(onMessage: @escaping ([UInt8]) -> Void, onEnd: @escaping () -> Void) {
        self.onMessage = onMessage; self.onEnd = onEnd
    }
}

/// A service: its full name ("routerrpc.Router") and methods by name ("TrackPaymentV2").
public protocol GRPCService: Sendable {
    var serviceName: String { get }
    var methods: [String: RPCHandler] { get }
    /// The status this service's open server streams end with when the server shuts down
    /// (default: UNAVAILABLE "server shutting down"). Calls started while draining get it too.
    var shutdownStatus: GRPCStatus { get }
}

extension GRPCService {
    public var shutdownStatus: GRPCStatus { GRPCStatus(.unavailable, "server shutting down") }
}

/// A simple `GRPCService` built from a dictionary.
public struct ServiceDefinition: GRPCService {
    public let serviceName: String
    public let methods: [String: RPCHandler]
    public init(name: String, methods: [String: RPCHandler]) { serviceName = name; self.methods = methods }
}

/// Runs before the handler, on the loop, after routing and before the request body is read.
/// Returning a status refuses the call with it (e.g. `.unauthenticated`/`.permissionDenied` for
/// macaroon checks); returning nil lets it through.
public protocol ServerInterceptor: Sendable {
    func intercept(_ context: ServerCallContext) -> GRPCStatus?
}

/// Completes a unary call. Callable from any thread, once; later calls are ignored.
public struct UnaryResponder: Sendable {
    let call: ServerCall
    init(call: ServerCall) { self.call = call }

    /// Sends `message` (serialized protobuf) and status OK.
    public func respond(_ message: [UInt8]) {
        let c = call
        if c.loop.inEventLoop { c.respondUnary(message) } else { c.loop.execute { c.respondUnary(message) } }
    }

    /// Ends the call with a non-OK status (trailers-only response).
    public func fail(_ status: GRPCStatus) {
        let c = call
        if c.loop.inEventLoop { c.finish(status) } else { c.loop.execute { c.finish(status) } }
    }

    public func fail(_ code: GRPCStatus.Code, _ message: String) { fail(GRPCStatus(code, message)) }
}

/// The response side of a server-streaming (or bidi) call. Bounded, with a high watermark of
/// `maxBufferedBytes` (default 256 KiB): `send` accepts a message while less than that is queued,
/// so at most `maxBufferedBytes` + one message is ever buffered. Once the watermark is reached
/// `isWritable` turns false, `send` returns false (and drops nothing already queued), and `onReady`
/// fires when the buffer has drained to half: a producer pulls its next item then.
///
/// On the loop thread, `isWritable == true` guarantees the next `send` is accepted. From other
/// threads `send` hands the message to the loop and returns true if the writer looked writable;
/// the loop may still refuse it (call ended, or full by then), so pull-based producers should run on
/// the loop (`ServerCallContext.eventLoop.execute`).
public struct ServerStreamWriter: Sendable {
    let call: ServerCall
    init(call: ServerCall) { self.call = call }

    /// Buffer limit for this stream, in bytes of framed messages not yet sent.
    public var maxBufferedBytes: Int {
        get { call.maxBuffered }
        nonmutating set { call.maxBuffered = newValue }
    }

    /// Queues one message. Returns false (and queues nothing) when the writer is full, the call has
    /// ended or was cancelled.
    @discardableResult
    public func send(_ message: [UInt8]) -> Bool {
        let c = call
        if c.loop.inEventLoop { return c.sendStreaming(message) }
        guard c.acceptingFromOtherThreads() else { return false }
        c.loop.execute { _ = c.sendStreaming(message) }
        return true
    }

    /// As `send(_: [UInt8])` for a message framed once (e.g. one update fanned out to many
    /// streams): queued by reference, not copied into this stream's buffer.
    @discardableResult
    public func send(_ message: FramedMessage) -> Bool {
        let c = call
        if c.loop.inEventLoop { return c.sendStreamingFramed(message.bytes) }
        guard c.acceptingFromOtherThreads() else { return false }
        c.loop.execute { _ = c.sendStreamingFramed(message.bytes) }
        return true
    }

    /// True when `send` would accept a message now.
    public var isWritable: Bool { call.acceptingFromOtherThreads() }

    /// `callback` runs on the loop each time the writer stops being full (buffer drained to half of
    /// `maxBufferedBytes`): the producer can pull its next message then. Replaces any previous one.
    public func onReady(_ callback: @escaping @Sendable () -> Void) {
        let c = call
        if c.loop.inEventLoop { c.readyCallback = callback } else { c.loop.execute { c.readyCallback = callback } }
    }

    /// Ends the stream with `status` (OK by default) after the queued messages.
    public func finish(_ status: GRPCStatus = .ok) {
        let c = call
        if c.loop.inEventLoop { c.finish(status) } else { c.loop.execute { c.finish(status) } }
    }
}
