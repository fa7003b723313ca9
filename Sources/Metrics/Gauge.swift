/// A value that goes up and down (Prometheus `gauge`): open streams, connections.
///
/// Contract: lock-free; `increment`/`decrement` are one relaxed atomic add on the caller's shard
/// (see ``ShardedCells``), safe from any thread; the value is the sum over shards. `set` is for
/// gauges written by one thread at a time (it clears the other shards; not atomic as a whole).
public final class Gauge: Sendable {
    private let cells: ShardedCells

    public init() { cells = ShardedCells(cellsPerShard: 1) }

    @inline(__always)
    public func increment(by amount: Int64 = 1, shard: Int = ShardedCells.currentShard) {
        cells.add(UInt64(bitPattern: amount), cell: 0, shard: shard)
    }

    @inline(__always)
    public func decrement(by amount: Int64 = 1, shard: Int = ShardedCells.currentShard) {
        cells.add(UInt64(bitPattern: 0 &- amount), cell: 0, shard: shard)
    }

    public func set(_ value: Int64) {
        for s in 1..<cells.shardCount { cells.cell(0, shard: s).pointee.store(0, ordering: .relaxed) }
        cells.cell(0, shard: 0).pointee.store(UInt64(bitPattern: value), ordering: .relaxed)
    }

    public var value: Int64 { Int64(bitPattern: cells.sum(0)) }
}
