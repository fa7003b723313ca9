import Foundation
import GRPC
import RPCCore
import LightningRPC
import ProtoWire
import Transport

/// Settings of one StreamsBench invocation (flags in main.swift).
struct Settings {
    var paytrackd = ""
    var runs = 3
    var payments = 1000
    var connections = 100
    var streamsPerConnection = 1000
    var latencyMs = 600_000
    var fanoutSubscribers = 10_000
    var fanoutConnections = 10
    var fanoutLatencyMs = 3_000
    var finishLatencyMs = 10_000
    var clientLoops = 2
    var sendConnections = 4
    var serverThreads: Int?
    /// `replicas` mode: the PostgreSQL cluster (`Benchmarks/pg/fanout` starts it) and the replica counts.
    var pgHost = ""
    var pgPort = 0
    var pgBin = ""
    var replicaCounts = [1, 2, 3]
    /// `replicas` mode: the load client, `swift` (`TrackStreams`, our GRPCClient) or `c` (`grpcfan`
    /// at `grpcfan`, see `CFanoutClient`).
    var client = "swift"
    var grpcfan = ""
    /// `replicas` mode: the peer's binary (Benchmarks/rest/holdpeer, grpc-go; `PeerFanout`) and the
    /// directory of its TLS pair; empty: no peer rows.
    var holdpeer = ""
    var holdpeerTLS = ""
}

/// Figures of one (b) run.
struct MemoryRun {
    var streams = 0
    var rssBase = 0, rssConnected = 0, rssStreams = 0, rssHold = 0
    var openSeconds = 0.0
    var cpuSeconds = 0.0
    var serverThreads = 0
    var bytesPerStream: Double { Double(rssStreams - rssConnected) / Double(streams) }
    var bytesPerStreamHold: Double { Double(rssHold - rssConnected) / Double(streams) }
    var bytesPerConnection: Double = 0
}

/// Figures of one (c) run.
struct FanoutRun {
    /// Per connection: latency (ms) of its first and last SUCCEEDED delivery.
    var perConnection: [(first: Double, last: Double)] = []
    var clientCpuSeconds = 0.0
    var subscribers = 0
    var delivered = 0
    var endedOK = 0
    var latenciesMs: [Double] = []
    /// Terminal snapshot: milliseconds from the control tower's publish (CRTR debug line) to receipt.
    var publishLatenciesMs: [Double] = []
    /// Milliseconds from the settle stamp (resolve_time_ns) to the tower's publish (the commit).
    var commitMs = Double.nan
    /// Non-terminal snapshots received while attached: milliseconds from their publish to receipt.
    var updateLatenciesMs: [Double] = []
    var updateShape = ""
    /// Milliseconds from the non-terminal update's publish to the terminal one's (fan-out-update
    /// runs): below the non-terminal burst's length, the two bursts overlap.
    var updateGapMs = Double.nan
    /// CPU seconds of the non-terminal burst (its publish to its last receipt): daemon, client loops.
    var updateBurstCpuSeconds: (server: Double, client: Double) = (.nan, .nan)
    /// CPU seconds from the publish to the last receipt (samples every 5 ms): the daemon (all
    /// threads) and the load client's loop threads (not the bench's waiting main thread).
    var burstServerCpuSeconds = Double.nan
    var burstClientCpuSeconds = Double.nan
    var cpuSeconds = 0.0
}

/// Connects `n` clients to `host:port` pinning `cert`, spread round-robin over `loops`.
func connect(_ n: Int, port: Int, cert: String, loops: [EventLoop]) throws -> [GRPCClient] {
    try (0..<n).map { i in
        try GRPCClient(host: "127.0.0.1", port: port, trustedCertificatePath: cert, loop: loops[i % loops.count])
    }
}

func makeLoops(_ n: Int) -> [EventLoop] {
    (0..<n).map { i in let l = EventLoop(index: i); l.start(); return l }
}

