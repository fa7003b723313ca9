/// The one- and two-byte ASCII grams of descriptions, by which `KDFPaymentStore` counts the
/// matches of a description filter too short for the trigram index (`kdf_description_grams`).
///
/// Contract:
/// - A gram is one byte or two adjacent bytes of the ASCII-lowercased UTF-8 description, every
///   byte in 1...127 (UTF-8 multi-byte sequences never contain such bytes, so an ASCII gram found
///   in the bytes is a run of whole characters; NUL is never part of a gram).
/// - `key(ofFilter:)` is the gram of a filter of one or two such characters, else nil: exactly the
///   filters whose matches are the rows that contain their gram (the rule, a literal substring
///   with ASCII case folding, applied to bytes).
/// - `Tally` counts each distinct gram once per description: its count for a key is the number of
///   descriptions added (minus removed) that contain that gram at least once.
/// - Key 0 (`nonASCIIKey`) counts the descriptions with any byte above 127: while it is 0 every
///   description is ASCII, so the trigram index's terms are lowercase ASCII and each of a term's
///   pairs is a counted gram (`KDFShortDescriptionPlan`'s seek-free term list).
struct KDFDescriptionGrams {
    /// Keys: 1...127 for one byte, 128 + 128·a + b for the pair (a, b), 0 for "not ASCII".
    static let keyCount = 128 + 128 * 128
    static let nonASCIIKey = 0

    static func pairKey(_ a: UInt8, _ b: UInt8) -> Int { 128 + 128 * Int(a) + Int(b) }

    static func folded(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }

    static func key(ofFilter needle: String) -> Int? {
        let bytes = Array(needle.utf8)
        guard (1...2).contains(bytes.count), bytes.allSatisfy({ $0 != 0 && $0 < 0x80 }) else { return nil }
        return bytes.count == 1 ? Int(folded(bytes[0])) : pairKey(folded(bytes[0]), folded(bytes[1]))
    }

    /// The distinct gram keys of one description's bytes, ascending.
    static func keys(of description: [UInt8]) -> [Int] {
        var keys: [Int] = []
        keys.reserveCapacity(description.count * 2)
        var previous: UInt8? = nil
        for byte in description {
            guard byte != 0 && byte < 0x80 else {
                if byte >= 0x80 { keys.append(nonASCIIKey) }
                previous = nil
                continue
            }
            let b = folded(byte)
            keys.append(Int(b))
            if let a = previous { keys.append(pairKey(a, b)) }
            previous = b
        }
        keys.sort()
        var out: [Int] = []
        out.reserveCapacity(keys.count)
        for k in keys where out.last != k { out.append(k) }
        return out
    }

    /// Per-gram changes of the counts, gathered before they are written (a batch writes each
    /// changed gram once).
    struct Tally {
        private var delta: [Int: Int] = [:]

        mutating func add(_ description: [UInt8], _ sign: Int = 1) {
            for k in KDFDescriptionGrams.keys(of: description) { delta[k, default: 0] += sign }
        }

        /// The grams whose count changes, with the change.
        var changes: [(key: Int, delta: Int)] {
            delta.compactMap { $0.value == 0 ? nil : ($0.key, $0.value) }
        }
    }
}
