import Foundation
import Invoices
import JSON
import KomodoRPC
import PaymentLifecycle
import PaymentStore
import Payments
import Routing
import Simnet

/// list_payments_by_filter over 1,000,000 stored KDF records (Benchmarks/kdf, goal (a)):
/// p50/p99 of one page (limit 10, PageNumber 1, with total and total_pages) for a description
/// substring filter, alone and combined with a status filter, through the real path: the mmrpc
/// dispatcher (envelope, userpass, params), `KDFLightning` (a node with its engine, invoice
/// registry and the SQLite KDF record store, built as the daemon builds it) and the JSON reply,
/// timed around `MMRPCDispatcher.handle` on the request bytes (no HTTP: `run details` measures
/// the listener). `KDFPaymentStore.page` alone is timed too, to show what the SQL costs.
///
/// Records: descriptions are three pseudo-words (6–9 random letters) from a 20,000-word
/// vocabulary, so a word matches about 150 records; amounts, statuses, directions and timestamps
/// vary. Timed with the monotonic clock (wall) and the thread's CPU clock (what the query itself
/// costs, without the waits for a core that dominate the tail on a shared machine).
let count = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1_000_000
let queries = 2000
/// KDF_BENCH_PAGES=N times N pages per filter class instead of the defaults (for callgrind).
let pagesOverride = ProcessInfo.processInfo.environment["KDF_BENCH_PAGES"].flatMap { Int($0) }
/// KDF_BENCH_ONLY=TEXT runs only the filter classes whose name contains TEXT (e.g. `3-letter`).
let only = ProcessInfo.processInfo.environment["KDF_BENCH_ONLY"]
// KDF_BENCH_DATADIR keeps the data directory between runs (records loaded once); otherwise a
// temporary one.
let keep = ProcessInfo.processInfo.environment["KDF_BENCH_DATADIR"]
let datadir = keep ?? NSTemporaryDirectory() + "kdf-list-bench-\(getpid())"
defer { if keep == nil { try? FileManager.default.removeItem(atPath: datadir) } }
try FileManager.default.createDirectory(atPath: datadir, withIntermediateDirectories: true)
let password = "Bench_P@ssw0rd!"
let store = try KDFPaymentStore(path: datadir + "/kdf.sqlite")
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
// 200 records more whose descriptions end with `#` and a digit: one- and two-character filters
// that few rows match ("#": 200, "#0"…"#9": ~20 each), added once to a kept database.
let rareHash = { (i: Int) in String(format: "%064llx", UInt64(1_000_000_000 + i)) }
if try store.record(hash: rareHash(0)) == nil {
    try store.insertBatch((0..<200).map { i in
        let created = Int64(1_680_000_000 + Int.random(in: 0..<count, using: &rng) * 3)
        return KDFPaymentRecord(paymentHash: rareHash(i), direction: .inbound,
                                description: vocabulary[Int.random(in: 0..<vocabulary.count, using: &rng)] + " #\(i % 10)",
                                amountMsat: 1000, feePaidMsat: nil, status: .succeeded, createdAt: created, lastUpdated: created)
    })
}
print(String(format: "inserted %d records in %.1f s", store.count, Double(now() - t0) / 1e9))

// The node behind the methods, as `KDFService` builds it for a served node.
let network = SimulatedNetwork.makeDefault()
let id = network.nodeID(alias: "alice")!
let payments = try SQLitePaymentStore(path: datadir + "/payments.sqlite")
let tower = ControlTower(store: payments)
let control = PaymentControl(store: payments, tower: tower)
let registry = try InvoiceRegistry(path: datadir + "/invoices.sqlite",
                                   configuration: InvoiceRegistry.Configuration(currency: .bitcoinTestnet, nodeKey: network.privateKey(of: id)!))
let router = ChannelRouter(source: id, network: network, control: control, intents: try SQLiteIntentStore(path: datadir + "/intents.sqlite"))
let lightning = KDFLightning(node: KDFLightning.Node(coin: "tBTC-lightning", nodeID: id, invoices: registry, router: router,
                                                     control: control, routeHints: { [] }), store: store)
let dispatcher = MMRPCDispatcher(configuration: MMRPCDispatcher.Configuration(), guardian: UserpassGuard(password: password),
                                 methods: lightning)

/// This thread's CPU time: unlike the wall clock, it does not count the time the thread waited
/// for a core on a loaded machine.
func cpuNow() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

