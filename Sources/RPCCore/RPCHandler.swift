/// A method implementation, independent of the wire it answers on (gRPC over HTTP/2, LND's REST
/// gateway, its WebSocket proxy): it takes the request as a serialized protobuf message and
/// answers through a `UnaryResponder` or `ServerStreamWriter`, also in serialized protobuf.
///
/// Handlers are invoked on the event loop that owns the call, synchronously. They may complete
/// synchronously (fast path) or later from any thread.
public enum RPCHandler: Sendable {
    /// Unary: exactly one response (`respond`) or a failure (`fail`).
    case unary(@Sendable (ServerCallContext, [UInt8], UnaryResponder) -> Void)
    /// Server streaming: any number of `send`s, then `finish`.
    case serverStreaming(@Sendable (ServerCallContext, [UInt8], ServerStreamWriter) -> Void)
    /// Bidirectional streaming: invoked once the call is accepted, before any request message;
    /// returns the callbacks for incoming messages (loop thread).
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
