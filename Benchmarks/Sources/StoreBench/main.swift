// StoreBench: the payment engine's durable throughput and fan-out latency.
//
//  (a) fully persisted payments/s: InitPayment + RegisterAttempt + SettleAttempt, each committed
//      (WAL, synchronous=FULL) before the next step runs; many payments pipelined so the writer
//      groups commits. Goal >= 20,000 payments/s.
//  (b) subscribe to a finished payment (TrackPaymentV2 fast path: cached snapshot) + poll: ns/op.
//  (c) one update fanned out to 10,000 subscribers of one payment: delivery latency from the
//      mutation call to each subscriber's wake-up (includes the commit), p50/p99. Goal p99 <= 20 ms.
// Each figure is the median of 5 runs. Usage: swift run -c release StoreBench [a|b|c ...]
import Locks
import Foundation
import Payments
import PaymentStore

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

let lifecycle = DispatchQueue(label: "lifecycle")

/// Runs the next lifecycle step here, or on the lifecycle thread.
func step(_ hop: Bool, _ body: @escaping @Sendable () -> Void) {
    if hop { lifecycle.async(execute: body) } else { body() }
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int(Double(s.count) * p))]
}

func openStore(_ dir: String, durability: SQLitePaymentStore.Durability = .full) throws -> (SQLitePaymentStore, ControlTower, PaymentControl) {
    var o = SQLitePaymentStore.Options()
    o.durability = durability
    let store = try SQLitePaymentStore(path: dir + "/payments.sqlite", options: o)
    let tower = ControlTower(store: store)
    return (store, tower, PaymentControl(store: store, tower: tower))
}

