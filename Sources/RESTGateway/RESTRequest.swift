import RPCCore
import Transport

/// One REST request on its way to a handler: collects the body, builds the request message when
/// it is complete (decode errors answer 400 with the bare status, as the gateway does before it
/// calls the method), then runs the method on a `RESTCall`.
final class RESTRequest: HTTPRequestHandler {
    let gateway: RESTGateway
    let head: HTTPRequestHead
    let writer: HTTPResponseWriter
    let binding: RESTBinding
    let method: GatewayMethod
    let pathValues: [(field: [String], value: String)]
    let cors: HTTPHeaders
    private var body: [UInt8] = []
    private var call: RESTCall?

    init(gateway: RESTGateway, head: HTTPRequestHead, writer: HTTPResponseWriter, binding: RESTBinding,
         method: GatewayMethod, pathValues: [(field: [String], value: String)], cors: HTTPHeaders) {
        self.gateway = gateway; self.head = head; self.writer = writer; self.binding = binding
        self.method = method; self.pathValues = pathValues; self.cors = cors
    }

    func body(_ chunk: [UInt8]) {
        // The transport bounds the body (413 beyond its limit); GET bindings do not read it.
        if binding.body == .all { body.append(contentsOf: chunk) }
    }

    func end() {
        let request: [UInt8]
        do {
            request = try gateway.decoder.decode(method: method, binding: binding, pathValues: pathValues,
                                                 query: head.queryItems, body: body)
        } catch {
            RESTGateway.respondError(writer, error, cors, counting: method.metrics?.rest)
            return
        }
        body = []
        let call = RESTCall(method: method, writer: writer, metadata: RESTGateway.metadata(head.headers), extraHeaders: cors)
        self.call = call
        gateway.dispatch(method, request: request, call: call, series: method.metrics?.rest)
    }

    func cancelled() {
        call?.transportCancelled()
        call = nil
    }
}
