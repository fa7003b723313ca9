import RPCCore
import Transport

/// One REST call: the handler's `ServerCallContext` answered as LND's gateway answers it.
///
/// Unary: 200 and the message's JSON, or the bare status `{"code":N,"message":"...","details":[]}`
/// with the HTTP status mapped from the code. Server streams: chunked, one `{"result":...}` line
/// per message, an error as one `{"error":{...}}` line (the HTTP status mapped from its code when
/// nothing was written yet, else already 200). Loop thread only, like every face.
final class RESTCall: ServerCallContext, @unchecked Sendable {
    let method: GatewayMethod
    let writer: HTTPResponseWriter
    let extraHeaders: HTTPHeaders
    private var state = State.idle

    /// Where the response is (the call's protocol state).
    enum State {
        case idle          // nothing written
        case streaming     // 200 and chunked head written
        case done
    }

    init(method: GatewayMethod, writer: HTTPResponseWriter, metadata: Metadata, extraHeaders: HTTPHeaders) {
        self.method = method; self.writer = writer; self.extraHeaders = extraHeaders
        super.init(eventLoop: writer.eventLoop)
        self.metadata = metadata
    }

    override var path: String { method.path }
    override var peerAddress: String { writer.peerAddress }
    override var connectionStorage: AnyObject? {
        get { writer.connectionStorage }
        set { writer.connectionStorage = newValue }
    }

    private func headers(status: Int) -> HTTPHeaders {
        var h = extraHeaders
        h.add(name: "Content-Type", value: "application/json")
        if status == 401 { h.add(name: "WWW-Authenticate", value: "macaroon") }
        return h
    }

    private func markDone(_ code: GRPCStatus.Code) {
        state = .done
        doneFlag.store(true, ordering: .relaxed)
        metricsEnd(code)
        readyCallback = nil
        writer.onWritable = nil
    }

    override func respondUnary(_ message: [UInt8]) {
        guard case .idle = state else { return }
        let body: [UInt8]
        do { body = try GatewayJSONLine.unaryBody(message, output: method.output) } catch {
            markDone(.internalError)
            let s = GRPCStatus(.internalError, "failed to marshal response: \(error)")
            writer.respond(status: 500, headers: headers(status: 500), body: GatewayStatus.unaryBody(s))
            return
        }
        markDone(.ok)
        writer.respond(status: 200, headers: headers(status: 200), body: body)
    }

    override func finish(_ status: GRPCStatus) {
        switch state {
        case .done: return
        case .idle:
            markDone(status.code)
            if status.code == .ok {
                if method.serverStreaming {
                    writer.writeHead(status: 200, headers: headers(status: 200))
                    writer.end()
                } else {
                    writer.respond(status: 200, headers: headers(status: 200), body: Array("{}".utf8))
                }
            } else {
                let http = GatewayStatus.httpStatus(status.code)
                if method.serverStreaming {
                    writer.writeHead(status: http, headers: headers(status: http))
                    writer.writeBody(GatewayStatus.streamError(status) + [0x0A])
                    writer.end()
                } else {
                    writer.respond(status: http, headers: headers(status: http), body: GatewayStatus.unaryBody(status))
                }
            }
        case .streaming:
            markDone(status.code)
            if status.code != .ok { writer.writeBody(GatewayStatus.streamError(status) + [0x0A]) }
            writer.end()
        }
    }

    override func sendStreaming(_ message: [UInt8]) -> Bool {
        guard let line = try? GatewayJSONLine.make(message, output: method.output) else { return false }
        return write(line.line)
    }

    override func sendStreaming(_ message: EncodedMessage) -> Bool {
        guard let line = try? GatewayJSONLine.of(message, output: method.output) else { return false }
        return write(line.line)
    }

    /// High-watermark backpressure as gRPC's writer: refused while full; a write that fills the
    /// buffer is still taken and marks the writer full until the transport says it drained.
    private func write(_ line: [UInt8]) -> Bool {
        switch state {
        case .done: return false
        case .idle:
            state = .streaming
            writer.writeHead(status: 200, headers: headers(status: 200))
        case .streaming:
            if fullFlag.load(ordering: .relaxed) { return false }
        }
        if !writer.writeBody(line) {
            fullFlag.store(true, ordering: .relaxed)
            writer.onWritable = { [self] in
                self.fullFlag.store(false, ordering: .relaxed)
                if case .streaming = self.state, let cb = self.readyCallback { cb() }
            }
        }
        return true
    }

    /// The client went away or the transport ended the request.
    func transportCancelled() {
        if case .done = state {} else { markDone(.cancelled) }
        cancel()
    }
}
