import RPCCore
import Transport

/// A pull-based source of stream messages: the control tower's mailboxes and the invoice
/// subscriptions fit it. `poll` returns the next item or nil when empty; `setWakeup` installs a
/// thread-safe callback run when the source goes from empty to non-empty; `isFinished` means no
/// item will ever come again (the stream then ends with OK); `cancel` detaches it from its producer.
public protocol PollableSource: AnyObject, Sendable {
    associatedtype Item
    func poll() -> Item?
    var isFinished: Bool { get }
    func setWakeup(_ callback: @escaping @Sendable () -> Void)
    func cancel()
    /// `poll()` and, when that returned nil or the last item, `isFinished`, in one step (a source
    /// under a lock answers both with one acquisition). Default: the two calls.
    func pollNext() -> (item: Item?, finished: Bool)
}

extension PollableSource {
    public func pollNext() -> (item: Item?, finished: Bool) {
        if let i = poll() { return (i, false) }
        return (nil, isFinished)
    }
}

/// Moves items from a `PollableSource` into a bounded `ServerStreamWriter`, on the call's event
/// loop, only as fast as the client reads: the source keeps at most what it keeps (for a payment
/// mailbox, the newest snapshot plus the terminal one), the writer at most its byte budget.
///
/// Contract: `start` is called on the call's loop. Every later step runs on that loop (the
/// source's wake-up hops there with `execute`). The pump ends the stream with OK once the source
/// is finished and drained, and cancels the source when the call is cancelled.
public final class StreamPump<Source: PollableSource>: EventLoopTask, @unchecked Sendable {
    let source: Source
    let writer: ServerStreamWriter
    let loop: EventLoop
    let encode: (Source.Item) -> EncodedMessage?
    let finalStatus: () -> GRPCStatus
    private var first: Source.Item?
    private var done = false { didSet { if done && !oldValue { ended() } } }

    /// - Parameters:
    ///   - encode: serializes an item, or returns nil to skip it (filters such as
    ///     `no_inflight_updates`).
    ///   - finalStatus: the status the stream ends with once the source is finished and drained.
    ///   - first: an item sent before anything the source yields (already taken from it).
    public convenience init(source: Source, writer: ServerStreamWriter, context: ServerCallContext,
                            finalStatus: @escaping () -> GRPCStatus = { .ok }, first: Source.Item? = nil,
                            encode: @escaping (Source.Item) -> [UInt8]?) {
        self.init(source: source, writer: writer, context: context, finalStatus: finalStatus, first: first,
                  encodeFramed: { encode($0).map(EncodedMessage.init(message:)) })
    }

    /// As above with an encoder returning framed messages: a framed message shared by many
    /// streams (a cached terminal update) is queued on each by reference, never copied.
    public init(source: Source, writer: ServerStreamWriter, context: ServerCallContext,
                finalStatus: @escaping () -> GRPCStatus = { .ok }, first: Source.Item? = nil,
                encodeFramed: @escaping (Source.Item) -> EncodedMessage?) {
        self.source = source
        self.writer = writer
        self.loop = context.eventLoop
        self.encode = encodeFramed
        self.finalStatus = finalStatus
        self.first = first
        context.onCancel { [self] in
            done = true
            source.cancel()
        }
    }

    /// The pump is over: drop the source's wake-up (which holds this pump) so that source and
    /// pump do not keep each other alive.
    private func ended() {
        source.setWakeup {}
    }

    /// Starts pumping (loop thread).
    public func start() {
        // The wake-up queues the pump itself on its loop (no closure per update): a fan-out of
        // one update to many streams is one queue slot per stream and one loop wake-up per loop.
        source.setWakeup { [self] in loop.execute(self as EventLoopTask) }
        writer.onReady { [self] in pump() }
        pump()
    }

    /// Sends what the source has while the writer accepts; finishes after the last item (at
    /// once when the source reports the item it returned as its last: one source lock per item).
    func pump() {
        while !done {
            guard writer.isWritable else { return }
            let next: Source.Item?
            var finished = false
            if let f = first { first = nil; next = f } else { (next, finished) = source.pollNext() }
            if let item = next, let framed = encode(item) {
                if !writer.send(framed) && !finished {
                    // The writer refused (call ended); nothing more to do.
                    if !writer.isWritable { return }
                }
            } else if next != nil && !finished {
                continue   // filtered out (e.g. no_inflight_updates)
            }
            if finished {
                done = true
                writer.finish(finalStatus())
                return
            }
            if next == nil { return }
        }
    }

    /// `EventLoopTask`: a wake-up from the source (loop thread).
    public func runOnLoop() { pump() }

    /// Ends the stream early with `status` (e.g. UNAVAILABLE on shutdown) and detaches the source.
    public func stop(_ status: GRPCStatus) {
        guard !done else { return }
        done = true
        source.cancel()
        writer.finish(status)
    }
}

