import CNghttp2

/// Server-side session events (loop thread).
public protocol HTTP2SessionDelegate: AnyObject {
    /// A peer opened a stream (request HEADERS began). Set `stream.delegate` here.
    func session(_ session: HTTP2Session, streamOpened stream: HTTP2Stream)
    /// A graceful shutdown started (GOAWAY sent); in-flight streams may still complete.
    func sessionWillDrain(_ session: HTTP2Session)
    /// The transport is gone (`closeAllStreams`), after every stream heard `streamClosed`. Default: nothing.
    func sessionClosed(_ session: HTTP2Session)
}

extension HTTP2SessionDelegate {
    public func sessionClosed(_ session: HTTP2Session) {}
}

/// HTTP/2 settings and the keepalive policy (LND's defaults, §9).
public struct HTTP2Configuration: Sendable {
    public var maxConcurrentStreams: UInt32 = 1000
    public var initialWindowSize: UInt32 = 1 << 20
    public var connectionWindowSize: Int32 = 16 << 20
    public var maxHeaderListSize: UInt32 = 64 << 10
    /// Server pings after this much inactivity (grpc-go keepalive.Time; LND: 1 min).
    public var keepaliveTimeNanos: UInt64 = 60_000_000_000
    /// ... and closes when the ping is not acknowledged within this (LND: 20 s).
    public var keepaliveTimeoutNanos: UInt64 = 20_000_000_000
    /// Clients may ping at most this often (grpc-go EnforcementPolicy.MinTime; LND: 5 s).
    public var minClientPingIntervalNanos: UInt64 = 5_000_000_000
    /// Whether clients may ping when no stream is open (LND: false).
    public var permitPingWithoutStream = false
    /// Ping strikes tolerated before GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (grpc-go: 2).
    public var maxPingStrikes = 2
    /// Server: advertise SETTINGS_ENABLE_CONNECT_PROTOCOL and accept extended CONNECT requests
    /// (RFC 8441: `:method CONNECT` with `:protocol`, e.g. a WebSocket on an HTTP/2 stream).
    /// Off by default (gRPC listeners); HTTP listeners turn it on.
    public var enableConnectProtocol = false
    public init() {}

    /// An HTTP listener's h2 settings: the defaults with extended CONNECT on.
    public static var httpListener: HTTP2Configuration {
        var c = HTTP2Configuration()
        c.enableConnectProtocol = true
        return c
    }
}

/// An nghttp2 session (server or client) that never touches a socket: feed it received plaintext
/// with `receive`, drain frames to send with `produce`. Protocol state only; I/O lives outside.
/// Confined to one thread.
public final class HTTP2Session {
    public let isServer: Bool
    public let configuration: HTTP2Configuration
    /// Receives stream openings and drain notices (strong; released when the session closes).
    public var delegate: HTTP2SessionDelegate?
    /// Called when stream/session activity outside `receive` left frames to send.
    public var onNeedsFlush: (() -> Void)? { didSet { flushRequested = false } }
    /// Set once `onNeedsFlush` was called; cleared when the owner produces. A call emits several
    /// frames (headers, data, trailers): the owner is told once, not once per frame.
    private var flushRequested = false
    /// A slot for per-connection state of upper layers (e.g. an auth cache). Strong.
    public var connectionContext: AnyObject?
    /// The peer's address as "ip:port" ("[ip]:port" for IPv6).
    public var peerAddress: String = ""

