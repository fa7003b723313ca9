/// A bounded map of recent snapshots with first-in-first-out eviction.
///
/// Not thread-safe: the owner guards it with its own lock. Capacity bounds memory; re-putting a
/// key keeps its place in the eviction order.
struct SnapshotCache {
    private(set) var capacity: Int
    private var map: [PaymentHash: PaymentSnapshot] = [:]
    private var ring: [PaymentHash] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        map.reserveCapacity(min(self.capacity, 1 << 16))
    }

    subscript(hash: PaymentHash) -> PaymentSnapshot? { map[hash] }
    var count: Int { map.count }

    /// Stores `s` unless a newer version of the same payment is already cached.
    mutating func put(_ s: PaymentSnapshot) {
        let h = s.paymentHash
        if let cur = map[h] {
            if cur.version <= s.version { map[h] = s }
            return
        }
        map[h] = s
        ring.append(h)
        while map.count > capacity && head < ring.count {
            let old = ring[head]
            head += 1
            map[old] = nil
        }
        if head > 4096 && head * 2 > ring.count {
            ring.removeFirst(head)
            head = 0
        }
    }

    mutating func remove(_ h: PaymentHash) {
        map[h] = nil
        // The stale ring slot is skipped when reached (its key is absent or was re-added later,
        // in which case it is evicted a little early: harmless for a cache).
    }

    mutating func removeAll() {
        map.removeAll()
        ring.removeAll()
        head = 0
    }
}
