import LightningPrimitives
import LightningRPC
import Metrics
import ProtoWire
import RPCCore
import Transport

/// LND's REST gateway and WebSocket proxy as an `HTTPApplication`: LND's REST bindings run the
/// very handlers gRPC runs, in process (LND's gateway dials its own gRPC port instead), through the
/// same interceptors (the macaroon check reads `Grpc-Metadata-Macaroon`, any case). An upgrade
/// request on any binding's path runs that binding over a WebSocket (`?method=` overrides the
/// verb; the macaroon may also come as a `Sec-WebSocket-Protocol` entry
/// `Grpc-Metadata-Macaroon+<hex>`, which is echoed so browsers complete the handshake).
public final class RESTGateway: HTTPApplication, @unchecked Sendable {
    /// Bindings, most specific first (a literal segment beats a variable at the first difference).
    let bindings: [RESTBinding]
    let methods: [String: GatewayMethod]
    let interceptors: [ServerInterceptor]
    let decoder: RequestDecoder
    /// `--restcors` origins ("*" allows any); empty: no CORS headers at all, as LND.
    let corsOrigins: [String]
    /// Extra routes served before the bindings (e.g. the dashboard's static files), by exact path.
    var staticFiles: [String: (contentType: String, body: [UInt8])] = [:]
    var staticHeaders = HTTPHeaders()
    /// Requests whose path or verb matches no served binding (method label `unknown`).
    let unknownMethodMetrics: GatewayMetrics?

    /// - Parameter metrics: when given, every call counts in its method's RPC series (api `rest`,
    ///   or `ws` over the WebSocket proxy), refused requests too (unknown paths as `unknown`).
    public init(services: [RPCService], interceptors: [ServerInterceptor], corsOrigins: [String] = [],
                bindings: [RESTBinding] = LNDRESTBindings.all + PayTrackRESTBindings.all,
                methods: [MethodDescriptor] = LightningDescriptors.methods,
                messageTypes: [any GatewayJSONMessage.Type] = LightningDescriptors.messageTypes,
                descriptorFiles: [[UInt8]] = LightningDescriptors.files.map(\.bytes),
                metrics: RPCCallMetrics? = nil) {
        self.bindings = bindings.sorted { a, b in
            let x = a.template.specificity, y = b.template.specificity
            for (p, q) in zip(x, y) where p != q { return p }
            return false
        }
        var table = GatewayMethod.table(services: services, methods: methods, messageTypes: messageTypes)
        if let metrics { for k in Array(table.keys) { table[k]!.metrics = GatewayMetrics(metrics, method: k) } }
        self.methods = table
        unknownMethodMetrics = metrics.map { GatewayMetrics($0, method: RPCCallMetrics.unknownMethod) }
        self.interceptors = interceptors
        self.decoder = RequestDecoder(schema: MessageSchema(files: descriptorFiles))
        self.corsOrigins = corsOrigins
    }

    /// Serves `body` at `path` (GET) with `contentType`; `headers` go on every such response.
    public func addStaticFile(path: String, contentType: String, body: [UInt8]) {
        staticFiles[path] = (contentType, body)
    }

    /// Headers added to every static file response (e.g. a Content-Security-Policy).
    public func setStaticHeaders(_ headers: HTTPHeaders) { staticHeaders = headers }

    // MARK: Routing

    enum Resolution {
        case found(RESTBinding, [(field: [String], value: String)])
        /// The path matches a binding of another verb (grpc-gateway: 501 "Method Not Allowed").
        case wrongVerb
        case notFound
    }

    func resolve(verb: String, path: String) -> Resolution {
        guard let segments = PathTemplate.segments(ofPath: path) else { return .notFound }
        var other = false
        for b in bindings {
            guard let values = b.template.match(segments) else { continue }
            if b.verb == verb { return .found(b, values) }
            other = true
        }
        return other ? .wrongVerb : .notFound
    }

    /// LND's `allowCORS`: with origins configured and an `Origin` header, the allow headers, and
    /// the origin echoed when it is allowed.
    func corsHeaders(_ head: HTTPRequestHead) -> HTTPHeaders {
        var h = HTTPHeaders()
        guard !corsOrigins.isEmpty, let origin = head.headers["Origin"] else { return h }
        h.add(name: "Access-Control-Allow-Headers", value: "Content-Type, Accept, Grpc-Metadata-Macaroon")
        h.add(name: "Access-Control-Allow-Methods", value: "GET, POST, DELETE")
        if corsOrigins.contains(where: { $0 == "*" || $0 == origin }) {
            h.add(name: "Access-Control-Allow-Origin", value: origin)
        }
        return h
    }

    /// Request metadata from `Grpc-Metadata-<key>` headers (grpc-gateway's default header matcher).
    static func metadata(_ headers: HTTPHeaders) -> Metadata {
        var m = Metadata()
        for (name, value) in headers {
            guard let key = metadataKey(name) else { continue }
            if key.hasSuffix("-bin") {
                if let b = Base64.decode(value) { m.add(key, binary: b) }
            } else {
                m.add(key, value)
            }
        }
        return m
    }

