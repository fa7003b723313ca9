import LightningPrimitives
import RPCCore
import Transport
import Glibc

/// Pre-encoded header blocks for the hot path. nghttp2 references them without copying, and each
/// stream retains the block it sends until the stream is released, so the common blocks are
/// made once per connection (`ConnectionHeaders`): thousands of streams ending together on
/// several loops would otherwise bounce one reference count between the loops' cores.
enum StaticHeaders {
    static func trailers(_ status: GRPCStatus, ok: HTTP2HeaderBlock) -> HTTP2HeaderBlock {
        if status.code == .ok && status.message.isEmpty { return ok }
        var f: [(name: [UInt8], value: [UInt8])] = [(Array("grpc-status".utf8), Array(String(status.code.rawValue).utf8))]
        if !status.message.isEmpty { f.append((Array("grpc-message".utf8), PercentEncoding.encode(status.message))) }
        return HTTP2HeaderBlock(bytes: f)
    }

    static func trailersOnly(_ status: GRPCStatus, httpStatus: Int = 200) -> HTTP2HeaderBlock {
        var f: [(name: [UInt8], value: [UInt8])] = [
            (Array(":status".utf8), Array(String(httpStatus).utf8)),
            (Array("content-type".utf8), Array("application/grpc".utf8)),
            (Array("grpc-status".utf8), Array(String(status.code.rawValue).utf8)),
        ]
        if !status.message.isEmpty { f.append((Array("grpc-message".utf8), PercentEncoding.encode(status.message))) }
        return HTTP2HeaderBlock(bytes: f)
    }
}

/// One connection's copies of the response headers and OK trailers (see `StaticHeaders`).
/// Held by the connection's handler, which outlives every frame submitted with them.
struct ConnectionHeaders {
    let response = HTTP2HeaderBlock([(":status", "200"), ("content-type", "application/grpc"),
                                     ("grpc-accept-encoding", "identity")], isStatic: true)
    let okTrailers = HTTP2HeaderBlock([("grpc-status", "0")], isStatic: true)
}

@inline(__always) func bytesEqual(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
    b.count == s.utf8CodeUnitCount && memcmp(b.baseAddress!, s.utf8Start, b.count) == 0
}

/// A released call's cancel callbacks, held by its stream until the stream is freed.
private final class ReleasedCallbacks {
    let callbacks: [() -> Void]
    init(_ callbacks: [() -> Void]) { self.callbacks = callbacks }
}

/// Server side of one gRPC call on one HTTP/2 stream: header validation, routing, interception,
/// deframing, handler dispatch, responses, trailers, deadline and cancellation. Loop thread only
/// (except the atomic `fullFlag`/`doneFlag` read by writers on other threads).
final class ServerCall: ServerCallContext, HTTP2StreamDelegate, @unchecked Sendable {
    var loop: EventLoop { eventLoop }

    // MARK: The handler's view (ServerCallContext)

    override var path: String { routeIndex.map { connection.server.router.routes[$0].path } ?? unmatchedPath }
    override var peerAddress: String { stream.session.peerAddress }

    override var serviceName: Substring {
        if let i = routeIndex { return connection.server.router.routes[i].service }
        return super.serviceName
    }

    override var methodName: Substring {
        if let i = routeIndex { return connection.server.router.routes[i].method }
        return super.methodName
    }

    override var connectionStorage: AnyObject? {
        get { stream.session.connectionContext }
        set { stream.session.connectionContext = newValue }
    }

    // MARK: gRPC call state

    let stream: HTTP2Stream
    let connection: ServerConnectionHandler
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
    var isStreaming = false
    // Intrusive list of this connection's streaming calls until their stream is released (shutdown).
    unowned(unsafe) var prevStreaming: ServerCall?
    unowned(unsafe) var nextStreaming: ServerCall?
    var inStreamingList = false

    init(stream: HTTP2Stream, loop: EventLoop, connection: ServerConnectionHandler) {
        self.stream = stream; self.connection = connection
        super.init(eventLoop: loop)
    }

