import Metrics

/// The mmrpc API's metrics: its calls in the shared RPC families (api `mmrpc`, method from the
/// served method table, `unknown` otherwise; code: the HTTP status of the reply, a closed set)
/// and `paytrack_userpass_refusals_total{reason}`.
public final class MMRPCMetrics: Sendable {
    /// Why the userpass check refused a request (the `reason` label).
    public enum Refusal: String, CaseIterable, Sendable {
        /// No `userpass` in the request.
        case notSet = "not_set"
        /// A wrong `userpass`.
        case invalid
        /// The client's IP is banned after too many wrong ones (KDF's rate limiter).
        case banned
    }

    private let methods: [String: RPCMethodSeries]
    private let unknown: RPCMethodSeries
    private let refusals: [Refusal: Counter]

    /// - Parameter userpassRefusals: a family with the label `reason`; its series of every reason
    ///   are created here (so a scrape shows them at 0).
    public init(rpc: RPCCallMetrics, userpassRefusals: MetricFamily<Counter>, methodNames: [String]) {
        var m: [String: RPCMethodSeries] = [:]
        for name in methodNames { m[name] = rpc.series(api: "mmrpc", method: name) }
        methods = m
        unknown = rpc.series(api: "mmrpc", method: RPCCallMetrics.unknownMethod)
        var r: [Refusal: Counter] = [:]
        for reason in Refusal.allCases { r[reason] = userpassRefusals.series(reason.rawValue) }
        refusals = r
    }

    /// One request ended with `httpStatus` after `elapsed`; `method` is what the request named.
    func ended(method: String?, httpStatus: Int, elapsed: Duration) {
        let series = method.flatMap { methods[$0] } ?? unknown
        series.ended(code: Self.code(httpStatus), nanoseconds: UInt64(max(0, elapsed / .nanoseconds(1))))
    }

    func userpassRefused(_ reason: Refusal) { refusals[reason]?.increment() }

    /// A request the listener answered itself, before the dispatcher (body too large, server
    /// busy): counted as method `unknown` with `httpStatus`, not timed.
    public func refusedBeforeDispatch(httpStatus: Int) { unknown.refused(code: Self.code(httpStatus)) }

    /// The HTTP status as the `code` label: the statuses KDF answers with, anything else `other`.
    static func code(_ status: Int) -> String {
        switch status {
        case 200, 400, 401, 403, 404, 405, 413, 429, 500, 503: return String(status)
        default: return "other"
        }
    }
}