func tempDir() -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("storebench-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

final class Counter: @unchecked Sendable {
    let c = Condition()
    var done = 0
    var errors = 0
    func finish(_ ok: Bool) {
        c.lock.lock()
        done += 1
        if !ok { errors += 1 }
        c.signal()
        c.lock.unlock()
    }
    func wait(for n: Int) {
        c.lock.lock()
        while done < n { c.wait() }
        c.lock.unlock()
    }
}

/// (a) One run: `count` payments, each driven init → register → settle by completions.
func throughputRun(count: Int, hop: Bool) throws -> (perSecond: Double, perBatch: Double) {
    let dir = tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (store, _, control) = try openStore(dir)
    let counter = Counter()
    let start = Date()
    for n in 0..<UInt64(count) {
        let h = hash(n, 0xa1)
        let info = PaymentCreationInfo(paymentIdentifier: h, valueMsat: 10_000, creationTimeNs: unixNanosNow())
        control.initPayment(info) { r in
            guard case .success = r else { return counter.finish(false) }
            // hop: the next step runs on a lifecycle thread (as in the node), not the writer's.
            step(hop) {
            let attempt = HTLCAttemptInfo(attemptID: n, route: route(10_000), attemptTimeNs: unixNanosNow())
            control.registerAttempt(h, attempt) { r in
                guard case .success = r else { return counter.finish(false) }
                step(hop) {
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
    let batches = store.committedBatches
    let stored = try store.paymentCount()
    precondition(stored == UInt64(count))
    store.close()
    return (Double(count) / elapsed, Double(count * 3) / Double(max(batches, 1)))
}

/// (b) Subscribe to a finished payment and poll its single snapshot.
func terminalSubscribeRun(iterations: Int) throws -> Double {
    let dir = tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (store, tower, control) = try openStore(dir, durability: .normal)
    let h = hash(1, 0xb1)
    try control.initPayment(PaymentCreationInfo(paymentIdentifier: h, valueMsat: 10_000, creationTimeNs: unixNanosNow()))
    try control.registerAttempt(h, HTLCAttemptInfo(attemptID: 1, route: route(10_000), attemptTimeNs: unixNanosNow()))
    try control.settleAttempt(h, attemptID: 1, HTLCSettle(preimage: h, settleTimeNs: unixNanosNow()))
    var polled = 0
    let start = unixNanosNow()
    for _ in 0..<iterations {
        let m = try tower.subscribePayment(h)
        if m.poll() != nil { polled += 1 }
        precondition(m.isFinished)
    }
    let ns = Double(unixNanosNow() - start) / Double(iterations)
    precondition(polled == iterations)
    store.close()
    return ns
}

/// (c) 10,000 subscribers of one payment; one RegisterAttempt; latency to each wake-up.
func fanOutRun(subscribers: Int) throws -> (p50: Double, p99: Double, max: Double, spread99: Double) {
    let dir = tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (store, tower, control) = try openStore(dir)
    let h = hash(1, 0xc1)
    try control.initPayment(PaymentCreationInfo(paymentIdentifier: h, valueMsat: 10_000, creationTimeNs: unixNanosNow()))
    let wakeTimes = UnsafeMutablePointer<Int64>.allocate(capacity: subscribers)
    wakeTimes.initialize(repeating: 0, count: subscribers)
    defer { wakeTimes.deallocate() }
    let slots = UnsafeSendablePointer(wakeTimes)
    var boxes: [PaymentMailbox] = []
    for i in 0..<subscribers {
        let m = try tower.subscribePayment(h)
        _ = m.poll()   // the Initiated snapshot
        m.setWakeup { slots.pointer[i] = unixNanosNow() }
        boxes.append(m)
    }
    let t0 = unixNanosNow()
    let s = try control.registerAttempt(h, HTLCAttemptInfo(attemptID: 1, route: route(10_000), attemptTimeNs: unixNanosNow()))
    var latencies: [Double] = []
    for (i, m) in boxes.enumerated() {
        precondition(m.poll() == s, "subscriber \(i) did not get the update")
        latencies.append(Double(wakeTimes[i] - t0) / 1e6)
    }
    let first = latencies.min()!
    store.close()
    return (percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.max()!,
            percentile(latencies.map { $0 - first }, 0.99))
}

struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int64>
    init(_ p: UnsafeMutablePointer<Int64>) { pointer = p }
}

let which = CommandLine.arguments.dropFirst().isEmpty ? ["a", "b", "c"] : Array(CommandLine.arguments.dropFirst())
for w in which {
    switch w {
    case "a":
        for hop in [false, true] {
            let runs = try (0..<5).map { _ in try throughputRun(count: 50_000, hop: hop) }
            print(String(format: "(a) durable payments/s (init+attempt+settle, synchronous=FULL, next step on %@): median %.0f  [runs: %@]  changes/commit median %.0f",
                         hop ? "a lifecycle thread" : "the writer thread",
                         median(runs.map(\.perSecond)), runs.map { String(format: "%.0f", $0.perSecond) }.joined(separator: " "),
                         median(runs.map(\.perBatch))))
        }
    case "b":
        let runs = try (0..<5).map { _ in try terminalSubscribeRun(iterations: 200_000) }
        print(String(format: "(b) subscribe to finished payment + poll: median %.0f ns/op  [runs: %@]",
                     median(runs), runs.map { String(format: "%.0f", $0) }.joined(separator: " ")))
    case "c":
        let runs = try (0..<5).map { _ in try fanOutRun(subscribers: 10_000) }
        print(String(format: "(c) 1 update -> 10,000 subscribers, call-to-wakeup latency incl. durable commit: median p50 %.2f ms, median p99 %.2f ms, median max %.2f ms; fan-out only (first to p99 wake-up) %.2f ms",
                     median(runs.map(\.p50)), median(runs.map(\.p99)), median(runs.map(\.max)), median(runs.map(\.spread99))))
    case "d":
        // Sequential synchronous mutations (one caller, no batching): commit latency.
        for durability in [SQLitePaymentStore.Durability.full, .normal] {
            let dir = tempDir()
            let (store, _, control) = try openStore(dir, durability: durability)
            var lat: [Double] = []
            for n in 0..<UInt64(300) {
                let h = hash(n, 0xd1)
                let t0 = unixNanosNow()
                try control.initPayment(PaymentCreationInfo(paymentIdentifier: h, valueMsat: 10_000, creationTimeNs: unixNanosNow()))
                lat.append(Double(unixNanosNow() - t0) / 1e3)
            }
            print(String(format: "(d) synchronous InitPayment latency (%@): p50 %.0f us, p99 %.0f us",
                         durability == .full ? "FULL" : "NORMAL", percentile(lat, 0.5), percentile(lat, 0.99)))
            store.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
    default:
        print("unknown benchmark \(w) (a, b, c)")
    }
}
