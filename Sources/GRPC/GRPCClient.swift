import LightningPrimitives
import Locks
import RPCCore
import Transport
import Glibc

/// A gRPC client over the same stack as the server (nghttp2 client session over OpenSSL) on its
/// own event loop. The server certificate is pinned from a file (as lncli does with tls.cert).
///
/// Callback API: `unary`/`serverStreaming` return a `ClientCall` (cancel from any thread);
/// callbacks run on the client's loop thread. Blocking helpers (`unarySync`, `serverStreamingSync`)
/// are for the CLI and tests; never call them on an event loop.
public final class GRPCClient: @unchecked Sendable {
    public let loop: EventLoop
    public let authority: String
    public var maxReceiveMessageSize = 200 * 1024 * 1024
    let connection: HTTP2ClientConnection
    private let ownsLoop: Bool

    /// Connects (blocking) to `host:port` with TLS, trusting exactly the certificate(s) in
    /// `trustedCertificatePath` (nil: no verification, tests only).
    public init(host: String, port: Int, trustedCertificatePath: String?, loop: EventLoop? = nil) throws {
        let tls = try TLSContext(clientTrusting: trustedCertificatePath)
        if let loop { self.loop = loop; ownsLoop = false } else {
            let l = EventLoop(index: 0); l.start(); self.loop = l; ownsLoop = true
        }
        authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        do {
            connection = try HTTP2ClientConnection.connect(host: host, port: port, tls: tls, loop: self.loop)
        } catch {
            if ownsLoop { self.loop.stop(); self.loop.waitForExit() }
            throw error
        }
    }

    /// Closes the connection (open calls end with UNAVAILABLE) and stops the client's own loop.
    public func close() {
        connection.close()
        if ownsLoop {
            loop.stop()
            if !loop.inEventLoop { loop.waitForExit() }
        }
    }

    deinit { }

    /// Starts a unary call. `completion` runs once on the client loop.
    @discardableResult
    public func unary(path: String, request: [UInt8], metadata: Metadata = Metadata(), timeout: Duration? = nil,
                      completion: @escaping @Sendable (Result<[UInt8], GRPCStatus>) -> Void) -> ClientCall {
        let call = ClientCall(client: self, onMessage: nil, onFinish: { status, messages in
            if status.code != .ok { completion(.failure(status)); return }
            if messages.count != 1 {
                completion(.failure(GRPCStatus(.internalError, "unary response had \(messages.count) messages"))); return
            }
            completion(.success(messages[0]))
        })
        start(call, path: path, request: request, metadata: metadata, timeout: timeout)
        return call
    }

    /// Starts a server-streaming call: `onMessage` per response, then `onFinish` once (loop thread).
    @discardableResult
    public func serverStreaming(path: String, request: [UInt8], metadata: Metadata = Metadata(), timeout: Duration? = nil,
                                onMessage: @escaping @Sendable ([UInt8]) -> Void,
                                onFinish: @escaping @Sendable (GRPCStatus) -> Void) -> ClientCall {
        serverStreaming(path: path, request: request, metadata: metadata, timeout: timeout,
                        onMessageBytes: { onMessage([UInt8]($0)) }, onFinish: onFinish)
    }

    /// As `serverStreaming(... onMessage: ...)`, lending each response instead of copying it:
    /// `onMessageBytes` gets the message's bytes, valid only during the call (no allocation per
    /// message; for readers that decode or copy what they need at once).
    @discardableResult
    public func serverStreaming(path: String, request: [UInt8], metadata: Metadata = Metadata(), timeout: Duration? = nil,
                                onMessageBytes: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                                onFinish: @escaping @Sendable (GRPCStatus) -> Void) -> ClientCall {
        let call = ClientCall(client: self, onMessage: onMessageBytes, onFinish: { status, _ in onFinish(status) })
        start(call, path: path, request: request, metadata: metadata, timeout: timeout, streaming: true)
        return call
    }

    /// Blocking unary call.
    public func unarySync(path: String, request: [UInt8], metadata: Metadata = Metadata(),
                          timeout: Duration? = nil) throws(GRPCStatus) -> [UInt8] {
        let latch = Latch<Result<[UInt8], GRPCStatus>>()
        unary(path: path, request: request, metadata: metadata, timeout: timeout) { latch.fulfil($0) }
        return try latch.wait().get()
    }

