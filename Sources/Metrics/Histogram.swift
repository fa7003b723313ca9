import Synchronization

/// Counts of observations in fixed buckets, with their sum (Prometheus `histogram`): latencies,
/// group sizes.
///
/// Contract: the bucket upper bounds are fixed at creation (finite, strictly increasing; `+Inf` is
/// implicit). `observe` is lock-free: a scan of the bounds, one relaxed add to the bucket and a
/// compare-and-swap loop on the sum (uncontended: one iteration). A scrape that races with
/// observations may see a sum and counts from slightly different instants, as with any
/// Prometheus client; each count is exact.
public final class Histogram: @unchecked Sendable {
    public let upperBounds: [Double]
    /// One count per bound, then the +Inf bucket: observations that fell in each (not cumulative).
    private let buckets: UnsafeMutablePointer<Atomic<UInt64>>
    private let sumBits = Atomic<UInt64>(0)

    /// Latency buckets in seconds from 50 µs to 10 s, for per-call and per-commit latencies.
    public static let latencyBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

    public init(upperBounds: [Double]) {
        precondition(upperBounds.allSatisfy { $0.isFinite }, "histogram bounds must be finite")
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must increase")
        self.upperBounds = upperBounds
        buckets = .allocate(capacity: upperBounds.count + 1)
        for i in 0...upperBounds.count { (buckets + i).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: upperBounds.count + 1)
        buckets.deallocate()
    }

    /// Records one observation (NaN is counted in +Inf and leaves the sum unchanged).
    public func observe(_ value: Double) {
        var i = 0
        let n = upperBounds.count
        while i < n && !(value <= upperBounds[i]) { i += 1 }
        buckets[i].wrappingAdd(1, ordering: .relaxed)
        guard !value.isNaN else { return }
        var old = sumBits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + value).bitPattern
            let (exchanged, original) = sumBits.weakCompareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    /// Records a duration given in nanoseconds, in seconds (Prometheus' base unit).
    @inline(__always)
    public func observe(nanoseconds: UInt64) { observe(Double(nanoseconds) * 1e-9) }

    /// Cumulative counts per bound (the last is +Inf, the total count) and the sum.
    public func snapshot() -> (cumulative: [UInt64], sum: Double) {
        var running: UInt64 = 0
        var counts: [UInt64] = []
        counts.reserveCapacity(upperBounds.count + 1)
        for i in 0...upperBounds.count {
            running &+= buckets[i].load(ordering: .relaxed)
            counts.append(running)
        }
        return (counts, Double(bitPattern: sumBits.load(ordering: .relaxed)))
    }
}
