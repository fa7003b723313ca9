import Locks
import Glibc
import COpenSSL
import CNghttp2
import Synchronization
import Metrics

/// Errors from socket setup.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
}

/// A TLS server: one listening socket per event loop (SO_REUSEPORT), so accepts are
/// spread by the kernel; each accepted connection then goes to the loop with the fewest live
/// connections (the accepting one on a tie) and stays there.
///
/// Why not keep the kernel's choice: SO_REUSEPORT picks a listener by a hash of the peer's address
/// and port, which is even only over many connections. With a few busy connections (ten clients
/// each holding a thousand TrackPaymentV2 streams) it often puts 7 or 8 of 10 on one of two loops,
/// and that loop alone then carries most of a fan-out while the other idles.
///
/// After the TLS handshake, `makeHandler` is called on the connection's loop with the negotiated
/// ALPN protocol (nil when the client offered none) and returns the `ConnectionProtocolHandler`
/// that runs the connection, or nil to refuse it. The listener offers `alpnProtocols` in its order
/// of preference (the first one the client also offers wins: list `h2` first).
public final class TLSServer: @unchecked Sendable {
    public let group: EventLoopGroup
    /// nil: a cleartext listener (its connections speak the last of `alpnProtocols`).
    let tls: TLSContext?
    let alpn: ALPNOffer
    let releaseIdleTLSBuffers: Bool
    let compactTLSRecordLayer: Bool
    let makeHandler: (_ alpn: String?, _ loop: EventLoop) -> ConnectionProtocolHandler?
    private var states: [LoopState] = []
    private let lock = Lock()
    private var shuttingDown = false
    /// Counts this listener's connections when set (before `bind`; read on the loops after).
    public var listenerMetrics: ListenerMetrics?

    /// Per-loop listener sockets and live connections; touched only on that loop.
    final class LoopState: EventLoopSelectable, @unchecked Sendable {
        unowned let loop: EventLoop
        unowned let server: TLSServer
        var listeners: [(fd: Int32, token: UInt64)] = []
        var connections: [ObjectIdentifier: Connection] = [:]
        /// Connections this loop holds or has been handed and not yet started: read by the other
        /// loops' accepts to pick the least-loaded loop.
        let load = Atomic<Int>(0)
        var draining = false
        var onEmpty: (() -> Void)?
        init(loop: EventLoop, server: TLSServer) { self.loop = loop; self.server = server }

        func handleEvents(readable: Bool, writable: Bool, hangup: Bool) {
            for l in listeners { acceptAll(l.fd) }
        }

