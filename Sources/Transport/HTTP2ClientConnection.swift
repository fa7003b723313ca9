import Locks
import Glibc
import CNghttp2

/// A client TLS + HTTP/2 connection living on one event loop (the same stack as the server, in
/// client mode). Create with `connect` (blocking until the TLS handshake and ALPN h2 are done;
/// never call it on a loop thread), then open streams on `loop`.
public final class HTTP2ClientConnection: @unchecked Sendable {
    public let loop: EventLoop
    let connection: Connection
    private var closedHandlers: [() -> Void] = []
    public private(set) var isClosed = false

    init(loop: EventLoop, connection: Connection) { self.loop = loop; self.connection = connection }

    /// The HTTP/2 session (loop thread only).
    public var session: HTTP2Session? { connection.session as? HTTP2Session }

    /// Connects to `host:port`, performs the TLS handshake (verifying against the context's pinned
    /// certificate) and starts an HTTP/2 client session on `loop`.
    public static func connect(host: String, port: Int, tls: TLSContext, loop: EventLoop,
                               configuration: HTTP2Configuration = HTTP2Configuration(),
                               timeoutNanos: UInt64 = 10_000_000_000) throws -> HTTP2ClientConnection {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, res != nil else { throw SocketError("cannot resolve \(host)") }
        defer { freeaddrinfo(res) }
        var fd: Int32 = -1
        var ai = res
        var lastError = SocketError("connect \(host):\(port)")
        while let a = ai {
            fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { break }
                lastError = SocketError("connect \(host):\(port)")
                Glibc.close(fd); fd = -1
            }
            ai = a.pointee.ai_next
        }
        guard fd >= 0 else { throw lastError }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) } }
        let peer = formatAddress(&ss)
        let sni = host.first?.isNumber == true || host.contains(":") ? nil : host
        let conn = Connection(fd: fd, loop: loop, tls: TLSEngine(context: tls, serverName: sni), peerAddress: peer) { alpn in
            alpn == ALPNProtocol.http2 ? HTTP2Session(server: false, configuration: configuration) : nil
        }
        let client = HTTP2ClientConnection(loop: loop, connection: conn)
        let ready = Latch<String?>()
        let fdCopy = fd
        loop.execute {
            conn.onEstablished = { _ in ready.fulfil(nil) }
            conn.onFailure = { why in ready.fulfil(why) }
            conn.onClose = { _ in
                ready.fulfil("connection closed during handshake")
                client.isClosed = true
                let hs = client.closedHandlers; client.closedHandlers.removeAll()
                hs.forEach { $0() }
            }
            conn.start(handshakeTimeoutNanos: timeoutNanos)
            _ = fdCopy
        }
        if let why = ready.wait() { throw TLSError(why) }
        return client
    }

    /// Registers a callback for when the connection closes (loop thread).
    public func onClose(_ f: @escaping () -> Void) {
        if isClosed { f() } else { closedHandlers.append(f) }
    }

    /// Opens a request stream (loop thread only).
    public func openStream(headers: HTTP2HeaderBlock, delegate: HTTP2StreamDelegate) -> HTTP2Stream? {
        guard !isClosed, let s = session, s.isAlive else { return nil }
        return s.openStream(headers: headers, delegate: delegate)
    }

    /// Closes the connection (any thread); open streams see `streamClosed`.
    public func close() {
        loop.execute { [connection] in
            (connection.session as? HTTP2Session)?.terminate(errorCode: 0)
            connection.flushPending()
            connection.close()
        }
    }
}
