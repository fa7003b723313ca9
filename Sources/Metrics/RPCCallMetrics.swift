/// The RPC families shared by every API the daemon answers on (LND's gRPC, its REST gateway and
/// WebSocket proxy, the Komodo mmrpc API):
///
/// - `paytrack_rpc_requests_total{api,method,code}` (counter): calls ended, by how they ended;
/// - `paytrack_rpc_duration_seconds{api,method}` (histogram): from the call being routed to its
///   end (for a server stream: the stream's life);
/// - `paytrack_rpc_open_streams{api,method}` (gauge): server streams open now.
///
/// Contract: the label sets are bounded by the callers: `api` is one of a few fixed names,
/// `method` comes from the served method table (anything else is `unknown`), `code` from a closed
/// set (gRPC's code names; HTTP statuses for mmrpc). Each family also caps its series
/// (``MetricFamily/maximumSeries``). A face resolves one ``RPCMethodSeries`` per method when it
/// is built (``series(api:method:)``), never per call.
public final class RPCCallMetrics: Sendable {
    public let requests: MetricFamily<Counter>
    public let duration: MetricFamily<Histogram>
    public let openStreams: MetricFamily<Gauge>

    /// The method label of requests that match no served method.
    public static let unknownMethod = "unknown"

    public init(registry: MetricsRegistry, maximumSeries: Int = 4096) throws {
        requests = try registry.counterFamily("paytrack_rpc_requests_total", help: "RPC calls ended, by API, method and status code.",
                                              labels: ["api", "method", "code"], maximumSeries: maximumSeries)
        duration = try registry.histogramFamily("paytrack_rpc_duration_seconds",
                                                help: "RPC call latency in seconds, from routing to the end of the call (a stream's whole life).",
                                                labels: ["api", "method"], maximumSeries: maximumSeries)
        openStreams = try registry.gaugeFamily("paytrack_rpc_open_streams", help: "Server streams open now, by API and method.",
                                               labels: ["api", "method"], maximumSeries: maximumSeries)
    }

    /// The handle of one (api, method); its series are created on first use.
    public func series(api: String, method: String) -> RPCMethodSeries {
        RPCMethodSeries(metrics: self, api: api, method: method)
    }
}