        private func acceptAll(_ lfd: Int32) {
            for _ in 0..<64 {
                var ss = sockaddr_storage()
                var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = withUnsafeMutablePointer(to: &ss) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        pt_accept4_nonblock(lfd, $0, &len)
                    }
                }
                if fd < 0 { return }
                if draining { Glibc.close(fd); continue }
                let peer = formatAddress(&ss)
                let target = server.leastLoaded(preferring: self)
                target.load.add(1, ordering: .relaxed)
                if target === self {
                    adopt(fd: fd, peer: peer)
                } else {
                    target.loop.execute { target.adopt(fd: fd, peer: peer) }
                }
            }
        }

        /// Starts serving an accepted socket on this loop (loop thread; `load` already counts it).
        func adopt(fd: Int32, peer: String) {
            if draining { Glibc.close(fd); load.subtract(1, ordering: .relaxed); return }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
            let make = server.makeHandler
            let loop = self.loop
            let engine = server.tls.map { TLSEngine(context: $0, alpnOffer: server.alpn, releaseIdleBuffers: server.releaseIdleTLSBuffers,
                                                          compactRecordLayer: server.compactTLSRecordLayer) }
                ?? TLSEngine(cleartextProtocol: server.alpn.protocols.last!)
            let conn = Connection(fd: fd, loop: loop, tls: engine,
                                  peerAddress: peer) { alpn in make(alpn, loop) }
            let counted = server.listenerMetrics
            if let counted {
                counted.accepted.increment()
                counted.open.increment()
            }
            conn.onClose = { [unowned self] c in
                counted?.open.decrement()
                self.connections[ObjectIdentifier(c)] = nil
                self.load.subtract(1, ordering: .relaxed)
                if self.draining && self.connections.isEmpty { self.onEmpty?(); self.onEmpty = nil }
            }
            connections[ObjectIdentifier(conn)] = conn
            conn.start()
        }
    }

    /// The loop with the fewest live connections; `preferred` when it is among them.
    func leastLoaded(preferring preferred: LoopState) -> LoopState {
        var best = preferred
        var bestLoad = preferred.load.load(ordering: .relaxed)
        for st in states where st !== preferred {
            let l = st.load.load(ordering: .relaxed)
            if l < bestLoad { best = st; bestLoad = l }
        }
        return best
    }

    /// - Parameters:
    ///   - alpnProtocols: ALPN identifiers offered, most preferred first (e.g. `["h2"]` for gRPC,
    ///     `["h2", "http/1.1"]` for an HTTP listener).
    ///   - makeHandler: given the negotiated protocol (nil: the client sent no ALPN), the handler
    ///     for the connection, or nil to close it.
    ///   - releaseIdleTLSBuffers: let OpenSSL free each connection's record buffers while idle
    ///     (many mostly idle connections, e.g. WebSockets; see `TLSEngine`).
    ///   - compactTLSRecordLayer: connections over TLS 1.3 (HTTP/1.1 and HTTP/2) move to the compact record
    ///     layer (`TLSRecordLayer`) once quiescent, and their `SSL` objects are freed.
    public init(group: EventLoopGroup, tls: TLSContext?, alpnProtocols: [String], releaseIdleTLSBuffers: Bool = false,
                compactTLSRecordLayer: Bool = false,
                makeHandler: @escaping (_ alpn: String?, _ loop: EventLoop) -> ConnectionProtocolHandler?) {
        precondition(!alpnProtocols.isEmpty && alpnProtocols.allSatisfy { !$0.isEmpty && $0.utf8.count < 256 })
        self.group = group; self.tls = tls; self.makeHandler = makeHandler
        self.releaseIdleTLSBuffers = releaseIdleTLSBuffers
        self.compactTLSRecordLayer = compactTLSRecordLayer
        alpn = ALPNOffer(alpnProtocols)
        states = group.loops.map { LoopState(loop: $0, server: self) }
    }

    /// Binds `host:port` on every loop (port 0 picks one). Returns the bound port. Blocking; call
    /// from a non-loop thread.
    /// A port something already listens on is refused ("bind HOST:PORT: Address already in use"),
    /// even when that is another process's SO_REUSEPORT group (see `refuseServedPort`).
    @discardableResult
    public func bind(host: String, port: Int) throws -> Int {
        if port != 0 { try TLSServer.refuseServedPort(host: host, port: port) }
        var boundPort = port
        for st in states {
            let fd = try TLSServer.listenSocket(host: host, port: boundPort)
            if boundPort == 0 { boundPort = TLSServer.localPort(fd) }
            let latch = Latch<Bool>()
            st.loop.execute {
                let token = st.loop.register(fd: fd, st)
                st.listeners.append((fd, token))
                latch.fulfil(true)
            }
            _ = latch.wait()
        }
        return boundPort
    }

    /// The per-loop listeners share their port through SO_REUSEPORT, which Linux grants to any
    /// socket of the same user that sets it: a second daemon given a served port would bind it
    /// too and take a share of the first one's connections. A socket without SO_REUSEPORT cannot
    /// bind a port someone listens on, so one is bound (and closed) first; SO_REUSEADDR keeps
    /// connections of a previous process in TIME_WAIT from blocking a restart.
    static func refuseServedPort(host: String, port: Int) throws {
        Glibc.close(try listenSocket(host: host, port: port, reusePort: false))
    }

    static func listenSocket(host: String, port: Int, reusePort: Bool = true) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let h = host == "localhost" ? "127.0.0.1" : host
        guard getaddrinfo(h.isEmpty ? nil : h, String(port), &hints, &res) == 0, let ai = res else {
            throw SocketError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, 4) }
        guard Glibc.bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = SocketError("bind \(host):\(port)"); Glibc.close(fd); throw e
        }
        guard listen(fd, 1024) == 0 else { let e = SocketError("listen"); Glibc.close(fd); throw e }
        return fd
    }

    static func localPort(_ fd: Int32) -> Int {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let s = formatAddress(&ss)
        return Int(s.split(separator: ":").last ?? "0") ?? 0
    }

    /// Graceful shutdown: stop accepting, start every connection's graceful shutdown (HTTP/2: GOAWAY,
    /// the session delegates see `sessionWillDrain` and end their long-lived streams), wait up to `gracePeriodNanos` for
    /// in-flight streams, then close whatever is left. Blocks until done; call from a non-loop thread.
    public func shutdown(gracePeriodNanos: UInt64) {
        lock.withLock { shuttingDown = true }
        let done = states.map { _ in Latch<Bool>() }
        for (i, st) in states.enumerated() {
            let latch = done[i]
            st.loop.execute {
                st.draining = true
                for l in st.listeners { st.loop.deregister(fd: l.fd, token: l.token); Glibc.close(l.fd) }
                st.listeners.removeAll()
                if st.connections.isEmpty { latch.fulfil(true); return }
                st.onEmpty = { latch.fulfil(true) }
                for c in Array(st.connections.values) { c.beginGracefulShutdown() }
                st.loop.scheduleTimer(afterNanos: gracePeriodNanos) {
                    for c in Array(st.connections.values) { c.close() }
                    latch.fulfil(true)
                }
            }
        }
        for l in done { _ = l.wait() }
    }
}

