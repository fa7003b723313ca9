import Transport

/// What a handler knows about its call. Created on the connection's loop; its mutable parts
/// (`onCancel`, `connectionStorage`) must be used on that loop (the handler's synchronous part runs
/// there). `isCancelled` may be read from any thread.
public final class ServerCallContext: @unchecked Sendable {
    /// Full method path, e.g. "/routerrpc.Router/TrackPaymentV2".
    public let path: String
    /// Custom request headers (pseudo-headers and gRPC-reserved ones removed; "-bin" decoded).
    public let metadata: Metadata
    /// The client's address, "ip:port".
    public let peerAddress: String
    /// Monotonic deadline (see `Transport.monotonicNanos()`), or nil without grpc-timeout.
    public let deadline: UInt64?
    /// The loop this call lives on; completions from other threads are handed to it.
    public let eventLoop: EventLoop
    unowned(unsafe) let session: HTTP2Session
    var cancelCallbacks: [() -> Void] = []
    private let cancelLock = Lock()
    private var _cancelled = false

    init(path: String, metadata: Metadata, peerAddress: String, deadline: UInt64?, eventLoop: EventLoop, session: HTTP2Session) {
        self.path = path; self.metadata = metadata; self.peerAddress = peerAddress
        self.deadline = deadline; self.eventLoop = eventLoop; self.session = session
    }

    /// Service name part of `path` ("routerrpc.Router").
    public var serviceName: Substring {
        let p = path.dropFirst()
        return p.prefix { $0 != "/" }
    }

    /// Method name part of `path` ("TrackPaymentV2").
    public var methodName: Substring {
        guard let i = path.lastIndex(of: "/") else { return "" }
        return path[path.index(after: i)...]
    }

    /// A per-connection slot (e.g. a macaroon verification cache), shared by all calls on this
    /// connection. Loop thread only.
    public var connectionStorage: AnyObject? {
        get { session.connectionContext }
        set { session.connectionContext = newValue }
    }

    /// True once the call was cancelled (RST_STREAM, connection lost, deadline, shutdown).
    public var isCancelled: Bool { cancelLock.withLock { _cancelled } }

    /// Registers `callback` to run on the loop when the call is cancelled before completing. If it
    /// already was, the callback runs immediately. Loop thread only.
    public func onCancel(_ callback: @escaping () -> Void) {
        if isCancelled { callback(); return }
        cancelCallbacks.append(callback)
    }

    func cancel() {
        let first: Bool = cancelLock.withLock { let f = !_cancelled; _cancelled = true; return f }
        guard first else { return }
        let cbs = cancelCallbacks
        cancelCallbacks.removeAll()
        for cb in cbs { cb() }
    }
}
