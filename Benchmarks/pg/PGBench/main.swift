// PGBench: durable payments/s of the payment store on PostgreSQL beside SQLite, same run, same
// machine (issue 16, benchmark 1).
//
// One payment = InitPayment + RegisterAttempt + SettleAttempt, each committed before the next step
// runs (SQLite: WAL, synchronous=FULL; PostgreSQL: a private cluster started here with fsync on
// and synchronous_commit on, over its unix socket). `count` payments are driven at once, so the
// single writer groups their changes into transactions (group commit). Each figure is the median
// of `runs` runs. Goal on PostgreSQL: >= 10,000 payments/s.
//
// Usage: Benchmarks/pg/run [count] [runs]   (swift run -c release PGBench)
import Locks
import Foundation
import Payments
import PaymentStore
import PostgresTestSupport

func hash(_ n: UInt64, _ tag: UInt8) -> PaymentHash {
    var b = [UInt8](repeating: tag, count: 32)
    withUnsafeBytes(of: n.bigEndian) { for (i, x) in $0.enumerated() { b[24 + i] = x } }
    return PaymentHash(b)!
}

let pubA = [UInt8](repeating: 2, count: 33), pubB = [UInt8](repeating: 3, count: 33)
func route(_ amt: Int64) -> Route {
    Route(totalTimeLock: 600, totalAmtMsat: amt + 1_000, sourcePubKey: pubA, hops: [
        Hop(chanID: 1, pubKey: pubA, amtToForwardMsat: amt, feeMsat: 1_000, expiry: 560),
        Hop(chanID: 2, pubKey: pubB, amtToForwardMsat: amt, expiry: 520),
    ])
}

final class Counter: @unchecked Sendable {
    let c = Condition()
    var done = 0
    var errors = 0
    func finish(_ ok: Bool) {
        c.lock.withLock {
            done += 1
            if !ok { errors += 1 }
            c.signal()
        }
    }
    func wait(for n: Int) {
        c.lock.lock()
        while done < n { c.wait() }
        c.lock.unlock()
    }
}

/// Drives `count` payments through init → register → settle on `store`; returns payments/s.
func run(_ store: any PaymentPersistence, count: Int) throws -> Double {
    let tower = ControlTower(store: store)
    let control = PaymentControl(store: store, tower: tower)
    let counter = Counter()
    let lifecycle = DispatchQueue(label: "lifecycle")
    let start = Date()
    for n in 0..<UInt64(count) {
        let h = hash(n, 0xa1)
        control.initPayment(PaymentCreationInfo(paymentIdentifier: h, valueMsat: 10_000, creationTimeNs: unixNanosNow())) { r in
            guard case .success = r else { return counter.finish(false) }
            lifecycle.async {
                control.registerAttempt(h, HTLCAttemptInfo(attemptID: n, route: route(10_000), attemptTimeNs: unixNanosNow())) { r in
                    guard case .success = r else { return counter.finish(false) }
                    lifecycle.async {
                        control.settleAttempt(h, attemptID: n, HTLCSettle(preimage: h, settleTimeNs: unixNanosNow())) { r in
                            if case .success = r { counter.finish(true) } else { counter.finish(false) }
                        }
                    }
                }
            }
        }
    }
    counter.wait(for: count)
    let elapsed = Date().timeIntervalSince(start)
    precondition(counter.errors == 0, "\(counter.errors) payments failed")
    let stored = try store.paymentCount()
    precondition(stored == UInt64(count), "not every payment stored")
    store.close()
    return Double(count) / elapsed
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// The 1-minute load average (the machine is shared: print it beside every figure).
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").first.map(String.init) ?? "?"
}

let args = CommandLine.arguments
let count = args.count > 1 ? Int(args[1]) ?? 20_000 : 20_000
let runs = args.count > 2 ? Int(args[2]) ?? 3 : 3

print("PGBench: \(count) payments (init + attempt + settle, each durable) per run, median of \(runs) runs")
var sqlite: [Double] = []
for _ in 0..<runs {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgbench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    sqlite.append(try run(try SQLitePaymentStore(path: dir + "/payments.sqlite"), count: count))
}
print(String(format: "  SQLite (WAL, synchronous=FULL):              %8.0f payments/s  runs %@  load %@", median(sqlite),
             sqlite.map { String(format: "%.0f", $0) }.joined(separator: ","), loadAverage()))

// The tuning a production server for this load would have too (durability untouched: fsync,
// synchronous_commit and full_page_writes stay on): shared buffers that hold the hot tables and
// indexes, WAL buffers for large group commits, and checkpoints spaced by size and time rather
// than forced every 1 GB of WAL mid-run.
let tuning = ["shared_buffers = 512MB", "wal_buffers = 64MB", "max_wal_size = 8GB", "checkpoint_timeout = 15min"]
let cluster = try PostgresCluster(durable: true, settings: tuning)
var postgres: [Double] = []
for _ in 0..<runs {
    let dsn = try cluster.createDatabase()
    postgres.append(try run(try PostgresPaymentStore(options: PostgresPaymentStore.Options(dsn: dsn)), count: count))
}
print(String(format: "  PostgreSQL (fsync on, synchronous_commit on): %8.0f payments/s  runs %@  load %@  (goal >= 10,000)", median(postgres),
             postgres.map { String(format: "%.0f", $0) }.joined(separator: ","), loadAverage()))
print(String(format: "  ratio PostgreSQL / SQLite: %.2f", median(postgres) / median(sqlite)))
cluster.destroy()