/// (b): N in-flight payments; C connections × S TrackPaymentV2 streams spread over them; daemon
/// RSS before and after every stream has its first snapshot.
func memoryRun(_ s: Settings, loops: [EventLoop]) throws -> MemoryRun {
    let d = try DaemonProcess(binary: s.paytrackd, latencyMs: s.latencyMs, threads: s.serverThreads)
    defer { d.stop() }
    let senders = try connect(s.sendConnections, port: d.port, cert: d.aliceCert, loops: loops)
    let bob = try connect(1, port: d.bobPort, cert: d.bobCert, loops: loops)[0]
    let payments = InFlightPayments(alice: senders, bob: bob)
    let t0 = monotonicSeconds()
    try payments.make(count: s.payments)
    log("  \(s.payments) in-flight payments made in \(fmt(monotonicSeconds() - t0, 1)) s")
    var r = MemoryRun()
    usleep(1_000_000)
    r.rssBase = d.memory().rss
    let clients = try connect(s.connections, port: d.port, cert: d.aliceCert, loops: loops)
    usleep(1_000_000)
    r.rssConnected = d.memory().rss
    r.bytesPerConnection = Double(r.rssConnected - r.rssBase) / Double(s.connections)
    let load = TrackStreams(clients: clients)
    let cpu0 = d.cpuSeconds()
    let t1 = monotonicSeconds()
    load.open(perConnection: s.streamsPerConnection, hashes: payments.hashes, record: false)
    let (waited, ok) = load.wait(for: load.total) { load.firstSnapshotCount }
    r.openSeconds = monotonicSeconds() - t1
    _ = waited
    guard ok else {
        throw BenchError("only \(load.firstSnapshotCount) of \(load.total) streams got a first snapshot; ended: \(load.endedSummary())")
    }
    r.cpuSeconds = d.cpuSeconds() - cpu0
    r.streams = load.total
    r.rssStreams = d.memory().rss
    r.serverThreads = d.threads()
    usleep(3_000_000)
    r.rssHold = d.memory().rss
    let ended = load.finishedCount
    if ended > 0 { throw BenchError("\(ended) streams ended while they should be open: \(load.endedSummary())") }
    load.close()
    for c in senders { c.close() }
    bob.close()
    return r
}

