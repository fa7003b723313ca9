import KomodoRPC
import Macaroons
import Metrics
import Payments
import Transport

/// Every metric paytrackd exports (`--prometheus.enable`), registered once per process and shared
/// by every served node (the series add up over nodes). docs/METRICS.md lists them. Each concern
/// is measured at one place: the RPC call path of each face (``RPCCallMetrics``), the macaroon
/// interceptor, the mmrpc dispatcher, the listeners, the payment engine's commit of each status
/// change, the payment writer's groups, and the TrackPaymentV2 fan-out.
public final class NodeMetrics: Sendable {
    public let registry = MetricsRegistry()
    public let rpc: RPCCallMetrics
    /// `reason`: ``MacaroonRefusalReason``.
    public let macaroonRefusals: MetricFamily<Counter>
    /// `reason`: ``MMRPCMetrics/Refusal``.
    public let userpassRefusals: MetricFamily<Counter>
    /// `status`: initiated, in_flight, succeeded, failed.
    public let payments: MetricFamily<Counter>
    public let storeCommitSeconds: Histogram
    public let storeCommitGroupSize: Histogram
    public let fanoutDeliverySeconds: Histogram
    let connectionsOpen: MetricFamily<Gauge>
    let connectionsAccepted: MetricFamily<Counter>

    /// Group-size buckets: powers of two up to the writer's largest group (4096).
    static let groupSizeBuckets: [Double] = (0...12).map { Double(1 << $0) }
    /// The listener kinds (label `listener`).
    public static let listenerKinds = ["grpc", "rest", "kdf", "metrics"]

    public init() throws {
        rpc = try RPCCallMetrics(registry: registry)
        macaroonRefusals = try registry.counterFamily("paytrack_macaroon_refusals_total",
                                                      help: "Calls refused by the macaroon check, by reason.", labels: ["reason"])
        userpassRefusals = try registry.counterFamily("paytrack_userpass_refusals_total",
                                                      help: "mmrpc requests refused by the userpass check, by reason.", labels: ["reason"])
        payments = try registry.counterFamily("paytrack_payments_total",
                                              help: "Payments that entered each status (committed changes).", labels: ["status"])
        storeCommitSeconds = try registry.histogramFamily("paytrack_store_commit_seconds",
                                                          help: "Payment writer transaction time per committed group, in seconds.").series([])
        storeCommitGroupSize = try registry.histogramFamily("paytrack_store_commit_group_size",
                                                            help: "Queued payment changes per committed group (group commit).",
                                                            buckets: Self.groupSizeBuckets).series([])
        fanoutDeliverySeconds = try registry.histogramFamily("paytrack_fanout_delivery_seconds",
                                                             help: "TrackPaymentV2 fan-out: control tower publish to stream write, per update and event loop, in seconds.").series([])
        connectionsOpen = try registry.gaugeFamily("paytrack_connections_open", help: "Connections open now, by listener kind.",
                                                   labels: ["listener"])
        connectionsAccepted = try registry.counterFamily("paytrack_connections_accepted_total",
                                                         help: "Connections accepted, by listener kind.", labels: ["listener"])
        try ProcessMetrics.register(in: registry)
        // The closed label sets are shown from the start (at 0), so a rate() sees the first event.
        for r in MacaroonRefusalReason.allCases { _ = macaroonRefusals.series(r.rawValue) }
        for r in MMRPCMetrics.Refusal.allCases { _ = userpassRefusals.series(r.rawValue) }
        for s in Self.statusLabels { _ = payments.series(s) }
        for k in Self.listenerKinds { _ = listener(k) }
    }

    static let statusLabels = ["initiated", "in_flight", "succeeded", "failed"]

    /// The `status` label of a payment status.
    static func statusLabel(_ s: PaymentStatus) -> String {
        switch s {
        case .initiated: return "initiated"
        case .inFlight: return "in_flight"
        case .succeeded: return "succeeded"
        case .failed: return "failed"
        }
    }

    /// `PaymentControl.Options.statusObserver`: counts each status a payment enters.
    var paymentStatusObserver: @Sendable (PaymentStatus) -> Void {
        let counters = Dictionary(uniqueKeysWithValues: Self.statusLabels.map { ($0, payments.series($0)) })
        return { status in counters[NodeMetrics.statusLabel(status)]?.increment() }
    }

    /// `PaymentPersistence.observeCommits`: each group's duration and size.
    var commitObserver: CommitObserver {
        let seconds = storeCommitSeconds, size = storeCommitGroupSize
        return { nanos, n in
            seconds.observe(nanoseconds: nanos)
            size.observe(Double(n))
        }
    }

    /// The connection series of listener kind `kind` (one of ``listenerKinds``).
    public func listener(_ kind: String) -> ListenerMetrics {
        ListenerMetrics(kind: kind, open: connectionsOpen, accepted: connectionsAccepted)
    }

    /// The mmrpc API's metrics for a dispatcher serving `methodNames`.
    func mmrpc(methodNames: [String]) -> MMRPCMetrics {
        MMRPCMetrics(rpc: rpc, userpassRefusals: userpassRefusals, methodNames: methodNames)
    }
}
