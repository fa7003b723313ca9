import RPCCore
import Transport

/// One call over LND's WebSocket proxy: each `{"result":...}` (or `{"error":...}`) line the REST
/// face would write is one text message. The stream's end closes the WebSocket with 1000 (LND
/// drops the TCP connection instead, which clients see as 1006); a unary answer is one message,
/// then 1000. A client close or a lost connection cancels the call.
final class WebSocketCall: ServerCallContext, @unchecked Sendable {
    let method: GatewayMethod
    let channel: WebSocketChannel
    let peer: String
    private var done = false

    init(method: GatewayMethod, channel: WebSocketChannel, metadata: Metadata, peer: String) {
        self.method = method; self.channel = channel; self.peer = peer
        super.init(eventLoop: channel.eventLoop)
        self.metadata = metadata
    }

    override var path: String { method.path }
    override var peerAddress: String { peer }
    /// None: a WebSocket connection carries exactly one call, so per-connection state (the
    /// macaroon verification cache) would only be kept alive for the stream's life, unused.
    override var connectionStorage: AnyObject? {
        get { nil }
        set {}
    }

    private func markDone(_ code: GRPCStatus.Code) {
        done = true
        doneFlag.store(true, ordering: .relaxed)
        metricsEnd(code)
        readyCallback = nil
        channel.onWritable = nil
    }

    override func respondUnary(_ message: [UInt8]) {
        guard !done else { return }
        let body = try? GatewayJSONLine.unaryBody(message, output: method.output)
        markDone(body == nil ? .internalError : .ok)
        if let body {
            channel.send(text: String(decoding: body, as: UTF8.self))
            channel.close(code: 1000, reason: "")
        } else {
            channel.close(code: 1011, reason: "failed to marshal response")
        }
    }

    override func finish(_ status: GRPCStatus) {
        guard !done else { return }
        markDone(status.code)
        if status.code != .ok {
            channel.send(text: String(decoding: GatewayStatus.streamError(status), as: UTF8.self))
        }
        channel.close(code: 1000, reason: "")
    }

    override func sendStreaming(_ message: [UInt8]) -> Bool {
        guard let line = try? GatewayJSONLine.make(message, output: method.output) else { return false }
        return send(line.webSocketFrame)
    }

    override func sendStreaming(_ message: EncodedMessage) -> Bool {
        guard let line = try? GatewayJSONLine.of(message, output: method.output) else { return false }
        return send(line.webSocketFrame)   // framed once, shared by every WebSocket subscriber
    }

    private func send(_ frame: WebSocketServerFrame) -> Bool {
        if done || fullFlag.load(ordering: .relaxed) { return false }
        if !channel.send(frame: frame) {
            fullFlag.store(true, ordering: .relaxed)
            channel.onWritable = { [self] in
                self.fullFlag.store(false, ordering: .relaxed)
                if !self.done, let cb = self.readyCallback { cb() }
            }
        }
        return true
    }

    /// The WebSocket ended (client close, error, pong timeout, connection lost). A call still
    /// running is cancelled; one that had ended (its last message and our close 1000 sent) has
    /// nothing to cancel, as a finished gRPC call, and its cancel callbacks are only let go of
    /// (`releaseCallbacks`), later, with the proxy: when a payment many watch settles, thousands of
    /// WebSockets close in one turn of the loop, and tearing their subscriptions down there would
    /// delay the deliveries still to be sent.
    func channelClosed() {
        if !done { markDone(.cancelled); cancel() }
    }

    /// Drops the cancel callbacks without running them (they may hold what holds this call).
    func releaseCallbacks() { cancelCallbacks = [] }
}
