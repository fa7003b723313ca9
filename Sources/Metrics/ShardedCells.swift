import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-shard atomic cells: each shard owns `cellsPerShard` UInt64 atomics on cache lines of its
/// own, so threads on different shards never write the same line (a counter shared by two event
/// loops costs ~100 ns per update when its line bounces between cores; measured by
/// Benchmarks/metrics). A value is the sum of its cell over the shards, read at scrape time.
///
/// Contract: `shardCount` is a power of two; any shard index is accepted (masked). Threads pick a
/// shard with ``ShardedCells/currentShard`` (a hash of the thread's identity: stable for a thread,
/// spread across threads) unless the caller passes its own (an event loop's index).
@usableFromInline
final class ShardedCells: @unchecked Sendable {
    let shardCount: Int
    let cellsPerShard: Int
    private let stride: Int
    private let base: UnsafeMutablePointer<Atomic<UInt64>>
    private static let lineCells = 16  // 128 bytes: a cache line and its adjacent-line prefetch pair

    static let defaultShardCount: Int = {
        let cpus = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        var n = 1
        while n < cpus * 2 && n < 64 { n <<= 1 }
        return n
    }()

    init(cellsPerShard: Int, shardCount: Int = ShardedCells.defaultShardCount) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shard count must be a power of two")
        self.shardCount = shardCount
        self.cellsPerShard = cellsPerShard
        stride = (cellsPerShard + Self.lineCells - 1) / Self.lineCells * Self.lineCells
        let raw = UnsafeMutableRawPointer.allocate(byteCount: stride * shardCount * 8, alignment: 128)
        base = raw.bindMemory(to: Atomic<UInt64>.self, capacity: stride * shardCount)
        for i in 0..<(stride * shardCount) { (base + i).initialize(to: Atomic(0)) }
    }

    deinit {
        base.deinitialize(count: stride * shardCount)
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// The shard of the calling thread.
    @usableFromInline @inline(__always)
    static var currentShard: Int { Int(truncatingIfNeeded: (UInt(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 40) }

    /// The cell `cell` of shard `shard` (masked to the shard count).
    @inline(__always)
    func cell(_ cell: Int, shard: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        base + (shard & (shardCount - 1)) * stride + cell
    }

    @inline(__always)
    func add(_ amount: UInt64, cell: Int, shard: Int) {
        self.cell(cell, shard: shard).pointee.wrappingAdd(amount, ordering: .relaxed)
    }

    /// The sum of `cell` over every shard (wrapping).
    func sum(_ cell: Int) -> UInt64 {
        var total: UInt64 = 0
        for s in 0..<shardCount { total &+= self.cell(cell, shard: s).pointee.load(ordering: .relaxed) }
        return total
    }
}