    /// Blocking server-streaming call; `onMessage` runs on the client loop. Returns the final status.
    public func serverStreamingSync(path: String, request: [UInt8], metadata: Metadata = Metadata(),
                                    timeout: Duration? = nil, onMessage: @escaping @Sendable ([UInt8]) -> Void) -> GRPCStatus {
        let latch = Latch<GRPCStatus>()
        serverStreaming(path: path, request: request, metadata: metadata, timeout: timeout,
                        onMessage: onMessage, onFinish: { latch.fulfil($0) })
        return latch.wait()
    }

    private func start(_ call: ClientCall, path: String, request: [UInt8], metadata: Metadata, timeout: Duration?,
                       streaming: Bool = false) {
        var fields: [(name: [UInt8], value: [UInt8])] = [
            (Array(":method".utf8), Array("POST".utf8)), (Array(":scheme".utf8), Array("https".utf8)),
            (Array(":path".utf8), Array(path.utf8)), (Array(":authority".utf8), Array(authority.utf8)),
            (Array("content-type".utf8), Array("application/grpc".utf8)), (Array("te".utf8), Array("trailers".utf8)),
            (Array("user-agent".utf8), Array("paytrack-grpc/1.0".utf8)),
        ]
        var timeoutNanos: UInt64?
        if let t = timeout {
            let (s, a) = t.components
            let n = UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000)
            timeoutNanos = n
            fields.append((Array("grpc-timeout".utf8), Array(GRPCTimeout.encode(nanos: n).utf8)))
        }
        for e in metadata {
            switch e.value {
            case .string(let s): fields.append((Array(e.key.utf8), Array(s.utf8)))
            case .binary(let b): fields.append((Array(e.key.utf8), Array(Base64.encode(b, padded: false).utf8)))
            }
        }
        let headers = HTTP2HeaderBlock(bytes: fields)
        let framed = MessageFraming.frame(request)
        let deadlineNanos = timeoutNanos
        loop.execute { [self] in
            guard !call.cancelledEarly else { call.complete(GRPCStatus(.cancelled, "cancelled")); return }
            guard let stream = connection.openStream(headers: headers, delegate: call) else {
                call.complete(GRPCStatus(.unavailable, "connection closed")); return
            }
            call.stream = stream
            stream.context = call
            stream.releaseWhenIdle = streaming
            stream.write(framed)
            stream.finish(trailers: nil)
            if let n = deadlineNanos {
                call.timer = loop.scheduleTimer(afterNanos: n) { [weak call] in
                    guard let call, !call.done else { return }
                    call.stream?.reset(errorCode: 8)
                    call.complete(GRPCStatus(.deadlineExceeded, "deadline exceeded"))
                }
            }
        }
    }
}

/// One client call. `cancel` may be called from any thread.
public final class ClientCall: HTTP2StreamDelegate, @unchecked Sendable {
    unowned let client: GRPCClient
    /// Each response, lent (nil: unary, responses collected in `messages`).
    let onMessage: (@Sendable (UnsafeRawBufferPointer) -> Void)?
    let onFinish: @Sendable (GRPCStatus, [[UInt8]]) -> Void
    var stream: HTTP2Stream?
    var timer: EventLoopTimer?
    var done = false
    var cancelledEarly = false
    private var deframer: MessageDeframer
    private var messages: [[UInt8]] = []
    private var httpStatus = 0
    private var grpcStatus: Int?
    private var grpcMessage = ""
    private var contentTypeOK = false
    private var failure: GRPCStatus?
    /// Response headers and trailers as received (loop thread).
    public private(set) var responseMetadata = Metadata()

    init(client: GRPCClient, onMessage: (@Sendable (UnsafeRawBufferPointer) -> Void)?, onFinish: @escaping @Sendable (GRPCStatus, [[UInt8]]) -> Void) {
        self.client = client; self.onMessage = onMessage; self.onFinish = onFinish
        deframer = MessageDeframer(maxMessageSize: client.maxReceiveMessageSize)
    }

