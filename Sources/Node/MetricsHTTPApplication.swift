import Metrics
import Transport

/// The Prometheus scrape endpoint (`--prometheus.listen`): `GET /metrics` (or HEAD) answers the
/// registry's text exposition, version 0.0.4. Served over Transport's HTTP/1.1 server in plain
/// HTTP, as Prometheus scrapes; its request parsing is that server's (llhttp, fuzzed by
/// Fuzz/HTTP1Server), so this application only routes.
///
/// Errors: another path → 404; another method on /metrics → 405 with `Allow: GET, HEAD`; bytes
/// that are not HTTP/1.1 → the transport's 400. A request body is read and dropped (bounded by
/// the transport's body limit).
final class MetricsHTTPApplication: HTTPApplication {
    let registry: MetricsRegistry
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    init(registry: MetricsRegistry) { self.registry = registry }

    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        let (status, headers, body) = Self.answer(method: head.method, path: head.path, registry: registry)
        writer.respond(status: status, headers: headers, body: body)
        return MetricsDiscardedBody()
    }

    /// The response to `method path` (pure: the unit tests call it).
    static func answer(method: String, path: String, registry: MetricsRegistry) -> (Int, HTTPHeaders, [UInt8]) {
        guard path == Self.path else {
            return (404, HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), Array("404 page not found: only \(Self.path) is served\n".utf8))
        }
        guard method == "GET" || method == "HEAD" else {
            return (405, HTTPHeaders([("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")]),
                    Array("405 method not allowed: use GET\n".utf8))
        }
        return (200, HTTPHeaders([("Content-Type", Self.contentType)]), Array(registry.exposition().utf8))
    }
}

/// The scrape endpoint answers at the head; a body, if any, is dropped.
final class MetricsDiscardedBody: HTTPRequestHandler {
    func body(_ chunk: [UInt8]) {}
    func end() {}
    func cancelled() {}
}
