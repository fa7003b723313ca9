import Locks

/// The hop counts of one graph snapshot from one source node, computed once and shared by the
/// snapshot's copies (pathfinding's A* bound; see `ChannelGraph.hopCounts(from:)`). One entry:
/// a node's searches start from the node itself, so the last source is the one asked again.
/// A topology change gives the changed graph a new, empty memo; policy changes keep it (the
/// counts cover every channel, usable or not).
final class HopCountMemo: Sendable {
    private let entry = LockedValue<(source: Int32, hops: [UInt8])?>(nil)

    /// The counts for `source`, from the memo or from `compute` (then kept).
    func hops(from source: Int32, compute: () -> [UInt8]) -> [UInt8] {
        if let e = entry.withLock({ $0 }), e.source == source { return e.hops }
        let hops = compute()
        entry.withLock { $0 = (source, hops) }
        return hops
    }
}