    /// Cancels the call (RST_STREAM CANCEL); the call finishes with CANCELLED.
    public func cancel() {
        client.loop.execute { [self] in
            guard !done else { return }
            guard let s = stream else { cancelledEarly = true; return }
            s.reset(errorCode: 8)
            complete(GRPCStatus(.cancelled, "cancelled by client"))
        }
    }

    func complete(_ status: GRPCStatus) {
        guard !done else { return }
        done = true
        if let t = timer { client.loop.cancelTimer(t) }
        let msgs = messages
        messages = []
        stream?.context = nil
        onFinish(status, msgs)
    }

    /// Response headers and trailers, compared as bytes: the fields gRPC defines are parsed in
    /// place (no `String` per header), the rest kept in `responseMetadata`.
    public func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if bytesEqual(name, "grpc-status") { grpcStatus = ClientCall.decimal(value); return }
        if bytesEqual(name, ":status") { httpStatus = ClientCall.decimal(value) ?? 0; return }
        if bytesEqual(name, "content-type") {
            let prefix: StaticString = "application/grpc"
            contentTypeOK = value.count >= 16 && memcmp(value.baseAddress!, prefix.utf8Start, 16) == 0
            return
        }
        if bytesEqual(name, "grpc-message") { grpcMessage = PercentEncoding.decode(UnsafeRawBufferPointer(value)); return }
        if name.count > 4 && bytesEqual(UnsafeRawBufferPointer(rebasing: name[(name.count - 4)...]), "-bin") {
            if let b = Base64.decode(bytes: value) { b.withUnsafeBytes { responseMetadata.appendRaw(key: name, value: $0, binary: true) } }
        } else {
            responseMetadata.appendRaw(key: name, value: value, binary: false)
        }
    }

    /// A header value as a decimal integer ("0", "200"); nil when it is not one (as `Int(String)`).
    static func decimal(_ v: UnsafeRawBufferPointer) -> Int? {
        guard !v.isEmpty, v.count <= 18 else { return v.isEmpty ? nil : Int(String(decoding: v, as: UTF8.self)) }
        var n = 0
        for b in v {
            guard b >= 48 && b <= 57 else { return Int(String(decoding: v, as: UTF8.self)) }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    public func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) {}

    public func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) {
        guard !done, failure == nil else { return }
        do {
            try deframer.consumeBorrowing(data) { m in
                if let cb = onMessage { cb(m) } else { messages.append([UInt8](m)) }
            }
        } catch {
            switch error {
            case .tooLarge(let n):
                failure = GRPCStatus(.resourceExhausted, "grpc: received message larger than max (\(n) vs. \(deframer.maxMessageSize))")
            default:
                failure = GRPCStatus(.internalError, "grpc: bad response message framing")
            }
            stream.reset(errorCode: 8)
            complete(failure!)
        }
    }

    public func streamRemoteEnded(_ stream: HTTP2Stream) {}
    public func streamWritable(_ stream: HTTP2Stream) {}

    public func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) {
        if done { return }
        if let f = failure { complete(f); return }
        if let code = grpcStatus {
            complete(GRPCStatus(GRPCStatus.Code(rawValue: code) ?? .unknown, grpcMessage)); return
        }
        if httpStatus != 0 && httpStatus != 200 {
            // HTTP → gRPC mapping from the gRPC HTTP/2 spec.
            let c: GRPCStatus.Code
            switch httpStatus {
            case 400: c = .internalError
            case 401: c = .unauthenticated
            case 403: c = .permissionDenied
            case 404: c = .unimplemented
            case 429, 502, 503, 504: c = .unavailable
            default: c = .unknown
            }
            complete(GRPCStatus(c, "HTTP status \(httpStatus)")); return
        }
        if errorCode == 8 { complete(GRPCStatus(.cancelled, "stream cancelled")); return }
        if errorCode == 7 { complete(GRPCStatus(.unavailable, "stream refused")); return }
        complete(GRPCStatus(errorCode == 0 ? .unavailable : .internalError,
                            errorCode == 0 ? "connection closed before status" : "stream reset with HTTP/2 error \(errorCode)"))
    }
}
