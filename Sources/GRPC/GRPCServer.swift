import Metrics
import RPCCore
import Transport

/// Server options.
public struct GRPCServerConfiguration: Sendable {
    /// Largest request message accepted (LND: 200 MiB); larger → RESOURCE_EXHAUSTED.
    public var maxReceiveMessageSize = 200 * 1024 * 1024
    /// HTTP/2 settings and keepalive policy.
    public var http2 = HTTP2Configuration()
    /// Event loops (default: one per core in the affinity mask).
    public var loopCount: Int? = nil
    public init() {}
}

/// A gRPC server over TLS + HTTP/2 (nghttp2 + OpenSSL on epoll loops).
///
/// Handlers run on the loop that owns the connection (see `RPCHandler`). Start with `start`, stop
/// with `shutdown(gracePeriod:)`: in-flight unary calls finish, server streams end with their service's
/// `shutdownStatus` (default UNAVAILABLE).
public final class GRPCServer: @unchecked Sendable {
    public let router: MethodRouter
    public let interceptors: [ServerInterceptor]
    public let maxReceiveMessageSize: Int
    public let group: EventLoopGroup
    private var transport: HTTP2Server?
    let http2Configuration: HTTP2Configuration
    private let ownsGroup: Bool
    /// Per route (same index as `router.routes`): the RPC metrics of its method (api `grpc`);
    /// empty when metrics are off.
    let routeMetrics: [RPCMethodSeries]
    /// The series of calls to paths that match no route (method label `unknown`).
    let unknownMethodMetrics: RPCMethodSeries?

    /// - Parameters:
    ///   - services: the services to route to (add `HealthService`/`ReflectionService` here too).
    ///   - interceptors: run in order before each handler.
    ///   - tls: a server `TLSContext` (see `TLSContext(serverCertificatePath:privateKeyPath:)`).
    ///   - tls: nil builds a server without a network transport (only `makeServerSession`).
    ///   - metrics: when given, every call counts in its method's RPC series (api `grpc`; paths
    ///     that match no route as method `unknown`), timed from the end of its request headers.
    public init(services: [RPCService], interceptors: [ServerInterceptor] = [], tls: TLSContext?,
                configuration: GRPCServerConfiguration = GRPCServerConfiguration(), group: EventLoopGroup? = nil,
                metrics: RPCCallMetrics? = nil) {
        let router = MethodRouter(services: services)
        self.router = router
        routeMetrics = metrics.map { m in router.routes.map { m.series(api: "grpc", method: $0.path) } } ?? []
        unknownMethodMetrics = metrics?.series(api: "grpc", method: RPCCallMetrics.unknownMethod)
        self.interceptors = interceptors
        maxReceiveMessageSize = configuration.maxReceiveMessageSize
        ownsGroup = group == nil
        self.group = group ?? EventLoopGroup(loopCount: configuration.loopCount)
        http2Configuration = configuration.http2
        if let tls {
            transport = HTTP2Server(group: self.group, tls: tls, configuration: configuration.http2) { [unowned self] session in
                ServerConnectionHandler(server: self, session: session)
            }
        }
    }

    /// Counts the connections of this server's listeners (set before `start`).
    public var listenerMetrics: ListenerMetrics? {
        get { transport?.server.listenerMetrics }
        set { transport?.server.listenerMetrics = newValue }
    }

    /// Listens on `host:port` (port 0 = any); returns the bound port. Call from a non-loop thread.
    @discardableResult
    public func start(host: String, port: Int) throws -> Int {
        guard let transport else { throw GRPCStatus(.failedPrecondition, "server has no TLS transport") }
        return try transport.bind(host: host, port: port)
    }

    /// Graceful shutdown (blocking; call from a non-loop thread): stop accepting, GOAWAY, end server
    /// streams with UNAVAILABLE, let unary calls finish for up to `gracePeriod`, then close the
    /// rest and (if the server created them) stop its event loops.
    public func shutdown(gracePeriod: Duration) {
        let (s, atto) = gracePeriod.components
        let nanos = UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
        transport?.shutdown(gracePeriodNanos: nanos)
        if ownsGroup { group.shutdown() }
    }
}

extension GRPCServer {
    /// A socketless HTTP/2 server session routed to this server: feed it client bytes with
    /// `receive`, take frames with `produce`. Must be used on the thread of the loop it is bound to
    /// (the group's first loop, typically adopted with `EventLoop.adoptCurrentThread()`). For unit
    /// tests and fuzzing.
    public func makeServerSession(peerAddress: String = "test") -> HTTP2Session {
        let s = HTTP2Session(server: true, configuration: http2Configuration)
        s.peerAddress = peerAddress
        s.delegate = ServerConnectionHandler(server: self, session: s)
        return s
    }
}

/// Per-connection gRPC state: creates a `ServerCall` per stream and tracks server streams so a
/// graceful shutdown can end them with UNAVAILABLE. Loop thread only.
final class ServerConnectionHandler: HTTP2SessionDelegate {
    unowned(unsafe) let server: GRPCServer      // outlives its connections (shutdown closes them)
    unowned(unsafe) let session: HTTP2Session   // owns this handler
    private var streamingHead: ServerCall?   // intrusive list of streaming calls whose stream is not yet released
    private var draining = false
    let loop: EventLoop
    /// This connection's response headers and OK trailers.
    let headers = ConnectionHeaders()

    init(server: GRPCServer, session: HTTP2Session) {
        self.server = server; self.session = session
        loop = server.group.loops.first { $0.inEventLoop } ?? server.group.loops[0]
        headerScratch.reserveCapacity(1024)
    }

    /// The metadata of the request header block being received (see `ServerCall.appendMetadata`);
    /// emptied when each stream opens, its storage kept while at most `scratchLimit` bytes.
    var headerScratch = Metadata()
    static let scratchLimit = 4096

    func session(_ session: HTTP2Session, streamOpened stream: HTTP2Stream) {
        if headerScratch.count > 0 { headerScratch.removeAll(keepingAtMost: Self.scratchLimit) }
        let call = ServerCall(stream: stream, loop: loop, connection: self)
        stream.delegate = call
    }

    func sessionWillDrain(_ session: HTTP2Session) {
        draining = true
        while let c = streamingHead {
            streamingEnded(c)
            // Finished calls stay listed until their stream is released: nothing to end there.
            guard !c.finished else { continue }
            c.finish(shutdownStatus(of: c))
            c.cancel()
        }
    }

    func streamingStarted(_ c: ServerCall) {
        if draining {
            c.finish(shutdownStatus(of: c)); return
        }
        c.inStreamingList = true
        c.nextStreaming = streamingHead
        streamingHead?.prevStreaming = c
        streamingHead = c
    }

    /// What a streaming call ends with on shutdown: its service's `shutdownStatus`.
    private func shutdownStatus(of c: ServerCall) -> GRPCStatus {
        if let i = c.routeIndex { return server.router.routes[i].shutdownStatus }
        return GRPCStatus(.unavailable, "server shutting down")
    }

    func streamingEnded(_ c: ServerCall) {
        guard c.inStreamingList else { return }
        c.inStreamingList = false
        if let p = c.prevStreaming { p.nextStreaming = c.nextStreaming } else { streamingHead = c.nextStreaming }
        c.nextStreaming?.prevStreaming = c.prevStreaming
        c.prevStreaming = nil; c.nextStreaming = nil
    }
}