func report(_ name: String, _ times: [Double], _ cpu: [Double], _ totals: Int) {
    let times = times.sorted(), cpu = cpu.sorted(), n = times.count
    print(String(format: "%@: %d pages, wall p50 %.3f ms, p99 %.3f ms, max %.3f ms; CPU p50 %.3f ms, p99 %.3f ms; mean matching rows %.0f",
                 name, n, times[n / 2], times[min(n - 1, n * 99 / 100)], times[n - 1], cpu[n / 2], cpu[min(n - 1, n * 99 / 100)],
                 Double(totals) / Double(n)))
}

/// One page through the dispatcher (request bytes in, reply bytes out) and, for another filter
/// of the same class, through the store alone. Each timed page is the first run of its filter:
/// a second run of the same filter finds its rows' pages mapped and in the CPU's caches and costs
/// about half as much for a 3-letter filter (which is what the store-alone figures showed when
/// they re-ran the dispatcher's filter); the totals are compared untimed afterwards.
func measure(_ name: String, _ n: Int, _ filter: () -> (json: String, filter: KDFPaymentFilter)) throws {
    if let only, !name.contains(only) { return }
    let n = pagesOverride ?? n
    var viaAPI: [Double] = [], viaStore: [Double] = [], cpuAPI: [Double] = [], cpuStore: [Double] = []
    var totals = 0
    for i in 0..<n {
        let (json, f) = filter()
        let body = Array(("{\"userpass\":\"\(password)\",\"mmrpc\":\"2.0\",\"method\":\"lightning::payments::list_payments_by_filter\","
                          + "\"params\":{\"coin\":\"tBTC-lightning\",\"filter\":\(json),\"limit\":10,\"paging_options\":{\"PageNumber\":1}},\"id\":\(i)}").utf8)
        let s = now(), c = cpuNow()
        let response = dispatcher.handle(MMRPCHTTPRequest(method: "POST", body: body, peerIP: "127.0.0.1"))
        viaAPI.append(Double(now() - s) / 1e6)
        cpuAPI.append(Double(cpuNow() - c) / 1e6)
        guard response.status == 200, case .number(let text)? = (try JSONParser().parse(response.body))["result"]?["total"],
              let total = Int(text) else {
            fatalError("unexpected reply: \(response.bodyText)")
        }
        totals += Int(total)
        let other = filter().filter
        let s2 = now(), c2 = cpuNow()
        _ = try store.page(filter: other, paging: .pageNumber(1), limit: 10)
        viaStore.append(Double(now() - s2) / 1e6)
        cpuStore.append(Double(cpuNow() - c2) / 1e6)
        let check = try store.page(filter: f, paging: .pageNumber(1), limit: 10)
        precondition(check.total == Int(total), "the API and the store disagree")
    }
    report(name + " [mmrpc dispatcher]", viaAPI, cpuAPI, totals)
    report(name + " [store.page alone, other filters]", viaStore, cpuStore, totals)
}

func description(_ d: String, status: KDFPaymentRecord.Status? = nil) -> (json: String, filter: KDFPaymentFilter) {
    var f = KDFPaymentFilter()
    f.description = d
    f.status = status
    return (status.map { "{\"description\":\"\(d)\",\"status\":\"\($0.jsonName)\"}" } ?? "{\"description\":\"\(d)\"}", f)
}

try measure("description (one word, ~150 matches)", queries) { description(vocabulary.randomElement(using: &rng)!) }
try measure("description + status", queries) { description(vocabulary.randomElement(using: &rng)!, status: .succeeded) }
try measure("description (4-letter substring)", queries) { description(String(vocabulary.randomElement(using: &rng)!.prefix(4))) }
try measure("description (3-letter substring, ~1,100 matches)", 1000) {
    description(String(vocabulary.randomElement(using: &rng)!.prefix(3)))
}
// Below three characters the trigram index cannot look the filter up: a description-only filter
// of one or two ASCII characters is counted from its gram and paged by walking the rows newest
// first (common grams) or through the trigrams that contain it (rare ones); random bigrams and
// letters drawn like the other rows.
try measure("description (2-letter substring, ~28,700 matches)", 500) {
    description(String(vocabulary.randomElement(using: &rng)!.prefix(2)))
}
try measure("description (1 letter, ~585,000 matches)", 500) { description(String(letters.randomElement(using: &rng)!)) }
try measure("description (rare 2 characters, #0-#9, ~20 matches)", 500) { description("#\(Int.random(in: 0...9, using: &rng))") }
try measure("description (rare 1 character, #, 200 matches)", 200) { description("#") }
// With another filter key beside it a short filter takes the general path (every description read).
try measure("description (2-letter) + status", 20) {
    description(String(vocabulary.randomElement(using: &rng)!.prefix(2)), status: .succeeded)
}
try measure("no filter", queries) { ("null", KDFPaymentFilter()) }
