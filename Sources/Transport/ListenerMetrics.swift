import Metrics

/// The connection series of one kind of listener (label `listener`: `grpc`, `rest`, `kdf`,
/// `metrics`): `paytrack_connections_open` (gauge) and `paytrack_connections_accepted_total`
/// (counter). A `TLSServer` given one counts each accepted socket once and keeps it in the open
/// gauge until the connection closes (TLS handshakes in progress included).
public final class ListenerMetrics: Sendable {
    public let open: Gauge
    public let accepted: Counter

    public init(open: Gauge, accepted: Counter) {
        self.open = open
        self.accepted = accepted
    }

    /// The series of listener kind `kind` in the two families.
    public convenience init(kind: String, open: MetricFamily<Gauge>, accepted: MetricFamily<Counter>) {
        self.init(open: open.series(kind), accepted: accepted.series(kind))
    }
}