    /// The lowercased key of a `Grpc-Metadata-<key>` header name (any case), nil for other names.
    static func metadataKey(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { u -> String? in
            let prefix: StaticString = "grpc-metadata-"
            let n = prefix.utf8CodeUnitCount
            guard u.count > n else { return nil }
            let p = prefix.utf8Start
            for i in 0..<n {
                var c = u[i]
                if c >= 65 && c <= 90 { c |= 0x20 }
                if c != p[i] { return nil }
            }
            var out = [UInt8]()
            out.reserveCapacity(u.count - n)
            for c in u[n...] { out.append(c >= 65 && c <= 90 ? c | 0x20 : c) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    // MARK: HTTPApplication

    public func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        let cors = corsHeaders(head)
        if head.method == "OPTIONS" && !cors.entries.isEmpty {
            writer.respond(status: 200, headers: cors, body: [])
            return DiscardingRequest()
        }
        if head.isWebSocketUpgrade {
            return WebSocketProxyRequest.start(gateway: self, head: head, writer: writer)
        }
        if head.method == "GET" || head.method == "HEAD", let file = staticFiles[head.path] {
            var h = staticHeaders
            h.add(name: "Content-Type", value: file.contentType)
            writer.respond(status: 200, headers: h, body: file.body)
            return DiscardingRequest()
        }
        switch resolve(verb: head.method, path: head.path) {
        case .notFound:
            Self.respondError(writer, GRPCStatus(.notFound, "Not Found"), cors, counting: unknownMethodMetrics?.rest)
            return DiscardingRequest()
        case .wrongVerb:
            Self.respondError(writer, GRPCStatus(.unimplemented, "Method Not Allowed"), cors, counting: unknownMethodMetrics?.rest)
            return DiscardingRequest()
        case .found(let binding, let values):
            guard let method = methods[binding.method] else {
                Self.respondError(writer, Self.unserved(binding.method), cors, counting: unknownMethodMetrics?.rest)
                return DiscardingRequest()
            }
            return RESTRequest(gateway: self, head: head, writer: writer, binding: binding, method: method,
                               pathValues: values, cors: cors)
        }
    }

    /// gRPC's answer for a method with a binding but no handler here.
    static func unserved(_ path: String) -> GRPCStatus {
        let parts = path.split(separator: "/")
        return GRPCStatus(.unimplemented, "unknown method \(parts.last ?? "") for service \(parts.first ?? "")")
    }

    /// Answers a request refused before it became a call, counted in `counting` when given.
    static func respondError(_ writer: HTTPResponseWriter, _ status: GRPCStatus, _ extra: HTTPHeaders,
                             counting series: RPCMethodSeries? = nil) {
        series?.refused(code: status.code.name)
        var h = extra
        h.add(name: "Content-Type", value: "application/json")
        writer.respond(status: GatewayStatus.httpStatus(status.code), headers: h, body: GatewayStatus.unaryBody(status))
    }

    /// Runs `method` for a decoded request on `call`: the interceptors, then the handler; the call
    /// is measured in `series` (its method's series on the call's face) from here to its end.
    func dispatch(_ method: GatewayMethod, request: [UInt8], call: ServerCallContext, series: RPCMethodSeries?) {
        call.metricsBegin(series)
        for i in interceptors {
            if let refused = i.intercept(call) { call.finish(refused); return }
        }
        switch method.handler {
        case .unary(let f): f(call, request, UnaryResponder(call: call))
        case .serverStreaming(let f):
            call.metricsStreamOpened()
            f(call, request, ServerStreamWriter(call: call))
        case .bidiStreaming:
            call.finish(GRPCStatus(.unimplemented, "streaming calls are not supported"))
        }
    }
}

/// A request already answered (errors, CORS preflight, static files): its body is ignored.
final class DiscardingRequest: HTTPRequestHandler {
    func body(_ chunk: [UInt8]) {}
    func end() {}
    func cancelled() {}
}

extension RESTGateway {
    /// Routes and decodes a request without running it: the gRPC method and the serialized
    /// request message, or the status the gateway would answer with (for tests and fuzzing).
    public func prepare(verb: String, target: String, body: [UInt8]) -> Result<(method: String, request: [UInt8]), GRPCStatus> {
        let head = HTTPRequestHead(method: verb, target: target, version: (1, 1), headers: HTTPHeaders())
        switch resolve(verb: verb, path: head.path) {
        case .notFound: return .failure(GRPCStatus(.notFound, "Not Found"))
        case .wrongVerb: return .failure(GRPCStatus(.unimplemented, "Method Not Allowed"))
        case .found(let binding, let values):
            guard let method = methods[binding.method] else { return .failure(Self.unserved(binding.method)) }
            do {
                let request = try decoder.decode(method: method, binding: binding, pathValues: values,
                                                 query: head.queryItems, body: body)
                return .success((binding.method, request))
            } catch {
                return .failure(error)
            }
        }
    }
}
