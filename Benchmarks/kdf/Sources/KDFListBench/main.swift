import Foundation
import KomodoRPC

/// list_payments_by_filter over 1,000,000 stored KDF records (Benchmarks/kdf, goal (a)):
/// p50/p99 of one page (limit 10, PageNumber 1, with total and total_pages) for a description
/// substring filter, alone and combined with a status filter, and the same with KDF's own
/// strategy (LIKE over every row, unindexed) on a sample for comparison.
///
/// Records: descriptions are three pseudo-words (6–9 random letters) from a 20,000-word
/// vocabulary, so a word matches about 150 records; amounts, statuses, directions and timestamps
/// vary. Timed with the monotonic clock
/// around `KDFPaymentStore.page` (the SQL the method runs, without JSON).
let count = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1_000_000
let queries = 2000
// KDF_BENCH_DB keeps the database between runs (filled once); otherwise a temporary file.
let keep = ProcessInfo.processInfo.environment["KDF_BENCH_DB"]
let path = keep ?? NSTemporaryDirectory() + "kdf-list-bench-\(getpid()).sqlite"
defer { if keep == nil { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } } }
let store = try KDFPaymentStore(path: path)
let reuse = store.count >= count

var rng = SystemRandomNumberGenerator()
// The vocabulary is drawn from a fixed seed so a kept database and a new run agree.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
var seeded = SplitMix(state: 42)
let letters = Array("abcdefghijklmnopqrstuvwxyz")
let vocabulary = (0..<20_000).map { _ in String((0..<Int.random(in: 6...9, using: &seeded)).map { _ in letters.randomElement(using: &seeded)! }) }
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

let t0 = now()
var batch: [KDFPaymentRecord] = []
batch.reserveCapacity(10_000)
let statuses: [KDFPaymentRecord.Status] = [.pending, .claimable, .succeeded, .failed]
for i in 0..<(reuse ? 0 : count) {
    let words = (0..<3).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &rng)] }
    let created = Int64(1_680_000_000 + i * 3)
    batch.append(KDFPaymentRecord(
        paymentHash: String(format: "%064llx", UInt64(i) &* 0x9E3779B97F4A7C15),
        direction: i % 2 == 0 ? .inbound : .outbound(destination: "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"),
        description: words.joined(separator: " "), amountMsat: i % 7 == 0 ? nil : UInt64.random(in: 1_000...100_000_000, using: &rng),
        feePaidMsat: i % 2 == 0 ? nil : UInt64.random(in: 0...5_000, using: &rng), status: statuses[i % 4],
        createdAt: created, lastUpdated: created + Int64.random(in: 0...600, using: &rng)))
    if batch.count == 10_000 { try store.insertBatch(batch); batch.removeAll(keepingCapacity: true) }
}
if !batch.isEmpty { try store.insertBatch(batch) }
print(String(format: "inserted %d records in %.1f s", store.count, Double(now() - t0) / 1e9))

func measure(_ name: String, _ n: Int, _ filter: () -> KDFPaymentFilter) throws {
    var times: [Double] = []
    var totals = 0
    for _ in 0..<n {
        let f = filter()
        let s = now()
        let page = try store.page(filter: f, paging: .pageNumber(1), limit: 10)
        times.append(Double(now() - s) / 1e6)
        totals += page.total
    }
    times.sort()
    print(String(format: "%@: %d pages, p50 %.3f ms, p99 %.3f ms, max %.3f ms, mean matching rows %.0f", name, n,
                 times[n / 2], times[min(n - 1, n * 99 / 100)], times[n - 1], Double(totals) / Double(n)))
}

try measure("description (one word, ~150 matches)", queries) {
    var f = KDFPaymentFilter(); f.description = vocabulary.randomElement(using: &rng)!; return f
}
try measure("description + status", queries) {
    var f = KDFPaymentFilter(); f.description = vocabulary.randomElement(using: &rng)!; f.status = .succeeded; return f
}
try measure("description (4-letter substring)", queries) {
    var f = KDFPaymentFilter(); f.description = String(vocabulary.randomElement(using: &rng)!.prefix(4)); return f
}
try measure("description (3-letter substring, thousands of matches)", 200) {
    var f = KDFPaymentFilter(); f.description = String(vocabulary.randomElement(using: &rng)!.prefix(3)); return f
}
try measure("no filter", queries) { KDFPaymentFilter() }