    private var session: OpaquePointer!
    fileprivate var rawSession: OpaquePointer! { session }
    private(set) public var activeStreams = 0
    private(set) public var draining = false
    /// Set when the session decided the connection must end (after flushing).
    private(set) public var wantsClose = false
    /// Monotonic time bytes were last received (the keepalive's idle clock).
    private(set) var lastFrameReceived: UInt64 = 0
    private var lastPingReceived: UInt64 = 0
    private var pingStrikes = 0
    /// Set when this side queued HEADERS or DATA since the last ping: grpc-go's
    /// `resetPingStrikes` — the next ping is forgiven and the strikes restart from zero, so a
    /// client's BDP pings on a busy stream are not punished.
    private var sentSinceLastPing = false
    private var pendingWritable: [HTTP2Stream] = []
    /// Streams with new data whose DATA nghttp2 has not been asked for yet, oldest first from
    /// `resumeHead` (see `resumeData`). Holds each at most once: a stream enters when its deferred
    /// data provider is kicked, and is not deferred again until nghttp2 has called it.
    private var resumeQueue: [HTTP2Stream] = []
    private var resumeHead = 0
    /// Streams handed to nghttp2's scheduler at a time (see `resumeData`).
    static let resumeBatch = 16
    /// Streams closed but not yet released (see `onStreamsToRelease`).
    private var closedStreams: [HTTP2Stream] = []
    /// Closed streams held for a later release at most (beyond, they are released at once).
    static let maxClosedStreams = 4096
    /// When set, a closed stream marked `releaseWhenIdle` (its delegate already told with
    /// `streamClosed`) is kept until
    /// `releaseClosedStreams()`, and this is called when the first one is kept: the owner runs
    /// the release when its loop is idle. Letting go of a finished call frees a dozen objects
    /// (call, stream, writer, producer, closures); in a fan-out that ends thousands of streams at
    /// once, doing it after the burst keeps it out of the way of the updates being delivered.
    /// Nil: released at once.
    public var onStreamsToRelease: (() -> Void)?
    /// Frees the streams `releaseClosedStreams` lets go of (nil: freed by that call itself).
    public var reaper: Reaper? = .shared
    private var lastStreamID: Int32 = 0
    var pingAcked = true
    /// Server keepalive: when the idle check runs next, and when an unanswered ping times out.
    var keepaliveCheckAt: UInt64 = 0
    var pingTimeoutAt: UInt64?
    private unowned(unsafe) var openHead: HTTP2Stream?

    private func link(_ s: HTTP2Stream) {
        s.nextOpen = openHead; openHead?.prevOpen = s; openHead = s
        activeStreams += 1
    }

    /// Takes `s` out of the list of streams `closeAllStreams` walks. A closed stream kept for a
    /// later release (`closedStreams`) stays listed until then: unlinking touches both
    /// neighbours, cold when thousands of streams close at once, so it is done at the idle moment.
    private func unlink(_ s: HTTP2Stream) {
        if let p = s.prevOpen { p.nextOpen = s.nextOpen } else { openHead = s.nextOpen }
        s.nextOpen?.prevOpen = s.prevOpen
        s.prevOpen = nil; s.nextOpen = nil
    }

    /// True when this server session applies `HTTP2RequestRules` (nghttp2's own HTTP messaging off).
    let checksRequests: Bool
    /// Writes to make once, just before the next `produceWhile` asks nghttp2 for frames: set by
    /// an owner with frames pending on its streams (the WebSockets of an `HTTP2WebSocketSet`),
    /// cleared when run. Nil on the gRPC path: a check per produce, nothing more.
    var beforeProduce: (() -> Void)?
    /// Server sessions: the RFC 9113 checks nghttp2 leaves out in our configuration.
    private var frameAudit: HTTP2InboundFrameAudit?
    /// Long field values this session recently found valid (see `FieldValueMemo`).
    fileprivate var valueMemo = FieldValueMemo()

    public convenience init(server: Bool, configuration: HTTP2Configuration = HTTP2Configuration()) {
        self.init(server: server, configuration: configuration, libraryHTTPMessaging: !server)
    }

