import Locks

/// Why a metric could not be registered.
public enum MetricsError: Error, Equatable, Sendable {
    case invalidName(String)
    case invalidLabelName(String)
    case alreadyRegistered(String)
}

/// The metrics of one process, in registration order, and their Prometheus text exposition.
///
/// Contract: metric names follow Prometheus' rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`), label names
/// `[a-zA-Z_][a-zA-Z0-9_]*` not starting with `__` (reserved) and never `le` for a histogram; a
/// name is registered once. Registration takes a lock and is not for the hot path; updating a
/// series never touches the registry. `collectors` run at each scrape (process memory, file
/// descriptors) and must be quick.
public final class MetricsRegistry: Sendable {
    private enum Entry: Sendable {
        case counters(MetricFamily<Counter>)
        case gauges(MetricFamily<Gauge>)
        case histograms(MetricFamily<Histogram>)
        case sampled(name: String, help: String, kind: MetricKind, read: @Sendable () -> Double)
    }

    private let entries = LockedValue<[Entry]>([])

    public init() {}

    public func counterFamily(_ name: String, help: String, labels: [String] = [], maximumSeries: Int = 64) throws -> MetricFamily<Counter> {
        try check(name, labels)
        let f = MetricFamily<Counter>(name: name, help: help, kind: .counter, labelNames: labels, maximumSeries: maximumSeries) { Counter() }
        try add(name, .counters(f))
        return f
    }

    public func gaugeFamily(_ name: String, help: String, labels: [String] = [], maximumSeries: Int = 64) throws -> MetricFamily<Gauge> {
        try check(name, labels)
        let f = MetricFamily<Gauge>(name: name, help: help, kind: .gauge, labelNames: labels, maximumSeries: maximumSeries) { Gauge() }
        try add(name, .gauges(f))
        return f
    }

    public func histogramFamily(_ name: String, help: String, labels: [String] = [], buckets: [Double] = Histogram.latencyBuckets,
                                maximumSeries: Int = 64) throws -> MetricFamily<Histogram> {
        try check(name, labels)
        guard !labels.contains("le") else { throw MetricsError.invalidLabelName("le") }
        _ = Histogram(upperBounds: buckets)  // checks the bounds once, at registration
        let f = MetricFamily<Histogram>(name: name, help: help, kind: .histogram, labelNames: labels, maximumSeries: maximumSeries) {
            Histogram(upperBounds: buckets)
        }
        try add(name, .histograms(f))
        return f
    }

    /// A metric with no labels whose value is read at each scrape (`kind` counter or gauge).
    public func sampled(_ name: String, help: String, kind: MetricKind = .gauge, read: @escaping @Sendable () -> Double) throws {
        try check(name, [])
        precondition(kind != .histogram, "a sampled metric is a counter or a gauge")
        try add(name, .sampled(name: name, help: help, kind: kind, read: read))
    }

    /// The Prometheus text exposition format (version 0.0.4) of every metric.
    public func exposition() -> String {
        var out = PrometheusText()
        for entry in entries.withLock({ $0 }) {
            switch entry {
            case .counters(let f):
                out.header(f.name, f.help, .counter)
                for (values, c) in f.allSeries() { out.sample(f.name, f.labelNames, values, Double(c.value)) }
            case .gauges(let f):
                out.header(f.name, f.help, .gauge)
                for (values, g) in f.allSeries() { out.sample(f.name, f.labelNames, values, Double(g.value)) }
            case .histograms(let f):
                out.header(f.name, f.help, .histogram)
                for (values, h) in f.allSeries() {
                    let (counts, sum) = h.snapshot()
                    let names = f.labelNames + ["le"]
                    for (bound, count) in zip(h.upperBounds.map(PrometheusText.number) + ["+Inf"], counts) {
                        out.sample(f.name + "_bucket", names, values + [bound], Double(count))
                    }
                    out.sample(f.name + "_sum", f.labelNames, values, sum)
                    out.sample(f.name + "_count", f.labelNames, values, Double(counts.last!))
                }
            case .sampled(let name, let help, let kind, let read):
                out.header(name, help, kind)
                out.sample(name, [], [], read())
            }
        }
        return out.text
    }

    private func add(_ name: String, _ entry: Entry) throws {
        try entries.withLock { list in
            let taken = list.contains { e in
                switch e {
                case .counters(let f): return f.name == name
                case .gauges(let f): return f.name == name
                case .histograms(let f): return f.name == name
                case .sampled(let n, _, _, _): return n == name
                }
            }
            if taken { throw MetricsError.alreadyRegistered(name) }
            list.append(entry)
        }
    }

    private func check(_ name: String, _ labels: [String]) throws {
        guard PrometheusText.isValidMetricName(name) else { throw MetricsError.invalidName(name) }
        for l in labels where !PrometheusText.isValidLabelName(l) || l.hasPrefix("__") { throw MetricsError.invalidLabelName(l) }
        guard Set(labels).count == labels.count else { throw MetricsError.invalidLabelName(labels.joined(separator: ",")) }
    }
}
