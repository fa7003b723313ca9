import Locks

/// The kinds of series a family can hold.
public enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

/// A named metric with a fixed list of label names and at most `maximumSeries` label-value
/// combinations (series), each a `Counter`, `Gauge` or `Histogram`.
///
/// Contract: `series(_:)` returns the same object for the same label values; finding it takes a
/// lock, so callers on a hot path resolve their series once (e.g. per gRPC method at
/// registration) and keep it. The label set is bounded: once `maximumSeries` combinations
/// exist, any new combination gets the family's one overflow series, whose every label value is
/// `overflow` (so memory stays bounded whatever values callers pass, and the overflow is visible
/// on a scrape). Label values may be any text; the exposition escapes them.
public final class MetricFamily<Series: Sendable>: Sendable {
    public let name: String
    public let help: String
    public let kind: MetricKind
    public let labelNames: [String]
    public let maximumSeries: Int
    private let make: @Sendable () -> Series
    private let table: LockedValue<(order: [[String]], byLabels: [[String]: Series], overflow: Series?)>

    init(name: String, help: String, kind: MetricKind, labelNames: [String], maximumSeries: Int, make: @escaping @Sendable () -> Series) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labelNames = labelNames
        self.maximumSeries = max(1, maximumSeries)
        self.make = make
        table = LockedValue(([], [:], nil))
    }

    /// The series for `values` (one per label name, in order).
    public func series(_ values: [String]) -> Series {
        precondition(values.count == labelNames.count, "\(name) has labels \(labelNames), got \(values.count) values")
        return table.withLock { t in
            if let s = t.byLabels[values] { return s }
            if t.order.count >= maximumSeries {
                if let o = t.overflow { return o }
                let o = make()
                t.overflow = o
                return o
            }
            let s = make()
            t.byLabels[values] = s
            t.order.append(values)
            return s
        }
    }

    public func series(_ values: String...) -> Series { series(values) }

    /// Every series with its label values, in creation order, the overflow series last.
    public func allSeries() -> [(labels: [String], series: Series)] {
        table.withLock { t in
            var out = t.order.map { ($0, t.byLabels[$0]!) }
            if let o = t.overflow { out.append((labelNames.map { _ in "overflow" }, o)) }
            return out
        }
    }
}
