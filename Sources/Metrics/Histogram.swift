/// Counts of observations in fixed buckets, with their sum (Prometheus `histogram`): latencies,
/// group sizes.
///
/// Contract: the bucket upper bounds are fixed at creation (finite, strictly increasing; `+Inf` is
/// implicit). `observe` is lock-free and works on the caller's shard (``ShardedCells``): a scan
/// of the bounds, one relaxed add to the bucket and a compare-and-swap loop on the shard's sum
/// (uncontended: one iteration). A scrape that races with
/// observations may see a sum and counts from slightly different instants, as with any
/// Prometheus client; each count is exact.
public final class Histogram: @unchecked Sendable {
    public let upperBounds: [Double]
    /// Per shard: one count per bound, then the +Inf bucket (not cumulative), then the sum's bits.
    private let cells: ShardedCells

    /// Latency buckets in seconds from 50 µs to 10 s, for per-call and per-commit latencies.
    public static let latencyBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

    public init(upperBounds: [Double]) {
        precondition(upperBounds.allSatisfy { $0.isFinite }, "histogram bounds must be finite")
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must increase")
        self.upperBounds = upperBounds
        cells = ShardedCells(cellsPerShard: upperBounds.count + 2)
    }

    /// Records one observation (NaN is counted in +Inf and leaves the sum unchanged).
    public func observe(_ value: Double, shard: Int = ShardedCells.currentShard) {
        var i = 0
        let n = upperBounds.count
        while i < n && !(value <= upperBounds[i]) { i += 1 }
        cells.add(1, cell: i, shard: shard)
        guard !value.isNaN else { return }
        let sum = cells.cell(n + 1, shard: shard)
        var old = sum.pointee.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + value).bitPattern
            let (exchanged, original) = sum.pointee.weakCompareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    /// Records a duration given in nanoseconds, in seconds (Prometheus' base unit).
    @inline(__always)
    public func observe(nanoseconds: UInt64, shard: Int = ShardedCells.currentShard) {
        observe(Double(nanoseconds) * 1e-9, shard: shard)
    }

    /// Cumulative counts per bound (the last is +Inf, the total count) and the sum.
    public func snapshot() -> (cumulative: [UInt64], sum: Double) {
        var running: UInt64 = 0
        var counts: [UInt64] = []
        counts.reserveCapacity(upperBounds.count + 1)
        for i in 0...upperBounds.count {
            running &+= cells.sum(i)
            counts.append(running)
        }
        var sum = 0.0
        for s in 0..<cells.shardCount { sum += Double(bitPattern: cells.cell(upperBounds.count + 1, shard: s).pointee.load(ordering: .relaxed)) }
        return (counts, sum)
    }
}
