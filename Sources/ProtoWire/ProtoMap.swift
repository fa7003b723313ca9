/// Map fields (`map<K, V>`): on the wire each entry is a nested message with the key as field 1
/// and the value as field 2 (protobuf encoding spec, "Maps").
///
/// Contract:
/// - Decoding accepts entries with a missing key or value (they take their defaults), entries in
///   any order, and unknown fields inside an entry (skipped). A later entry with the same key wins.
/// - Encoding writes entries in ascending key order (as `protoc --deterministic_output` and Go's
///   deterministic marshalling do), each with both key and value written even when they are
///   defaults, matching the reference runtimes byte for byte. Sorting maps of up to
///   ``ProtoWriter/stackSortLimit`` entries uses stack memory only.
extension ProtoReader {
    /// Reads one map entry of the field whose tag was just read.
    @inlinable
    public mutating func readMapEntry<K, V>(
        _ tag: FieldTag, key defaultKey: K, value defaultValue: V,
        readKey: (inout ProtoReader, FieldTag) throws -> K,
        readValue: (inout ProtoReader, FieldTag) throws -> V
    ) throws -> (key: K, value: V) {
        var entry = try nestedReader(tag)
        var key = defaultKey
        var value = defaultValue
        while let t = try entry.nextTag() {
            switch t.number {
            case 1: key = try readKey(&entry, t)
            case 2: value = try readValue(&entry, t)
            default: try entry.skip(t)
            }
        }
        return (key, value)
    }
}

extension ProtoWriter {
    /// Maps larger than this are sorted with a heap-allocated key array.
    public static let stackSortLimit = 64

    /// Writes every entry of `map` as field `field`, in ascending key order. `entry` writes the
    /// key (field 1) and value (field 2) of one entry into the entry's body.
    @inlinable
    public mutating func writeMap<K: Comparable, V>(
        _ map: [K: V], field: Int, _ entry: (inout ProtoWriter, K, V) -> Void
    ) {
        if map.isEmpty { return }
        if map.count == 1 {
            for (k, v) in map { writeNested(field: field) { entry(&$0, k, v) } }
            return
        }
        if map.count > Self.stackSortLimit {
            for k in map.keys.sorted() { writeNested(field: field) { entry(&$0, k, map[k]!) } }
            return
        }
        withUnsafeTemporaryAllocation(of: K.self, capacity: map.count) { keys in
            var n = 0
            for k in map.keys {
                // Insertion sort while copying in: small maps, no heap.
                var i = n
                (keys.baseAddress! + n).initialize(to: k)
                while i > 0 && keys[i - 1] > k {
                    keys.swapAt(i, i - 1)
                    i -= 1
                }
                n += 1
            }
            for i in 0..<n {
                let k = keys[i]
                writeNested(field: field) { entry(&$0, k, map[k]!) }
            }
            keys.baseAddress!.deinitialize(count: n)
        }
    }
}