/// (c): one payment, `fanoutSubscribers` TrackPaymentV2 streams on it over `fanoutConnections`;
/// when the payment settles, latency from its HTLC's resolve_time_ns (the daemon's CLOCK_REALTIME
/// right before the settle is committed) to each client's receipt of the SUCCEEDED snapshot.
///
/// With `shards: 2` the payment is a two-part MPP payment: its first settled part is a
/// non-terminal update (IN_FLIGHT, one HTLC settled, one in flight) fanned out to every subscriber
/// before the terminal one (the parts' settles come back with independent simulated latencies).
func fanoutRun(_ s: Settings, loops: [EventLoop], shards: Int = 1) throws -> FanoutRun {
    let d = try DaemonProcess(binary: s.paytrackd, latencyMs: s.fanoutLatencyMs, threads: s.serverThreads,
                              debugLevel: "warn,CRTR=debug")
    defer { d.stop() }
    let senders = try connect(1, port: d.port, cert: d.aliceCert, loops: loops)
    let bob = try connect(1, port: d.bobPort, cert: d.bobCert, loops: loops)[0]
    let payments = InFlightPayments(alice: senders, bob: bob)
    let tPay = monotonicSeconds()
    if shards > 1 {
        try payments.make(count: 1, amountSat: 10_000 * Int64(shards), maxShardSizeMsat: 10_000_000)
    } else {
        try payments.make(count: 1)
    }
    let clients = try connect(s.fanoutConnections, port: d.port, cert: d.aliceCert, loops: loops)
    let load = TrackStreams(clients: clients)
    load.open(perConnection: s.fanoutSubscribers / s.fanoutConnections, hashes: payments.hashes, record: true)
    let (_, ok) = load.wait(for: load.total) { load.firstSnapshotCount }
    guard ok else { throw BenchError("only \(load.firstSnapshotCount) of \(load.total) subscribers got a first snapshot") }
    if load.finishedCount > 0 {
        throw BenchError("the payment finished before every subscriber was attached (\(fmt(monotonicSeconds() - tPay, 1)) s after it started): raise --fanout-latency")
    }
    log("  \(load.total) subscribers attached \(fmt(monotonicSeconds() - tPay, 1)) s after the payment started; waiting for it to settle")
    let cpu0 = d.cpuSeconds()
    let clientCpu0 = processCPUSeconds(getpid())
    // The daemon: all its threads (process CPU clock); the client: its loop threads only.
    let daemonCPU = CPUClockReader(process: d.pid)
    let clientCPU = CPUClockReader(ownThreads: clientLoopTIDs)
    // Sanity: the clocks agree with schedstat (the figures the earlier write-ups used).
    let viaClock = clientCPU.read(), viaProc = ThreadCPUReader(pid: getpid(), tids: clientLoopTIDs).read()
    if abs(viaClock - viaProc) > 50_000_000 { log("  warning: client loop CPU clock \(viaClock) ns vs schedstat \(viaProc) ns") }
    var samples: [CPUSample] = []
    samples.reserveCapacity(10_000)
    perfControl("enable")
    let (_, done) = load.wait(for: load.total, { load.finishedCount }, stallSeconds: 600, limitSeconds: 600,
                              pollMicros: 5_000) {
        samples.append(CPUSample(at: realtimeNanos(), server: daemonCPU.read(), client: clientCPU.read()))
    }
    perfControl("disable")
    samples.append(CPUSample(at: realtimeNanos(), server: daemonCPU.read(), client: clientCPU.read()))
    var r = FanoutRun()
    r.cpuSeconds = d.cpuSeconds() - cpu0
    r.subscribers = load.total
    r.endedOK = load.finishedOKCount
    guard done else { throw BenchError("only \(load.finishedCount) of \(load.total) subscribers ended") }
    r.clientCpuSeconds = processCPUSeconds(getpid()) - clientCpu0
    let subs = load.subscribers
    (r.delivered, r.latenciesMs) = settleLatencies(subscribers: subs)
    let published = readPublishLog(d.logPath)
    (r.publishLatenciesMs, r.updateLatenciesMs, r.commitMs, r.updateShape) = publishLatencies(subs, published)
    if shards > 1 {
        let succeeded = Lnrpc.Payment.PaymentStatus.succeeded.rawValue
        let terminalAt = published.filter { $0.shape.status == succeeded }.map(\.publishedAtNs).min()
        let updateAt = published.filter { $0.shape.status != succeeded && $0.shape.settled == 1 }.map(\.publishedAtNs).min()
        if let t = terminalAt, let u = updateAt { r.updateGapMs = Double(t - u) / 1e6 }
        if let u = updateAt, let last = r.updateLatenciesMs.max(),
           let w = cpuWindow(samples, from: u, to: u + Int64(last * 1e6)) {
            r.updateBurstCpuSeconds = w
        }
    }
    // CPU of the burst alone: from the terminal update's publish to the last receipt.
    if let pub = published.filter({ $0.shape.status == Lnrpc.Payment.PaymentStatus.succeeded.rawValue }).map(\.publishedAtNs).min(),
       let end = subs.compactMap(\.receivedAt.last).max(),
       let w = cpuWindow(samples, from: pub, to: end) {
        (r.burstServerCpuSeconds, r.burstClientCpuSeconds) = w
    }
    // Subscriber k was opened on connection k % C (see TrackStreams.open).
    var per = [(first: Double, last: Double)](repeating: (.infinity, -.infinity), count: s.fanoutConnections)
    for (k, sub) in subs.enumerated() {
        let (_, ms) = settleLatencies(subscribers: [sub])
        for v in ms { let c = k % s.fanoutConnections; per[c] = (min(per[c].first, v), max(per[c].last, v)) }
    }
    r.perConnection = per
    load.close()
    for c in senders { c.close() }
    bob.close()
    return r
}

/// Matches every message received after the first to the tower's publish of that update (same
/// payment, same status and HTLC counts) and returns milliseconds from publish to receipt, for
/// terminal and non-terminal snapshots apart, plus the median settle-stamp -> publish time of the
/// terminal update (the durable commit before the fan-out). Unmatched messages are not counted.
func publishLatencies(_ subscribers: [Subscriber], _ published: [PublishRecord]) -> (terminal: [Double], nonTerminal: [Double], commitMs: Double, nonTerminalShape: String) {
    var at: [String: [PublishRecord.Shape: Int64]] = [:]
    for p in published { at[p.hashHex, default: [:]][p.shape] = p.publishedAtNs }
    var terminal: [Double] = [], commit: [Double] = []
    var others: [PublishRecord.Shape: [Double]] = [:]
    for sub in subscribers {
        for (i, bytes) in sub.later.enumerated() {
            guard let p = try? Lnrpc.Payment(serializedBytes: bytes),
                  let t = at[p.paymentHash]?[PublishRecord.Shape(p)] else { continue }
            let ms = Double(sub.receivedAt[i + 1] - t) / 1e6
            if p.status == .succeeded || p.status == .failed {
                terminal.append(ms)
                if commit.isEmpty, let resolve = p.htlcs.filter({ $0.status == .succeeded }).map(\.resolveTimeNs).max(), resolve > 0 {
                    commit.append(Double(t - resolve) / 1e6)
                }
            } else {
                others[PublishRecord.Shape(p), default: []].append(ms)
            }
        }
    }
    // Non-terminal: the update most subscribers received after attaching (e.g. the first settled
    // part of an MPP payment), not stragglers such as a part registered while they attached.
    let other = others.max(by: { $0.value.count < $1.value.count })
    return (terminal, other?.value ?? [], commit.first ?? .nan,
            other.map { "status \($0.key.status), \($0.key.htlcs) HTLCs: \($0.key.settled) settled, \($0.key.inFlight) in flight, \($0.key.failed) failed" } ?? "none")
}

