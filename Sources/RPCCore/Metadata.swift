import Glibc

/// Request metadata (custom headers). Keys are lowercase. Values of keys ending in "-bin" are
/// binary (sent base64, stored decoded); others are ASCII strings.
///
/// Stored packed in one byte buffer (one allocation however many headers a request carries);
/// Strings are made only for the entries a caller looks at.
public struct Metadata: Sendable, Sequence {
    public enum Value: Sendable, Equatable {
        case string(String)
        case binary([UInt8])
    }

    // Entry layout: keyLen (2 bytes LE) | key | flag (0 string, 1 binary) | valueLen (4 bytes LE) | value
    private var storage: [UInt8] = []
    public private(set) var count = 0

    public init() {}
    public init(_ pairs: [(String, String)]) { for (k, v) in pairs { add(k, v) } }

    /// Adds an ASCII value (the key is lowercased).
    public mutating func add(_ key: String, _ value: String) {
        appendEntry(Array(key.lowercased().utf8), binary: false, Array(value.utf8))
    }

    /// Adds a binary value (the key should end in "-bin").
    public mutating func add(_ key: String, binary: [UInt8]) {
        appendEntry(Array(key.lowercased().utf8), binary: true, binary)
    }

    /// Appends an entry from raw header bytes (GRPC's header parsing; no intermediate Strings).
    package mutating func appendRaw(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, binary: Bool) {
        guard key.count <= 0xFFFF else { return }
        if storage.isEmpty { storage.reserveCapacity(key.count + value.count + 64) }
        storage.append(UInt8(truncatingIfNeeded: key.count)); storage.append(UInt8(truncatingIfNeeded: key.count >> 8))
        storage.append(contentsOf: key.assumingMemoryBound(to: UInt8.self))   // memcpy, not byte by byte
        storage.append(binary ? 1 : 0)
        let n = value.count
        storage.append(UInt8(truncatingIfNeeded: n)); storage.append(UInt8(truncatingIfNeeded: n >> 8))
        storage.append(UInt8(truncatingIfNeeded: n >> 16)); storage.append(UInt8(truncatingIfNeeded: n >> 24))
        storage.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
        count += 1
    }

    /// Trims the storage to exactly its entries (a call keeps its metadata for life).
    package mutating func compact() {
        if storage.capacity > storage.count { storage = Array(unsafeUninitializedCapacity: storage.count) { buf, n in
            _ = buf.initialize(from: storage); n = storage.count
        } }
    }

    /// A copy whose storage is one allocation of exactly its entries (the server collects a
    /// request's headers in a per-connection scratch `Metadata`, then gives the call this copy).
    package func exactCopy() -> Metadata {
        var m = Metadata()
        m.count = count
        // (Array(UnsafeBufferPointer) is specialized; `Array(unsafeUninitializedCapacity:)` here
        // went through the generic runtime path: a metadata lookup per call.)
        if !storage.isEmpty { m.storage = storage.withUnsafeBufferPointer { Array($0) } }
        return m
    }

    /// Reserves room for `n` bytes of entries.
    package mutating func reserveCapacity(_ n: Int) { storage.reserveCapacity(n) }

    /// Empties the metadata; keeps the storage for reuse while it is at most `keepingAtMost` bytes.
    package mutating func removeAll(keepingAtMost limit: Int) {
        count = 0
        storage.removeAll(keepingCapacity: storage.capacity <= limit)
    }

    private mutating func appendEntry(_ key: [UInt8], binary: Bool, _ value: [UInt8]) {
        key.withUnsafeBytes { k in value.withUnsafeBytes { v in appendRaw(key: k, value: v, binary: binary) } }
    }

    /// Visits entries as raw bytes until `body` returns false.
    package func forEachRaw(_ body: (UnsafeRawBufferPointer, Bool, UnsafeRawBufferPointer) -> Bool) {
        storage.withUnsafeBytes { s in
            var i = 0
            while i < s.count {
                let kl = Int(s[i]) | Int(s[i + 1]) << 8
                let k = UnsafeRawBufferPointer(rebasing: s[(i + 2)..<(i + 2 + kl)])
                i += 2 + kl
                let bin = s[i] == 1
                let vl = Int(s[i + 1]) | Int(s[i + 2]) << 8 | Int(s[i + 3]) << 16 | Int(s[i + 4]) << 24
                let v = UnsafeRawBufferPointer(rebasing: s[(i + 5)..<(i + 5 + vl)])
                i += 5 + vl
                if !body(k, bin, v) { return }
            }
        }
    }

    private func firstValue(_ key: String, binary: Bool) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        var key = key
        key.withUTF8 { kb in
            forEachRaw { k, bin, v in
                if bin == binary && k.count == kb.count && k.elementsEqual(UnsafeRawBufferPointer(kb)) { found = v; return false }
                return true
            }
        }
        return found
    }

    /// First string value for `key`.
    public subscript(key: String) -> String? {
        // The pointer stays valid: `storage` is not mutated while self is borrowed here.
        firstValue(key, binary: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// First binary value for `key` (a "-bin" key).
    public func binary(_ key: String) -> [UInt8]? {
        firstValue(key, binary: true).map { [UInt8]($0) }
    }

    /// All values for `key`, in order.
    public func values(_ key: String) -> [Value] { entries.filter { $0.key == key }.map { $0.value } }

    /// All string values for `key`, in order, making Strings only for the matching entries
    /// (the per-call path of the macaroon check).
    public func stringValues(_ key: String) -> [String] {
        var out: [String] = []
        var key = key
        key.withUTF8 { kb in
            forEachRaw { k, bin, v in
                if !bin && k.count == kb.count && k.elementsEqual(UnsafeRawBufferPointer(kb)) {
                    out.append(String(decoding: v, as: UTF8.self))
                }
                return true
            }
        }
        return out
    }

    /// Calls `body` with the number of string values of `key` and the bytes of the first one
    /// (empty when there is none), without making a String: for per-call checks such as the
    /// macaroon interceptor's. The bytes are valid only during `body`.
    public func withStringValues<R, E: Error>(_ key: String,
                                              _ body: (_ count: Int, _ first: UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var n = 0
        var first = UnsafeRawBufferPointer(start: nil, count: 0)
        var key = key
        key.withUTF8 { kb in
            forEachRaw { k, bin, v in
                if !bin && k.count == kb.count && memcmp(k.baseAddress!, kb.baseAddress!, kb.count) == 0 {
                    if n == 0 { first = v }
                    n += 1
                }
                return true
            }
        }
        // `first` points into `storage`, which is not mutated while self is borrowed here.
        return try body(n, first)
    }

    /// Every entry, in arrival order.
    public var entries: [(key: String, value: Value)] {
        var out: [(key: String, value: Value)] = []
        out.reserveCapacity(count)
        forEachRaw { k, bin, v in
            out.append((String(decoding: k, as: UTF8.self), bin ? .binary([UInt8](v)) : .string(String(decoding: v, as: UTF8.self))))
            return true
        }
        return out
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> { entries.makeIterator() }
}