    /// `libraryHTTPMessaging`: let nghttp2 enforce RFC 9113 §8 itself (clients; tests compare
    /// `HTTP2RequestRules` with it) instead of `HTTP2RequestRules` (servers).
    init(server: Bool, configuration: HTTP2Configuration, libraryHTTPMessaging: Bool) {
        isServer = server
        checksRequests = server && !libraryHTTPMessaging
        frameAudit = server ? HTTP2InboundFrameAudit() : nil
        self.configuration = configuration
        var cbs: OpaquePointer?
        nghttp2_session_callbacks_new(&cbs)
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose)
        var opt: OpaquePointer?
        nghttp2_option_new(&opt)
        nghttp2_option_set_max_send_header_block_length(opt, 64 << 10)
        nghttp2_option_set_max_outbound_ack(opt, 1000)
        nghttp2_option_set_max_settings(opt, 32)
        // No RFC 7540 priority tree (RFC 9113 deprecates it; gRPC does not use it): a cheaper
        // scheduler, and closed streams need not be retained for it.
        nghttp2_option_set_no_closed_streams(opt, 1)
        // Server: the HTTP messaging rules (RFC 9113 §8) are enforced by `HTTP2RequestRules`, with
        // nghttp2's outcomes, at a fraction of the per-request cost (see there). Clients keep
        // nghttp2's own checks of responses.
        if checksRequests { nghttp2_option_set_no_http_messaging(opt, 1) }
        let me = Unmanaged.passUnretained(self).toOpaque()
        var s: OpaquePointer?
        if server {
            nghttp2_session_server_new2(&s, cbs, me, opt)
        } else {
            nghttp2_session_client_new2(&s, cbs, me, opt)
        }
        nghttp2_option_del(opt)
        nghttp2_session_callbacks_del(cbs)
        session = s
        var iv = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: server ? configuration.maxConcurrentStreams : 100),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: configuration.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: configuration.maxHeaderListSize),
        ]
        iv.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1))
        if !server {
            iv.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        } else if configuration.enableConnectProtocol {
            iv.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue), value: 1))
        }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), iv, iv.count)
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, configuration.connectionWindowSize)
        lastFrameReceived = monotonicNanos()
        keepaliveCheckAt = lastFrameReceived &+ configuration.keepaliveTimeNanos
    }

    deinit { closeAllStreams(errorCode: 0) }

    // MARK: Bytes in / bytes out

    /// Processes received plaintext. Returns false on a fatal protocol error (the caller should
    /// flush what `produce` yields, typically a GOAWAY, and close).
    @discardableResult
    public func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard session != nil else { return false }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        // Read activity, as grpc-go's keepalive tracks it (`lastRead`): one clock read per batch
        // of received bytes rather than one per frame.
        lastFrameReceived = monotonicNanos()
        if frameAudit != nil, case .connectionError(let offset, let code, let reason) = frameAudit!.scan(bytes) {
            if offset > 0 && nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), offset) < 0 {
                wantsClose = true
                return false
            }
            terminate(errorCode: code, debug: reason)
            return false
        }
        let r = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if r < 0 { wantsClose = true; return false }
        return true
    }

    /// Drains frames to send, calling `sink` with each chunk (valid only during the call).
    /// Returns false on a fatal error.
    @discardableResult
    public func produce(_ sink: (UnsafeRawBufferPointer) -> Void) -> Bool {
        produceWhile { chunk -> Bool in sink(chunk); return true }
    }

    /// As `produce(_:)`, but stops asking nghttp2 for frames once `sink` returns false (the chunk
    /// it was given is consumed; the rest stays in nghttp2 and the streams' buffers for a later call).
    /// Lets the caller bound what it buffers downstream (e.g. ciphertext waiting for the socket).
    public func produceWhile(_ sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard session != nil else { flushRequested = false; return false }
        if let work = beforeProduce { beforeProduce = nil; work() }
        flushRequested = false
        admitResumed()
        while true {
            var p: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &p)
            if n < 0 { wantsClose = true; return false }
            if n == 0 {
                if admitResumed() { continue }
                break
            }
            if !sink(UnsafeRawBufferPointer(start: p, count: n)) { break }
        }
        if !pendingWritable.isEmpty {
            let w = pendingWritable
            pendingWritable.removeAll()
            for s in w where !s.isClosed { s.delegate?.streamWritable(s) }
        }
        return true
    }

    /// True while the session still wants to read or write (false after GOAWAY with no streams
    /// left, or after a fatal error).
    public var isAlive: Bool {
        session != nil && !wantsClose && (nghttp2_session_want_read(session) != 0 || wantsWrite)
    }

    public var wantsWrite: Bool {
        session != nil && (nghttp2_session_want_write(session) != 0 || resumeHead < resumeQueue.count)
    }

    // MARK: Session control

    /// Starts a graceful shutdown: GOAWAY (last stream = the highest seen); streams in flight
    /// continue; new ones are refused.
    public func beginGracefulShutdown() {
        guard !draining, session != nil else { return }
        draining = true
        if isServer {
            nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                                  nghttp2_session_get_last_proc_stream_id(session), UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
        } else {
            nghttp2_session_terminate_session(session, UInt32(NGHTTP2_NO_ERROR.rawValue))
        }
        delegate?.sessionWillDrain(self)
        needsFlush()
    }

    /// Sends GOAWAY with `errorCode` and marks the session for closing after the flush.
    public func terminate(errorCode: UInt32, debug: String = "") {
        guard session != nil else { return }
        var d = Array(debug.utf8)
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                              nghttp2_session_get_last_proc_stream_id(session), errorCode, &d, d.count)
        wantsClose = true
        needsFlush()
    }

    /// Sends a PING (server keepalive); `pingAcked` turns true on the ACK.
    public func sendPing() {
        guard session != nil else { return }
        pingAcked = false
        nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
        needsFlush()
    }

    // MARK: Client

    /// Client: opens a stream with request `headers` and a body fed by `HTTP2Stream.write`/`finish`.
    public func openStream(headers: HTTP2HeaderBlock, delegate: HTTP2StreamDelegate) -> HTTP2Stream? {
        precondition(!isServer)
        // Stream id is known only after submit; create with 0 then fix up.
        var provider = nghttp2_data_provider()
        provider.read_callback = readCallback
        guard session != nil else { return nil }
        let id = nghttp2_submit_request(session, nil, headers.nva, headers.count, &provider, nil)
        if id < 0 { return nil }
        let stream = HTTP2Stream(id: id, session: self)
        stream.delegate = delegate
        stream.headersSent = true
        nghttp2_session_set_stream_user_data(session, id, Unmanaged.passRetained(stream).toOpaque())
        link(stream)
        needsFlush()
        return stream
    }

    // MARK: Internals used by HTTP2Stream

    /// Tells the owner (once until its next `produce`) that frames are waiting.
    func needsFlush() {
        if flushRequested { return }
        flushRequested = true
        onNeedsFlush?()
    }

    func submitResponse(_ s: HTTP2Stream, headers: HTTP2HeaderBlock, withBody: Bool) {
        sentSinceLastPing = true
        if withBody {
            var provider = nghttp2_data_provider()
            provider.read_callback = readCallback
            provider.source.ptr = Unmanaged.passUnretained(s).toOpaque()   // see `readCallback`
            nghttp2_submit_response(session, s.id, headers.nva, headers.count, &provider)
        } else {
            nghttp2_submit_response(session, s.id, headers.nva, headers.count, nil)
        }
        needsFlush()
    }

    /// Queues `s`, whose data provider nghttp2 deferred, to be resumed by the next `produceWhile`.
    ///
    /// nghttp2 keeps the streams it may send DATA for in a binary heap ordered by when they
    /// became ready, and takes each one out again once its data is sent: O(log n) comparisons
    /// that each read two streams. When a fan-out gives a thousand streams of one connection a
    /// message at once, resuming them all makes that heap a thousand deep, and each comparison a
    /// likely cache miss (a tenth of the server's CPU in the burst). `produceWhile` instead
    /// resumes them `resumeBatch` at a time, in the order they were kicked, and the next batch
    /// when nghttp2 has nothing else to send (within a batch nghttp2 goes by stream id, as it did
    /// for all of them before). A queued stream that closes meanwhile is skipped.
    func resumeData(_ s: HTTP2Stream) {
        sentSinceLastPing = true
        resumeQueue.append(s)
    }

    /// Resumes up to `resumeBatch` queued streams that are still open. Returns false when none
    /// was (the queue is empty, or the peer's connection window is shut: the rest waits for its
    /// WINDOW_UPDATE and the produce that follows it).
    @discardableResult
    private func admitResumed() -> Bool {
        guard resumeHead < resumeQueue.count, nghttp2_session_get_remote_window_size(session) > 0 else { return false }
        var admitted = 0
        while admitted < HTTP2Session.resumeBatch && resumeHead < resumeQueue.count {
            let s = resumeQueue[resumeHead]
            resumeHead += 1
            if s.isClosed { continue }
            nghttp2_session_resume_data(session, s.id)
            admitted += 1
        }
        if resumeHead == resumeQueue.count {
            // A large queue's room is given back (an idle connection holds none).
            resumeQueue.removeAll(keepingCapacity: resumeQueue.count <= 64)
            resumeHead = 0
        }
        return admitted > 0
    }

    func resetStream(_ s: HTTP2Stream, errorCode: UInt32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), s.id, errorCode)
        needsFlush()
    }

    fileprivate func stream(_ id: Int32) -> HTTP2Stream? {
        guard let p = nghttp2_session_get_stream_user_data(session, id) else { return nil }
        return Unmanaged<HTTP2Stream>.fromOpaque(p).takeUnretainedValue()
    }

    fileprivate func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        guard isServer, hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
              frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return }
        let s = HTTP2Stream(id: hd.stream_id, session: self)
        if configuration.enableConnectProtocol { s.rules = HTTP2RequestRules(connectProtocol: true) }
        nghttp2_session_set_stream_user_data(session, hd.stream_id, Unmanaged.passRetained(s).toOpaque())
        link(s)
        lastStreamID = hd.stream_id
        pingStrikes = 0
        delegate?.session(self, streamOpened: s)
        if s.delegate == nil {
            // Nobody took it: refuse.
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), s.id, UInt32(NGHTTP2_REFUSED_STREAM.rawValue))
        }
    }

    /// The request broke RFC 9113 §8 (`HTTP2RequestRules`): reset the stream with PROTOCOL_ERROR,
    /// as nghttp2's own HTTP messaging does; its delegate hears nothing more but `streamClosed`.
    fileprivate func reject(_ s: HTTP2Stream) {
        guard !s.rejected else { return }
        s.rejected = true
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), s.id, UInt32(NGHTTP2_PROTOCOL_ERROR.rawValue))
        needsFlush()
    }

    fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        switch UInt32(hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            guard let s = stream(hd.stream_id), !s.rejected else { return }
            let end = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            if checksRequests {
                // Request headers must be complete; trailers must end the stream.
                let ok = frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST ? s.rules.requestHeadersEnded() : end
                if !ok || (end && !s.rules.remoteEnded()) { reject(s); return }
            }
            s.delegate?.streamHeadersEnded(s, endStream: end)
            if end { s.delegate?.streamRemoteEnded(s) }
        case NGHTTP2_DATA.rawValue:
            if hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0, let s = stream(hd.stream_id), !s.rejected {
                if checksRequests && !s.rules.remoteEnded() { reject(s); return }
                s.delegate?.streamRemoteEnded(s)
            }
        case NGHTTP2_PING.rawValue:
            if hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 { pingAcked = true; return }
            guard isServer else { return }
            checkPingPolicy()
        default:
            break
        }
    }

    /// grpc-go's keepalive enforcement: a ping sooner than the minimum interval after the previous
    /// one, or any ping while no stream is open (unless permitted), is a strike; more than
    /// `maxPingStrikes` strikes end the connection with GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
    private func checkPingPolicy() {
        let now = monotonicNanos()
        if sentSinceLastPing {
            sentSinceLastPing = false
            pingStrikes = 0
            lastPingReceived = now
            return
        }
        var bad = false
        if activeStreams == 0 && !configuration.permitPingWithoutStream {
            // grpc-go allows one ping per 2 hours without streams.
            bad = lastPingReceived != 0 && now &- lastPingReceived < 7_200_000_000_000
        } else if lastPingReceived != 0 && now &- lastPingReceived < configuration.minClientPingIntervalNanos {
            bad = true
        }
        lastPingReceived = now
        if bad {
            pingStrikes += 1
            if pingStrikes > configuration.maxPingStrikes {
                terminate(errorCode: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue), debug: "too_many_pings")
            }
        }
    }

    fileprivate func streamClosed(_ id: Int32, errorCode: UInt32) {
        // (The user data is not cleared: with `no_closed_streams` nghttp2 destroys the stream as
        // soon as this callback returns, and nothing looks it up meanwhile.)
        guard let p = nghttp2_session_get_stream_user_data(session, id) else { return }
        let s = Unmanaged<HTTP2Stream>.fromOpaque(p).takeRetainedValue()
        s.isClosed = true
        activeStreams -= 1
        s.delegate?.streamClosed(s, errorCode: errorCode)
        if s.releaseWhenIdle, let later = onStreamsToRelease, closedStreams.count < HTTP2Session.maxClosedStreams {
            if closedStreams.isEmpty {
                later()
                // The streams still open may all end in this burst: one allocation, not a dozen regrowths.
                closedStreams.reserveCapacity(min(activeStreams + 1, HTTP2Session.maxClosedStreams))
            }
            closedStreams.append(s)
        } else {
            unlink(s)
            release(s)
        }
    }

    /// Lets go of the streams kept since they closed (see `onStreamsToRelease`): their delegates
    /// hear `streamReleased` here; what the streams hold is then freed by `reaper` on spare CPU
    /// (or here, without a reaper or when it is full).
    public func releaseClosedStreams() {
        guard !closedStreams.isEmpty else { return }
        let streams = closedStreams
        closedStreams = []
        for s in streams {
            unlink(s)
            s.delegate?.streamReleased(s)
        }
        if let r = reaper, r.take(streams) { return }
        _ = Reaper.free(streams)
    }

    private func release(_ s: HTTP2Stream) {
        s.delegate?.streamReleased(s)
        s.context = nil
        s.delegate = nil
    }

    fileprivate func read(_ s: HTTP2Stream, streamID: Int32, buf: UnsafeMutablePointer<UInt8>, length: Int,
                          flags: UnsafeMutablePointer<UInt32>) -> Int {
        let n = s.take(into: buf, cap: length)
        if let t = s.writableThreshold, s.bufferedBytes <= t { s.writableThreshold = nil; pendingWritable.append(s) }
        if s.bufferedBytes == 0 {
            if s.finished {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let t = s.trailers {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    nghttp2_submit_trailer(session, streamID, t.nva, t.count)
                }
            } else if n == 0 {
                s.deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return n
    }

    /// The transport is gone: every still-open stream is closed (its delegate sees `streamClosed`
    /// with `errorCode`) and the nghttp2 session is released. Later calls are harmless no-ops.
    public func closeAllStreams(errorCode: UInt32) {
        guard session != nil else { return }
        wantsClose = true
        releaseClosedStreams()
        onStreamsToRelease = nil
        resumeQueue = []
        resumeHead = 0
        while let s = openHead {
            nghttp2_session_set_stream_user_data(session, s.id, nil)
            unlink(s)
            activeStreams -= 1
            s.isClosed = true
            s.delegate?.streamClosed(s, errorCode: errorCode)
            release(s)
            Unmanaged.passUnretained(s).release()
        }
        nghttp2_session_del(session)
        session = nil
        beforeProduce = nil
        delegate?.sessionClosed(self)
        delegate = nil
    }
}

// MARK: nghttp2 C callbacks (user_data = the HTTP2Session, unretained)

@inline(__always) private func session_isServer(_ p: UnsafeMutableRawPointer?) -> Bool {
    Unmanaged<HTTP2Session>.fromOpaque(p!)._withUnsafeGuaranteedRef { $0.isServer }
}

@inline(__always) private func me(_ p: UnsafeMutableRawPointer?) -> HTTP2Session {
    Unmanaged<HTTP2Session>.fromOpaque(p!).takeUnretainedValue()
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, ud in
    me(ud).beginHeaders(frame!)
    return 0
}

private let onHeader: nghttp2_on_header_callback = { raw, frame, name, namelen, value, valuelen, _, ud in
    guard let p = nghttp2_session_get_stream_user_data(raw, frame!.pointee.hd.stream_id) else { return 0 }
    // The session holds a +1 on the stream while it is open, and the connection on the session:
    // borrow both without retain/release (this runs for every field of every request).
    Unmanaged<HTTP2Stream>.fromOpaque(p)._withUnsafeGuaranteedRef { s in
        if s.rejected { return }
        let n = UnsafeRawBufferPointer(start: name, count: namelen), v = UnsafeRawBufferPointer(start: value, count: valuelen)
        let rejected = Unmanaged<HTTP2Session>.fromOpaque(ud!)._withUnsafeGuaranteedRef { session -> Bool in
            guard session.checksRequests,
                  s.rules.header(name: n, value: v, trailer: frame!.pointee.headers.cat != NGHTTP2_HCAT_REQUEST,
                                 memo: &session.valueMemo) == .reject
            else { return false }
            session.reject(s)
            return true
        }
        if rejected { return }
        if session_isServer(ud) {
            // Server: the stream holds its delegate (a ServerCall, whose field callback only
            // records the field) strongly while open: no retain/release per field.
            unowned(unsafe) let d = s.delegate
            d?.stream(s, header: n, value: v)
        } else {
            s.delegate?.stream(s, header: n, value: v)
        }
    }
    return 0
}

private let onFrameRecv: nghttp2_on_frame_recv_callback = { _, frame, ud in
    me(ud).frameReceived(frame!)
    return 0
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, len, ud in
    guard let p = nghttp2_session_get_stream_user_data(me(ud).rawSession, streamID) else { return 0 }
    let session = me(ud)
    Unmanaged<HTTP2Stream>.fromOpaque(p)._withUnsafeGuaranteedRef { s in
        if s.rejected { return }
        if session.checksRequests && !s.rules.data(len) { session.reject(s); return }
        s.delegate?.stream(s, data: UnsafeRawBufferPointer(start: data, count: len))
    }
    return 0
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, code, ud in
    guard let ud else { return 0 }
    me(ud).streamClosed(streamID, errorCode: code)
    return 0
}

/// The data provider's source is the stream itself (unretained: nghttp2 only reads an open
/// stream, which its user data keeps alive), so no stream lookup per DATA frame. Both the session
/// (held by its connection) and the stream are borrowed without retain/release: this runs for
/// every DATA frame, and in a fan-out each stream object is cold.
private let readCallback: nghttp2_data_source_read_callback = { _, streamID, buf, length, flags, source, ud in
    Unmanaged<HTTP2Session>.fromOpaque(ud!)._withUnsafeGuaranteedRef { session in
        if let p = source?.pointee.ptr {
            return Unmanaged<HTTP2Stream>.fromOpaque(p)._withUnsafeGuaranteedRef {
                session.read($0, streamID: streamID, buf: buf!, length: length, flags: flags!)
            }
        }
        // A client stream's provider has no source: look it up.
        guard let s = session.stream(streamID) else { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
        return session.read(s, streamID: streamID, buf: buf!, length: length, flags: flags!)
    }
}
