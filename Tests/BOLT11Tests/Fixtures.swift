import Foundation

/// The BOLT 11 vectors (Fixtures/bolt11-vectors.tsv: id, valid|invalid, invoice, expectation).
struct Vector {
    let id: String
    let valid: Bool
    let invoice: String
    let expectation: String
}

enum Fixtures {
    static func vectors() throws -> [Vector] {
        guard let url = Bundle.module.url(forResource: "bolt11-vectors", withExtension: "tsv", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile)
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            if line.hasPrefix("#") { return nil }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cols.count >= 4 else { return nil }
            return Vector(id: cols[0], valid: cols[1] == "valid", invoice: cols[2], expectation: cols[3])
        }
    }

    static func hex(_ s: String) -> [UInt8] {
        var out = [UInt8]()
        var it = s.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }
}
