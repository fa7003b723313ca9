/// The code base's one bounded cache: a map of at most `capacity` entries that forgets the
/// oldest-inserted key first (first in, first out).
///
/// Contract:
/// - Not thread-safe: the owner guards it (e.g. inside a `LockedValue`).
/// - `capacity` bounds memory: after any insertion there are at most `capacity` entries. The
///   insertion-order ring is compacted as it is consumed, so it stays O(capacity) too.
/// - Replacing the value of a present key keeps the key's place in the eviction order.
/// - A removed key's ring slot is skipped when reached; if the key was inserted again meanwhile, it
///   may be evicted a little early (harmless for a cache, never a correctness issue).
public struct FIFOCache<Key: Hashable, Value> {
    public let capacity: Int
    private var map: [Key: Value] = [:]
    private var ring: [Key] = []
    private var head = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        map.reserveCapacity(min(self.capacity, 1 << 16))
    }

    public subscript(key: Key) -> Value? { map[key] }
    public var count: Int { map.count }

    /// Inserts `value` for a new key, evicting the oldest keys beyond `capacity`; for a present
    /// key, replaces its value only when `replace(old, new)` says so (default: always).
    public mutating func insert(_ value: Value, forKey key: Key,
                                replace: (_ old: Value, _ new: Value) -> Bool = { _, _ in true }) {
        if let old = map[key] {
            if replace(old, value) { map[key] = value }
            return
        }
        map[key] = value
        ring.append(key)
        while map.count > capacity && head < ring.count {
            map[ring[head]] = nil
            head += 1
        }
        if head > 4096 && head * 2 > ring.count {
            ring.removeFirst(head)
            head = 0
        }
    }

    public mutating func removeValue(forKey key: Key) { map[key] = nil }

    public mutating func removeAll() {
        map.removeAll()
        ring.removeAll()
        head = 0
    }
}
