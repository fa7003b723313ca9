/// Completes a unary call on whatever face it arrived. Callable from any thread, once; later
/// calls are ignored.
public struct UnaryResponder: Sendable {
    let call: ServerCallContext
    package init(call: ServerCallContext) { self.call = call }

    /// Sends `message` (serialized protobuf) and status OK.
    public func respond(_ message: [UInt8]) {
        let c = call
        if c.eventLoop.inEventLoop { c.respondUnary(message) } else { c.eventLoop.execute { c.respondUnary(message) } }
    }

    /// Ends the call with a non-OK status.
    public func fail(_ status: GRPCStatus) {
        let c = call
        if c.eventLoop.inEventLoop { c.finish(status) } else { c.eventLoop.execute { c.finish(status) } }
    }

    public func fail(_ code: GRPCStatus.Code, _ message: String) { fail(GRPCStatus(code, message)) }
}
