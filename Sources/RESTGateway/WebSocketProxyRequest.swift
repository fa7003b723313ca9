import RPCCore
import Transport

/// LND's WebSocket proxy for one upgrade request: resolves the binding (verb from `?method=`,
/// GET by default), takes the macaroon from `Grpc-Metadata-Macaroon` or from a
/// `Sec-WebSocket-Protocol` entry `Grpc-Metadata-Macaroon+<hex>` (echoed), accepts the
/// WebSocket, and runs the call: at once for bindings without a body, on the first client
/// message (the JSON request body) for `body: "*"` bindings. Later client messages are ignored
/// (no served binding streams from the client).
final class WebSocketProxyRequest: HTTPRequestHandler, WebSocketHandler {
    static let macaroonProtocolPrefix = "Grpc-Metadata-Macaroon+"

    let gateway: RESTGateway
    let binding: RESTBinding
    let method: GatewayMethod
    /// What the call is made of; let go of once it runs (the proxy lives as long as the stream).
    private var head: HTTPRequestHead?
    private var pathValues: [(field: [String], value: String)]
    private var metadata: Metadata
    weak var writer: HTTPResponseWriter?
    private var call: WebSocketCall?
    private var channel: WebSocketChannel?
    private var state = State.awaitingBody

    enum State { case awaitingBody, running, closed }

    private init(gateway: RESTGateway, head: HTTPRequestHead, writer: HTTPResponseWriter, binding: RESTBinding,
                 method: GatewayMethod, pathValues: [(field: [String], value: String)], metadata: Metadata) {
        self.gateway = gateway; self.head = head; self.writer = writer; self.binding = binding; self.method = method
        self.pathValues = pathValues; self.metadata = metadata
    }

    static func start(gateway: RESTGateway, head: HTTPRequestHead, writer: HTTPResponseWriter) -> HTTPRequestHandler {
        let verb = head.queryItems.first { $0.name == "method" }?.value ?? "GET"
        let binding: RESTBinding, values: [(field: [String], value: String)]
        let unknown = gateway.unknownMethodMetrics?.ws
        switch gateway.resolve(verb: verb, path: head.path) {
        case .notFound:
            RESTGateway.respondError(writer, GRPCStatus(.notFound, "Not Found"), HTTPHeaders(), counting: unknown); return DiscardingRequest()
        case .wrongVerb:
            RESTGateway.respondError(writer, GRPCStatus(.unimplemented, "Method Not Allowed"), HTTPHeaders(), counting: unknown)
            return DiscardingRequest()
        case .found(let b, let v): binding = b; values = v
        }
        guard let method = gateway.methods[binding.method] else {
            RESTGateway.respondError(writer, RESTGateway.unserved(binding.method), HTTPHeaders(), counting: unknown)
            return DiscardingRequest()
        }
        var metadata = RESTGateway.metadata(head.headers)
        var chosen: String?
        for value in head.headers.values("Sec-WebSocket-Protocol") {
            for entry in value.split(separator: ",") {
                let p = entry.trimmingCharacters(in: " \t")
                if p.hasPrefix(macaroonProtocolPrefix) && chosen == nil {
                    chosen = p
                    if metadata["macaroon"] == nil { metadata.add("macaroon", String(p.dropFirst(macaroonProtocolPrefix.count))) }
                }
            }
        }
        let proxy = WebSocketProxyRequest(gateway: gateway, head: head, writer: writer, binding: binding, method: method,
                                          pathValues: values, metadata: metadata)
        guard let channel = writer.acceptWebSocket(subprotocol: chosen, handler: proxy) else { return DiscardingRequest() }
        proxy.channel = channel
        if binding.body == .none { proxy.run(body: nil) }
        return proxy
    }

    private func run(body: [UInt8]?) {
        guard case .awaitingBody = state, let channel, let head else { return }
        state = .running
        let values = pathValues, callMetadata = metadata
        self.head = nil; pathValues = []; metadata = Metadata()
        let request: [UInt8]
        do {
            request = try gateway.decoder.decode(method: method, binding: binding, pathValues: values,
                                                 query: head.queryItems, body: body)
        } catch {
            method.metrics?.ws.refused(code: error.code.name)
            channel.send(text: String(decoding: GatewayStatus.streamError(error), as: UTF8.self))
            channel.close(code: 1000, reason: "")
            return
        }
        let call = WebSocketCall(method: method, channel: channel, metadata: callMetadata, peer: writer?.peerAddress ?? "")
        self.call = call
        gateway.dispatch(method, request: request, call: call, series: method.metrics?.ws)
        // Interceptors and handlers read the metadata when the call starts (synchronously, above);
        // a stream may then last for hours: let go of the macaroon and the other headers.
        call.metadata = Metadata()
    }

    // MARK: HTTPRequestHandler (the upgrade request itself carries no body)

    func body(_ chunk: [UInt8]) {}
    func end() {}
    func cancelled() { closed(code: 1006, reason: "") }

    // MARK: WebSocketHandler

    func text(_ channel: WebSocketChannel, _ message: String) {
        if case .awaitingBody = state { run(body: Array(message.utf8)) }
    }

    func binary(_ channel: WebSocketChannel, _ message: [UInt8]) {
        if case .awaitingBody = state { run(body: message) }
    }

    /// The call stays referenced until the proxy goes (with its connection or HTTP/2 stream, at an
    /// idle moment), so a burst of closes frees nothing in the burst.
    func closed(code: UInt16, reason: String) {
        state = .closed
        call?.channelClosed()
        channel = nil
    }

    deinit { call?.releaseCallbacks() }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
