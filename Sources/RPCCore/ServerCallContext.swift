import Transport
import Synchronization
import Metrics

/// One server call as its handler sees it, whatever face it arrived on: its method, metadata,
/// peer, deadline, loop and cancellation. Each face subclasses it (gRPC's `ServerCall`, the REST
/// gateway's and WebSocket proxy's calls) and implements the response primitives below, which
/// `UnaryResponder` and `ServerStreamWriter` drive; handlers never see HTTP/2, HTTP/1.1, gRPC
/// framing or JSON.
///
/// Thread rules: created and driven on the connection's loop. `onCancel` and `connectionStorage`
/// are loop-only (a handler's synchronous part runs there); `isCancelled`, `path`, `metadata`,
/// `peerAddress`, `deadline` may be read from any thread once the handler has been invoked.
open class ServerCallContext: @unchecked Sendable {
    // MARK: Handler's view

    /// The loop this call lives on; completions from other threads are handed to it.
    public let eventLoop: EventLoop
    /// Custom request metadata, lowercase keys (gRPC: headers less pseudo-headers and gRPC's own,
    /// "-bin" decoded; REST: `Grpc-Metadata-*` headers with the prefix removed).
    public package(set) var metadata = Metadata()
    /// Monotonic deadline (compare with `Transport.monotonicNanos()`), or nil.
    public package(set) var deadline: UInt64?

    /// Full gRPC method path, e.g. "/routerrpc.Router/TrackPaymentV2" (REST routes name the method
    /// they run the same way).
    open var path: String { "" }
    /// The client's address, "ip:port".
    open var peerAddress: String { "" }

    /// A per-connection slot (e.g. a macaroon verification cache), shared by all calls on the
    /// same connection. Loop thread only.
    open var connectionStorage: AnyObject? {
        get { nil }
        set {}
    }

    /// Service part of `path` ("routerrpc.Router").
    open var serviceName: Substring {
        let p = path
        let u = p.utf8
        guard u.first == UInt8(ascii: "/") else { return "" }
        let start = u.index(after: u.startIndex)
        let end = u[start...].firstIndex(of: UInt8(ascii: "/")) ?? u.endIndex
        return p[start..<end]
    }

    /// Method part of `path` ("TrackPaymentV2").
    open var methodName: Substring {
        let p = path
        let u = p.utf8
        guard let i = u.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return p[u.index(after: i)...]
    }

    /// True once the call was cancelled (client reset or disconnect, deadline, shutdown).
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Registers `callback` to run on the loop when the call is cancelled before it completed. If it
    /// already was, the callback runs immediately. Loop thread only.
    public func onCancel(_ callback: @escaping () -> Void) {
        if isCancelled { callback(); return }
        cancelCallbacks.append(callback)
    }

    public init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    /// The handler is done with `metadata` (it read what it needed in its synchronous part, as
    /// the macaroon check did before it): frees it, so that a long-lived stream keeps nothing of
    /// its request's headers (a macaroon alone is ≈ 500 bytes of hex per stream). Loop thread
    /// only, from the handler; `metadata` is empty afterwards.
    package func discardMetadata() { metadata = Metadata() }

    // MARK: Shared call state (faces drive it)

    package var cancelCallbacks: [() -> Void] = []
    package let cancelled = Atomic<Bool>(false)
    /// Writer buffer limit in bytes (see `ServerStreamWriter.maxBufferedBytes`).
    package var maxBuffered = 256 * 1024
    /// Set by `ServerStreamWriter.onReady`; the face calls it when a full writer drained to half.
    package var readyCallback: (@Sendable () -> Void)?
    /// Writer full (the face clears it when the buffer drained to half).
    package let fullFlag = Atomic<Bool>(false)
    /// The call has ended (responded, finished or closed).
    package let doneFlag = Atomic<Bool>(false)
    /// The call's metrics while it is measured (see ServerCallContext+Metrics.swift); nil when
    /// metrics are off or the call's end was recorded.
    package var metricsSeries: RPCMethodSeries?
    package var metricsStartNanos: UInt64 = 0
    package var metricsStreamOpen = false

    /// Runs the cancel callbacks once (loop thread).
    package func cancel() {
        guard cancelled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let cbs = cancelCallbacks
        cancelCallbacks.removeAll()
        for cb in cbs { cb() }
    }

    /// What other threads see: a send would be taken (not full, not ended).
    @inline(__always) package final func acceptingFromOtherThreads() -> Bool {
        !fullFlag.load(ordering: .relaxed) && !doneFlag.load(ordering: .relaxed)
    }

    // MARK: Response primitives (loop thread; each face overrides all four)

    /// Sends the one response of a unary call (serialized protobuf) and ends it with OK.
    open func respondUnary(_ message: [UInt8]) { preconditionFailure("\(Self.self) must override respondUnary") }

    /// Ends the call with `status` after whatever was queued (a non-OK status before any message
    /// is the face's error response).
    open func finish(_ status: GRPCStatus) { preconditionFailure("\(Self.self) must override finish") }

    /// Queues one streamed message (serialized protobuf); false when full or ended (nothing queued).
    open func sendStreaming(_ message: [UInt8]) -> Bool { preconditionFailure("\(Self.self) must override sendStreaming") }

    /// As `sendStreaming(_: [UInt8])` for a message encoded once and shared (queued by reference
    /// where the face can; other faces memoize their form in `EncodedMessage.alternate`).
    open func sendStreaming(_ message: EncodedMessage) -> Bool { preconditionFailure("\(Self.self) must override sendStreaming") }
}