    // MARK: HTTP2StreamDelegate

    func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if dispatched || failedEarly { return }   // client trailers: ignored
        guard let first = name.first else { return }
        if first == UInt8(ascii: ":") {
            if bytesEqual(name, ":path") {
                routeIndex = connection.server.router.match(value)
                if routeIndex == nil { unmatchedPath = String(decoding: value, as: UTF8.self) }
            }
            else if bytesEqual(name, ":method") { isPOST = bytesEqual(value, "POST") }
            return
        }
        if bytesEqual(name, "content-type") {
            contentTypeSeen = true
            // application/grpc, application/grpc+proto, application/grpc;... are gRPC.
            let prefix: StaticString = "application/grpc"
            contentTypeOK = value.count >= 16 && memcmp(value.baseAddress!, prefix.utf8Start, 16) == 0
                && (value.count == 16 || value[16] == UInt8(ascii: "+") || value[16] == UInt8(ascii: ";"))
            return
        }
        if bytesEqual(name, "te") || bytesEqual(name, "grpc-accept-encoding") { return }
        if bytesEqual(name, "grpc-timeout") {
            if let t = GRPCTimeout.parse(value) { timeoutNanos = t } else { badTimeout = true }
            return
        }
        if bytesEqual(name, "grpc-encoding") { encoding = String(decoding: value, as: UTF8.self); return }
        if name.count > 4 && bytesEqual(UnsafeRawBufferPointer(rebasing: name[(name.count - 4)...]), "-bin") {
            // Binary metadata: base64 (padding optional). Undecodable values are dropped.
            if let b = Base64.decode(bytes: value) { b.withUnsafeBytes { appendMetadata(key: name, value: $0, binary: true) } }
        } else {
            appendMetadata(key: name, value: value, binary: false)
        }
    }

    /// The request's header block is collected in the connection's scratch buffer (HTTP/2 header
    /// blocks of different streams never interleave) and copied to the call, in one exact
    /// allocation, when the block ends; a later block (client trailers) appends to the call's own.
    @inline(__always) private func appendMetadata(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, binary: Bool) {
        if headersEnded { metadata.appendRaw(key: key, value: value, binary: binary) }
        else { connection.headerScratch.appendRaw(key: key, value: value, binary: binary) }
    }

    func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) {
        if !headersEnded {
            headersEnded = true
            metadata = connection.headerScratch.exactCopy()
            connection.headerScratch.removeAll(keepingAtMost: ServerConnectionHandler.scratchLimit)
        }
        if dispatched || failedEarly || accepted { return }
        if let m = connection.server.unknownMethodMetrics {
            metricsBegin(routeIndex.map { connection.server.routeMetrics[$0] } ?? m)
        }
        if !isPOST { failEarly(GRPCStatus(.unimplemented, "grpc: method must be POST"), httpStatus: 405); return }
        if !contentTypeOK {
            failEarly(GRPCStatus(.invalidArgument, contentTypeSeen ? "invalid gRPC request content-type" : "missing content-type"),
                      httpStatus: 415)
            return
        }
        if badTimeout { failEarly(GRPCStatus(.internalError, "malformed grpc-timeout")); return }
        if let i = routeIndex { handler = connection.server.router.routes[i].handler }
        else { switch connection.server.router.classify(unmatchedPath) {
        case .found: return
        case .unknownService(let s): failEarly(GRPCStatus(.unimplemented, "unknown service \(s)")); return
        case .unknownMethod(let m, let s): failEarly(GRPCStatus(.unimplemented, "unknown method \(m) for service \(s)")); return
        case .malformed: failEarly(GRPCStatus(.unimplemented, "malformed method name: \"\(unmatchedPath)\"")); return
        } }
        if let e = encoding, e != "identity" {
            failEarly(GRPCStatus(.unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"\(e)\"")); return
        }
        if let t = timeoutNanos { deadline = monotonicNanos() &+ t }
        accepted = true
        for i in connection.server.interceptors {
            if let refused = i.intercept(self) { failEarly(refused); return }
        }
        if let t = timeoutNanos {
            deadlineTimer = loop.scheduleTimer(afterNanos: t) { [self] in   // cancelled when the call ends
                guard !self.finished else { return }
                self.deadlineTimer = nil
                self.finish(GRPCStatus(.deadlineExceeded, "context deadline exceeded"))
                self.cancel()
            }
        }
        deframer = MessageDeframer(maxMessageSize: connection.server.maxReceiveMessageSize)
        if case .bidiStreaming(let f)? = handler {
            dispatched = true
            isStreaming = true
            metricsStreamOpened()
            connection.streamingStarted(self)
            bidi = f(self, ServerStreamWriter(call: self))
            markLongLived()
        }
    }

    func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) {
        guard !finished, deframer != nil, !dispatched || bidi != nil else { return }
        do {
            if let b = bidi {
                try deframer!.consume(data) { msg in if !finished { b.onMessage(msg) } }
                return
            }
            try deframer!.consume(data) { msg in
                if request == nil { request = msg } else { extraMessages = true }
            }
        } catch {
            switch error {
            case .tooLarge(let n):
                failEarly(GRPCStatus(.resourceExhausted,
                    "grpc: received message larger than max (\(n) vs. \(connection.server.maxReceiveMessageSize))"))
            case .compressed:
                failEarly(GRPCStatus(.internalError, "grpc: compressed flag set with identity or empty encoding"))
            case .badFlag(let f):
                failEarly(GRPCStatus(.internalError, "grpc: invalid message flag \(f)"))
            }
        }
    }

    func streamRemoteEnded(_ stream: HTTP2Stream) {
        if let b = bidi, !finished {
            if deframer?.isEmpty == false { failEarly(GRPCStatus(.internalError, "grpc: incomplete message at end of stream")); return }
            b.onEnd(); return
        }
        guard !finished, !dispatched, accepted, let handler, let d = deframer else { return }
        if !d.isEmpty { failEarly(GRPCStatus(.internalError, "grpc: incomplete message at end of stream")); return }
        guard let req = request else {
            failEarly(GRPCStatus(.internalError, "grpc: no request message for unary/server-streaming method")); return
        }
        if extraMessages { failEarly(GRPCStatus(.internalError, "grpc: too many request messages")); return }
        dispatched = true
        request = nil
        deframer = nil        // the one request is decoded: nothing more to deframe
        switch handler {
        case .unary(let f):
            f(self, req, UnaryResponder(call: self))
        case .serverStreaming(let f):
            isStreaming = true
            metricsStreamOpened()
            connection.streamingStarted(self)
            f(self, req, ServerStreamWriter(call: self))
            markLongLived()
        case .bidiStreaming:
            break
        }
    }

    func streamWritable(_ stream: HTTP2Stream) {
        fullFlag.store(false, ordering: .relaxed)
        if !finished, let cb = readyCallback { cb() }
    }

    /// A streaming call still open after its handler returned (a TrackPaymentV2 waiting for
    /// updates, as opposed to one answered from a finished payment in the same turn) is let go of
    /// at an idle moment once it ends (`HTTP2Stream.releaseWhenIdle`): such calls end in bulk when
    /// a payment many watch settles. Calls over within the turn are freed at once, still in cache.
    private func markLongLived() {
        if !finished { stream.releaseWhenIdle = true }
    }

    func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) {
        let wasFinished = finished
        markDone(.cancelled)   // counted only when the call had not ended (a client reset or disconnect)
        if let t = deadlineTimer { loop.cancelTimer(t); deadlineTimer = nil }
        if !wasFinished || errorCode != 0 { cancel() }
        readyCallback = nil
        bidi = nil
    }

    /// The stream is gone: nothing can cancel the call any more, and its cancel callbacks (which
    /// often capture the stream's producer, which holds this call) must not keep it alive. They
    /// move to the stream's `context` slot, dropped with the stream (by the session's `Reaper`,
    /// off the loop, for streams released at an idle moment).
    /// It also leaves the connection's list of streaming calls only now: unlinking touches its
    /// neighbours there, cold when thousands of streams end at once (the list's walkers skip
    /// finished calls).
    func streamReleased(_ stream: HTTP2Stream) {
        if !cancelCallbacks.isEmpty {
            stream.context = ReleasedCallbacks(cancelCallbacks)
            cancelCallbacks = []
        }
        if isStreaming { connection.streamingEnded(self) }
    }

    // MARK: Responses (loop thread)

    private func markDone(_ code: GRPCStatus.Code) {
        finished = true
        doneFlag.store(true, ordering: .relaxed)
        metricsEnd(code)
    }

    private func failEarly(_ status: GRPCStatus, httpStatus: Int = 200) {
        failedEarly = true
        request = nil
        finish(status, httpStatus: httpStatus)
    }

    override func respondUnary(_ message: [UInt8]) {
        guard !finished else { return }
        markDone(.ok)
        if let t = deadlineTimer { loop.cancelTimer(t); deadlineTimer = nil }
        stream.sendHeaders(connection.headers.response)
        stream.reserveCapacity(message.count + 5)
        writeFramed(message)
        stream.finish(trailers: connection.headers.okTrailers)
    }

    @inline(__always) private func writeFramed(_ message: [UInt8]) {
        let n = message.count
        var prefix: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, UInt8(truncatingIfNeeded: n >> 24),
            UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n))
        withUnsafeBytes(of: &prefix) { stream.write($0) }
        message.withUnsafeBytes { stream.write($0) }
    }

    /// High-watermark backpressure: a message is accepted while fewer than `maxBuffered` bytes are
    /// queued (so the buffer holds at most `maxBuffered` plus one message); once the watermark is
    /// reached the writer reports full until nghttp2 has drained it to half.
    override func sendStreaming(_ message: [UInt8]) -> Bool {
        guard !finished, !stream.isClosed else { return false }
        if stream.bufferedBytes >= maxBuffered { markFull(); return false }
        if !stream.headersSentPublic { stream.sendHeaders(connection.headers.response) }
        stream.reserveCapacity(message.count + 5)
        writeFramed(message)
        if stream.bufferedBytes >= maxBuffered { markFull() }
        return true
    }

    /// As `sendStreaming`, for a message encoded once: its framed bytes are queued by reference
    /// (see `HTTP2Stream.write(_: [UInt8])`), so a message shared by many streams is not copied per stream.
    override func sendStreaming(_ message: EncodedMessage) -> Bool {
        let framed = message.framed
        guard !finished, !stream.isClosed else { return false }
        if stream.bufferedBytes >= maxBuffered { markFull(); return false }
        if !stream.headersSentPublic { stream.sendHeaders(connection.headers.response) }
        stream.write(framed)
        if stream.bufferedBytes >= maxBuffered { markFull() }
        return true
    }

    private func markFull() {
        fullFlag.store(true, ordering: .relaxed)
        stream.notifyWhenBuffered(atMost: maxBuffered / 2)
    }

    override func finish(_ status: GRPCStatus) { finish(status, httpStatus: 200) }

    func finish(_ status: GRPCStatus, httpStatus: Int) {
        guard !finished else { return }
        markDone(status.code)
        if let t = deadlineTimer { loop.cancelTimer(t); deadlineTimer = nil }
        readyCallback = nil
        bidi = nil
        if stream.headersSentPublic {
            stream.finish(trailers: StaticHeaders.trailers(status, ok: connection.headers.okTrailers))
        } else if status.code == .ok {
            stream.sendHeaders(connection.headers.response)
            stream.finish(trailers: connection.headers.okTrailers)
        } else {
            stream.respondTrailersOnly(StaticHeaders.trailersOnly(status, httpStatus: httpStatus))
        }
    }
}
