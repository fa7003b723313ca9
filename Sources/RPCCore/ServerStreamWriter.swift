/// The response side of a server-streaming (or bidi) call, on whatever face it arrived. Bounded,
/// with a high watermark of `maxBufferedBytes` (default 256 KiB): `send` accepts a message while
/// less than that is queued, so at most `maxBufferedBytes` + one message is ever buffered. Once
/// the watermark is reached `isWritable` turns false, `send` returns false (and drops nothing
/// already queued), and `onReady` fires when the buffer has drained to half: a producer pulls
/// its next item then.
///
/// On the loop thread, `isWritable == true` guarantees the next `send` is accepted. From other
/// threads `send` hands the message to the loop and returns true if the writer looked writable;
/// the loop may still refuse it (call ended, or full by then), so pull-based producers should run
/// on the loop (`ServerCallContext.eventLoop.execute`).
public struct ServerStreamWriter: Sendable {
    let call: ServerCallContext
    package init(call: ServerCallContext) { self.call = call }

    /// Buffer limit for this stream, in bytes of encoded messages not yet sent.
    public var maxBufferedBytes: Int {
        get { call.maxBuffered }
        nonmutating set { call.maxBuffered = newValue }
    }

    /// Queues one message (serialized protobuf). Returns false (and queues nothing) when the
    /// writer is full, the call has ended or was cancelled.
    @discardableResult
    public func send(_ message: [UInt8]) -> Bool {
        let c = call
        if c.eventLoop.inEventLoop { return c.sendStreaming(message) }
        guard c.acceptingFromOtherThreads() else { return false }
        c.eventLoop.execute { _ = c.sendStreaming(message) }
        return true
    }

    /// As `send(_: [UInt8])` for a message encoded once (e.g. one update fanned out to many
    /// streams): queued by reference, not copied into this stream's buffer.
    @discardableResult
    public func send(_ message: EncodedMessage) -> Bool {
        let c = call
        if c.eventLoop.inEventLoop { return c.sendStreaming(message) }
        guard c.acceptingFromOtherThreads() else { return false }
        c.eventLoop.execute { _ = c.sendStreaming(message) }
        return true
    }

    /// True when `send` would accept a message now.
    public var isWritable: Bool { call.acceptingFromOtherThreads() }

    /// `callback` runs on the loop each time the writer stops being full (buffer drained to half of
    /// `maxBufferedBytes`): the producer can pull its next message then. Replaces any previous one.
    public func onReady(_ callback: @escaping @Sendable () -> Void) {
        let c = call
        if c.eventLoop.inEventLoop { c.readyCallback = callback } else { c.eventLoop.execute { c.readyCallback = callback } }
    }

    /// Ends the stream with `status` (OK by default) after the queued messages.
    public func finish(_ status: GRPCStatus = .ok) {
        let c = call
        if c.eventLoop.inEventLoop { c.finish(status) } else { c.eventLoop.execute { c.finish(status) } }
    }
}