/// The ALPN protocols a listener offers, in wire format (RFC 7301 §3.1: length-prefixed names),
/// handed to OpenSSL's select callback through the connection's `SSL` object. Immutable; lives as
/// long as its server (and so longer than every connection).
final class ALPNOffer: @unchecked Sendable {
    let wire: UnsafeMutablePointer<pt_alpn_offer>
    let protocols: [String]

    init(_ protocols: [String]) {
        self.protocols = protocols
        var bytes: [UInt8] = []
        for p in protocols { bytes.append(UInt8(p.utf8.count)); bytes.append(contentsOf: p.utf8) }
        let data = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
        data.initialize(from: bytes, count: bytes.count)
        wire = .allocate(capacity: 1)
        wire.initialize(to: pt_alpn_offer(data: data, len: UInt32(bytes.count)))
    }

    deinit {
        wire.pointee.data.deallocate()
        wire.deallocate()
    }
}

/// The gRPC listener: a `TLSServer` offering only `h2`, whose connections run an `HTTP2Session`
/// with the delegate `makeDelegate` returns (called on the connection's loop).
public final class HTTP2Server: @unchecked Sendable {
    public let server: TLSServer
    public var group: EventLoopGroup { server.group }

    public init(group: EventLoopGroup, tls: TLSContext, configuration: HTTP2Configuration = HTTP2Configuration(),
                makeDelegate: @escaping (HTTP2Session) -> HTTP2SessionDelegate) {
        server = TLSServer(group: group, tls: tls, alpnProtocols: [ALPNProtocol.http2]) { alpn, _ in
            guard alpn == ALPNProtocol.http2 else { return nil }
            let s = HTTP2Session(server: true, configuration: configuration)
            s.delegate = makeDelegate(s)
            return s
        }
    }

    /// See `TLSServer.bind`.
    @discardableResult
    public func bind(host: String, port: Int) throws -> Int { try server.bind(host: host, port: port) }

    /// See `TLSServer.shutdown`.
    public func shutdown(gracePeriodNanos: UInt64) { server.shutdown(gracePeriodNanos: gracePeriodNanos) }
}
