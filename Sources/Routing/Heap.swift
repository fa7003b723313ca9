/// A binary min-heap of (key, node index) for the path search; stale entries are skipped by
/// the caller (lazy deletion), so there is no decrease-key.
struct MinHeap {
    private(set) var keys: [Double] = []
    private(set) var values: [Int32] = []

    init(capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    var isEmpty: Bool { keys.isEmpty }

    mutating func push(_ key: Double, _ value: Int32) {
        keys.append(key)
        values.append(value)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if keys[parent] <= key { break }
            keys[i] = keys[parent]
            values[i] = values[parent]
            i = parent
        }
        keys[i] = key
        values[i] = value
    }

    mutating func pop() -> (Double, Int32)? {
        guard let topKey = keys.first, let topValue = values.first else { return nil }
        let lastKey = keys.removeLast(), lastValue = values.removeLast()
        let n = keys.count
        if n > 0 {
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                let r = l + 1
                let c = (r < n && keys[r] < keys[l]) ? r : l
                if keys[c] >= lastKey { break }
                keys[i] = keys[c]
                values[i] = values[c]
                i = c
            }
            keys[i] = lastKey
            values[i] = lastValue
        }
        return (topKey, topValue)
    }
}
