/// A monotonically increasing count (Prometheus `counter`): requests served, refusals, bytes.
///
/// Contract: lock-free; `increment` is one relaxed atomic add on the caller's shard (its own
/// cache line, see ``ShardedCells``), safe from any thread; `shard` lets an event loop pass its
/// index. The value is the sum over shards and wraps at 2^64 (never reached in practice).
public final class Counter: Sendable {
    private let cells: ShardedCells

    public init() { cells = ShardedCells(cellsPerShard: 1) }

    @inline(__always)
    public func increment(by amount: UInt64 = 1, shard: Int = ShardedCells.currentShard) {
        cells.add(amount, cell: 0, shard: shard)
    }

    public var value: UInt64 { cells.sum(0) }
}