/// For every subscriber that received a SUCCEEDED snapshot: milliseconds from the settled HTLC's
/// resolve_time_ns to the client's receipt.
func settleLatencies(_ load: TrackStreams) -> (Int, [Double]) { settleLatencies(subscribers: load.subscribers) }

func settleLatencies(subscribers: [Subscriber]) -> (Int, [Double]) {
    var delivered = 0
    var ms: [Double] = []
    for sub in subscribers {
        for (i, bytes) in sub.later.enumerated() {
            guard let p = try? Lnrpc.Payment(serializedBytes: bytes), p.status == .succeeded else { continue }
            let resolve = p.htlcs.filter { $0.status == .succeeded }.map(\.resolveTimeNs).max() ?? 0
            guard resolve > 0 else { continue }
            delivered += 1
            ms.append(Double(sub.receivedAt[i + 1] - resolve) / 1e6)
        }
    }
    return (delivered, ms)
}

/// (b) check: the memory scenario's streams (C x S over N payments) with `--finish-latency`
/// short enough that the payments settle during the run: every stream must receive its payment's
/// SUCCEEDED snapshot and end OK; latency as in (c), under the full stream load.
func finishRun(_ s: Settings, loops: [EventLoop]) throws -> FanoutRun {
    let d = try DaemonProcess(binary: s.paytrackd, latencyMs: s.finishLatencyMs, threads: s.serverThreads)
    defer { d.stop() }
    let senders = try connect(s.sendConnections, port: d.port, cert: d.aliceCert, loops: loops)
    let bob = try connect(1, port: d.bobPort, cert: d.bobCert, loops: loops)[0]
    let payments = InFlightPayments(alice: senders, bob: bob)
    let tPay = monotonicSeconds()
    try payments.make(count: s.payments)
    let clients = try connect(s.connections, port: d.port, cert: d.aliceCert, loops: loops)
    let load = TrackStreams(clients: clients)
    load.open(perConnection: s.streamsPerConnection, hashes: payments.hashes, record: true)
    let (_, ok) = load.wait(for: load.total) { load.firstSnapshotCount }
    guard ok else { throw BenchError("only \(load.firstSnapshotCount) of \(load.total) streams got a first snapshot") }
    let early = load.finishedCount
    if early > 0 { throw BenchError("\(early) streams ended before all were attached: raise --finish-latency") }
    log("  \(load.total) streams attached \(fmt(monotonicSeconds() - tPay, 1)) s after the first payment started; waiting for the payments to settle")
    let cpu0 = d.cpuSeconds()
    let (_, done) = load.wait(for: load.total, { load.finishedCount }, stallSeconds: 300, limitSeconds: 900)
    var r = FanoutRun()
    r.cpuSeconds = d.cpuSeconds() - cpu0
    r.subscribers = load.total
    r.endedOK = load.finishedOKCount
    guard done else { throw BenchError("only \(load.finishedCount) of \(load.total) streams ended: \(load.endedSummary())") }
    (r.delivered, r.latenciesMs) = settleLatencies(load)
    load.close()
    for c in senders { c.close() }
    bob.close()
    return r
}

/// With STREAMSBENCH_PERF_CTL=FIFO (perf record -D -1 --control fifo:FIFO), profiles only the
/// fan-out burst: "enable" once every subscriber is attached, "disable" when all have ended.
func perfControl(_ command: String) {
    guard let path = ProcessInfo.processInfo.environment["STREAMSBENCH_PERF_CTL"], !path.isEmpty,
          let h = FileHandle(forWritingAtPath: path) else { return }
    h.write((command + "\n").data(using: .utf8)!)
    try? h.close()
}

// MARK: Statistics and printing

func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let v = xs.sorted()
    let idx = min(v.count - 1, max(0, Int((p / 100 * Double(v.count)).rounded(.up)) - 1))
    return v[idx]
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let v = xs.sorted()
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

func mib(_ b: Int) -> String { fmt(Double(b) / 1_048_576, 1) + " MiB" }

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

func log(_ s: String) {
    FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!)
}
