import Transport
import Synchronization

/// One server call: what a handler knows about it (public API below) and, internally, the call's
/// protocol state (ServerCall.swift). One object per call.
///
/// Thread rules: created and driven on the connection's loop. `onCancel` and `connectionStorage`
/// are loop-only (a handler's synchronous part runs there); `isCancelled`, `path`, `metadata`,
/// `peerAddress`, `deadline` may be read from any thread once the handler has been invoked.
public class ServerCallContext: @unchecked Sendable {
    // MARK: Public view

    /// Full method path, e.g. "/routerrpc.Router/TrackPaymentV2".
    public var path: String { routeIndex.map { connection.server.router.routes[$0].path } ?? unmatchedPath }
    /// Custom request headers (pseudo-headers and gRPC-reserved ones removed; "-bin" decoded).
    public internal(set) var metadata = Metadata()
    /// The client's address, "ip:port".
    public var peerAddress: String { stream.session.peerAddress }
    /// Monotonic deadline (compare with `Transport.monotonicNanos()`), or nil without grpc-timeout.
    public internal(set) var deadline: UInt64?
    /// The loop this call lives on; completions from other threads are handed to it.
    public let eventLoop: EventLoop

    /// Service part of `path` ("routerrpc.Router").
    public var serviceName: Substring {
        if let i = routeIndex { return connection.server.router.routes[i].service }
        let p = path
        let u = p.utf8
        guard u.first == UInt8(ascii: "/") else { return "" }
        let start = u.index(after: u.startIndex)
        let end = u[start...].firstIndex(of: UInt8(ascii: "/")) ?? u.endIndex
        return p[start..<end]
    }

    /// Method part of `path` ("TrackPaymentV2").
    public var methodName: Substring {
        if let i = routeIndex { return connection.server.router.routes[i].method }
        let p = path
        let u = p.utf8
        guard let i = u.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return p[u.index(after: i)...]
    }

    /// A per-connection slot (e.g. a macaroon verification cache), shared by all calls on this
    /// connection. Loop thread only.
    public var connectionStorage: AnyObject? {
        get { stream.session.connectionContext }
        set { stream.session.connectionContext = newValue }
    }

    /// True once the call was cancelled (RST_STREAM, connection lost, deadline, shutdown).
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Registers `callback` to run on the loop when the call is cancelled before it completed. If it
    /// already was, the callback runs immediately. Loop thread only.
    public func onCancel(_ callback: @escaping () -> Void) {
        if isCancelled { callback(); return }
        cancelCallbacks.append(callback)
    }

    // MARK: Internal call state (driven by ServerCall.swift)

    let stream: HTTP2Stream
    let connection: ServerConnectionHandler
    var cancelCallbacks: [() -> Void] = []
    let cancelled = Atomic<Bool>(false)
    var routeIndex: Int?
    var unmatchedPath = ""
    var isPOST = false
    var contentTypeOK = false
    var contentTypeSeen = false
    var timeoutNanos: UInt64?
    var badTimeout = false
    var encoding: String?
    var deframer: MessageDeframer?
    var request: [UInt8]?
    var extraMessages = false
    var handler: RPCHandler?
    var bidi: BidiRequestHandler?
    var deadlineTimer: EventLoopTimer?
    var headersEnded = false    // the request's header block ended (metadata copied in)
    var accepted = false        // passed routing and interceptors
    var dispatched = false
    var finished = false
    var failedEarly = false
    var maxBuffered = 256 * 1024
    var readyCallback: (@Sendable () -> Void)?
    let fullFlag = Atomic<Bool>(false)
    let doneFlag = Atomic<Bool>(false)
    var isStreaming = false
    // Intrusive list of this connection's streaming calls until their stream is released (shutdown).
    unowned(unsafe) var prevStreaming: ServerCallContext?
    unowned(unsafe) var nextStreaming: ServerCallContext?
    var inStreamingList = false

    init(stream: HTTP2Stream, loop: EventLoop, connection: ServerConnectionHandler) {
        self.stream = stream; self.eventLoop = loop; self.connection = connection
    }

    func cancel() {
        guard cancelled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let cbs = cancelCallbacks
        cancelCallbacks.removeAll()
        for cb in cbs { cb() }
    }
}
