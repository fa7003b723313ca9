// StreamsBench: the payment-engine issue's benchmarks (b) and (c) against the real paytrackd.
//
// (b) memory: N in-flight payments (alice -> bob, --sim.latency 600000 so they stay in flight),
//     then C TLS connections x S TrackPaymentV2 streams spread over them; daemon VmRSS before and
//     after every stream has its first snapshot. Goal: <= 2 KiB of server RSS per stream.
// (c) fan-out: 10,000 TrackPaymentV2 subscribers of ONE payment; latency from the settle (the
//     HTLC's resolve_time_ns) to each client's receipt of the SUCCEEDED snapshot. Goal: p99 <= 20 ms.
//
// The load client is our own GRPCClient (nghttp2 + OpenSSL) on a few event loops: one thread per
// loop holds 100,000 streams with a few hundred bytes of client state each.
//
// (b') settle check (`finish`): the (b) streams with a short --sim.latency, so every payment settles
//     during the run: every stream must get its SUCCEEDED snapshot and end OK (latency reported).
//
// Usage: StreamsBench --paytrackd PATH [memory] [finish] [fanout] [fanout-update] [--runs 3] [--finish-latency 10000] [--payments 1000]
//        [--connections 100] [--streams-per-connection 1000] [--latency 600000]
//        [--fanout-subscribers 10000] [--fanout-connections 10] [--fanout-latency 3000]
//        [--client-loops 2] [--threads N (daemon event loops)]
//        replicas [--replicas 1,2,3] [--client swift|c] [--grpcfan PATH (the C client, for --client c)]
//                 [--holdpeer PATH --holdpeer-tls DIR (the grpc-go peer's rows, needs --client c)] --pg-host ...
import Foundation
import Glibc

var settings = Settings()
var modes: [String] = []
var args = Array(CommandLine.arguments.dropFirst())
func intArg(_ name: String, _ v: String) -> Int {
    guard let n = Int(v), n > 0 else { log("\(name) wants a positive integer"); exit(2) }
    return n
}
while !args.isEmpty {
    let a = args.removeFirst()
    if a == "memory" || a == "fanout" || a == "finish" || a == "fanout-update" || a == "replicas" { modes.append(a); continue }
    guard a.hasPrefix("--"), !args.isEmpty else { log("unknown or incomplete argument \(a)"); exit(2) }
    let v = args.removeFirst()
    switch a {
    case "--paytrackd": settings.paytrackd = v
    case "--pg-host": settings.pgHost = v
    case "--pg-port": settings.pgPort = intArg(a, v)
    case "--pg-bin": settings.pgBin = v
    case "--replicas": settings.replicaCounts = v.split(separator: ",").map { intArg(a, String($0)) }
    case "--runs": settings.runs = intArg(a, v)
    case "--payments": settings.payments = intArg(a, v)
    case "--connections": settings.connections = intArg(a, v)
    case "--streams-per-connection": settings.streamsPerConnection = intArg(a, v)
    case "--latency": settings.latencyMs = intArg(a, v)
    case "--fanout-subscribers": settings.fanoutSubscribers = intArg(a, v)
    case "--fanout-connections": settings.fanoutConnections = intArg(a, v)
    case "--fanout-latency": settings.fanoutLatencyMs = intArg(a, v)
    case "--finish-latency": settings.finishLatencyMs = intArg(a, v)
    case "--client-loops": settings.clientLoops = intArg(a, v)
    case "--send-connections": settings.sendConnections = intArg(a, v)
    case "--threads": settings.serverThreads = intArg(a, v)
    case "--client":
        guard v == "c" || v == "swift" else { log("--client wants c or swift"); exit(2) }
        settings.client = v
    case "--grpcfan": settings.grpcfan = v
    case "--holdpeer": settings.holdpeer = v
    case "--holdpeer-tls": settings.holdpeerTLS = v
    default: log("unknown flag \(a)"); exit(2)
    }
}
if modes.isEmpty { modes = ["memory", "finish", "fanout"] }
if settings.client == "c" && !FileManager.default.isExecutableFile(atPath: settings.grpcfan) {
    log("--client c needs --grpcfan PATH (Benchmarks/streams/grpcfan.c built)"); exit(2)
}
if !settings.holdpeer.isEmpty && (settings.client != "c" || settings.holdpeerTLS.isEmpty) {
    log("--holdpeer needs --client c and --holdpeer-tls DIR (tls.cert, tls.key)"); exit(2)
}
guard !settings.paytrackd.isEmpty, FileManager.default.isExecutableFile(atPath: settings.paytrackd) else {
    log("--paytrackd PATH (a release build of paytrackd) is required"); exit(2)
}
signal(SIGPIPE, SIG_IGN)
var lim = rlimit()
getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lim)
let loops = makeLoops(settings.clientLoops)
recordLoopTIDs(loops)
log("StreamsBench: paytrackd \(settings.paytrackd); \(ProcessInfo.processInfo.activeProcessorCount) cores; open-file limit \(lim.rlim_cur); load average \(loadAverage())")

var failed = false
if modes.contains("memory") {
    let s = settings
    log("(b) memory: \(s.payments) in-flight payments, \(s.connections) connections x \(s.streamsPerConnection) TrackPaymentV2 streams, --sim.latency \(s.latencyMs)")
    var runs: [MemoryRun] = []
    for i in 1...s.runs {
        do {
            let r = try memoryRun(s, loops: loops)
            runs.append(r)
            log("  run \(i): \(r.streams) streams; RSS \(mib(r.rssBase)) after payments, \(mib(r.rssConnected)) with connections (\(fmt(r.bytesPerConnection / 1024, 1)) KiB/connection), \(mib(r.rssStreams)) with streams, \(mib(r.rssHold)) 3 s later; \(fmt(r.bytesPerStream, 0)) B/stream (\(fmt(r.bytesPerStreamHold, 0)) after 3 s); opened in \(fmt(r.openSeconds, 2)) s; server CPU \(fmt(r.cpuSeconds, 2)) s (\(fmt(r.cpuSeconds / Double(r.streams) * 1e6, 1)) µs/stream); \(r.serverThreads) threads; load \(loadAverage())")
        } catch {
            log("  run \(i) FAILED: \(error)"); failed = true
        }
    }
    if !runs.isEmpty {
        let bps = median(runs.map(\.bytesPerStream))
        log("(b) median over \(runs.count) runs: \(fmt(bps, 0)) B of server RSS per stream (goal <= 2048: \(bps <= 2048 ? "met" : "NOT met")); \(fmt(median(runs.map(\.bytesPerConnection)) / 1024, 1)) KiB per connection; open \(fmt(median(runs.map(\.openSeconds)), 2)) s for \(runs[0].streams) streams; server CPU \(fmt(median(runs.map(\.cpuSeconds)), 2)) s (\(fmt(median(runs.map { $0.cpuSeconds / Double($0.streams) * 1e6 }), 1)) µs/stream)")
    }
}
if modes.contains("finish") {
    let s = settings
    log("(b) settle check: the same \(s.connections) x \(s.streamsPerConnection) streams over \(s.payments) payments with --sim.latency \(s.finishLatencyMs), so the payments settle during the run (1 run)")
    do {
        let r = try finishRun(s, loops: loops)
        log("  \(r.delivered)/\(r.subscribers) streams got their payment's SUCCEEDED snapshot, \(r.endedOK) ended OK; settle -> receipt p50 \(fmt(percentile(r.latenciesMs, 50), 2)) ms, p99 \(fmt(percentile(r.latenciesMs, 99), 2)) ms, max \(fmt(percentile(r.latenciesMs, 100), 2)) ms; server CPU \(fmt(r.cpuSeconds, 2)) s while settling; load \(loadAverage())")
        if r.delivered != r.subscribers || r.endedOK != r.subscribers { failed = true }
    } catch {
        log("  FAILED: \(error)"); failed = true
    }
}
if modes.contains("fanout") {
    let s = settings
    log("(c) fan-out: \(s.fanoutSubscribers) subscribers of one payment over \(s.fanoutConnections) connections, --sim.latency \(s.fanoutLatencyMs)")
    var runs: [FanoutRun] = []
    for i in 1...s.runs {
        do {
            let r = try fanoutRun(s, loops: loops)
            runs.append(r)
            log("  run \(i): \(r.delivered)/\(r.subscribers) got SUCCEEDED, \(r.endedOK) ended OK; latency p50 \(fmt(percentile(r.latenciesMs, 50), 2)) ms, p99 \(fmt(percentile(r.latenciesMs, 99), 2)) ms, max \(fmt(percentile(r.latenciesMs, 100), 2)) ms, min \(fmt(percentile(r.latenciesMs, 0), 2)) ms; server CPU \(fmt(r.cpuSeconds, 2)) s, client CPU \(fmt(r.clientCpuSeconds, 2)) s; load \(loadAverage())")
            log("         from the tower's publish (fan-out proper; the settle's commit took \(fmt(r.commitMs, 2)) ms before it): p50 \(fmt(percentile(r.publishLatenciesMs, 50), 2)) ms, p99 \(fmt(percentile(r.publishLatenciesMs, 99), 2)) ms, max \(fmt(percentile(r.publishLatenciesMs, 100), 2)) ms (\(r.publishLatenciesMs.count) matched)")
            log("         CPU of the burst (publish -> last receipt): server \(fmt(r.burstServerCpuSeconds * 1e3, 1)) ms (\(fmt(r.burstServerCpuSeconds / Double(r.subscribers) * 1e6, 2)) µs/delivery), client loops \(fmt(r.burstClientCpuSeconds * 1e3, 1)) ms (\(fmt(r.burstClientCpuSeconds / Double(r.subscribers) * 1e6, 2)) µs/message)")
            let firsts = r.perConnection.map(\.first), spans = r.perConnection.map { $0.last - $0.first }
            log("         per connection: first delivery \(fmt(firsts.min() ?? .nan, 1))..\(fmt(firsts.max() ?? .nan, 1)) ms, first-to-last spread median \(fmt(median(spans), 1)) ms")
            if r.delivered != r.subscribers || r.endedOK != r.subscribers { failed = true }
        } catch {
            log("  run \(i) FAILED: \(error)"); failed = true
        }
    }
    if !runs.isEmpty {
        let p99 = median(runs.map { percentile($0.latenciesMs, 99) })
        log("(c) from publish, median over \(runs.count) runs: p50 \(fmt(median(runs.map { percentile($0.publishLatenciesMs, 50) }), 2)) ms, p99 \(fmt(median(runs.map { percentile($0.publishLatenciesMs, 99) }), 2)) ms; commit (settle stamp -> publish) \(fmt(median(runs.map(\.commitMs)), 2)) ms")
        log("(c) burst CPU, median over \(runs.count) runs: server \(fmt(median(runs.map(\.burstServerCpuSeconds)) * 1e3, 1)) ms, client loops \(fmt(median(runs.map(\.burstClientCpuSeconds)) * 1e3, 1)) ms")
        log("(c) median over \(runs.count) runs: p50 \(fmt(median(runs.map { percentile($0.latenciesMs, 50) }), 2)) ms, p99 \(fmt(p99, 2)) ms (goal <= 20 ms: \(p99 <= 20 ? "met" : "NOT met")), max \(fmt(median(runs.map { percentile($0.latenciesMs, 100) }), 2)) ms")
    }
}
if modes.contains("replicas") {
    failed = runReplicaFanout(settings, loops: loops) || failed
}
if modes.contains("fanout-update") {
    let s = settings
    log("(c') fan-out of a NON-terminal update: one two-part MPP payment, \(s.fanoutSubscribers) subscribers over \(s.fanoutConnections) connections, --sim.latency \(s.fanoutLatencyMs); the first settled part (IN_FLIGHT, 1 settled + 1 in flight) reaches every subscriber before the terminal update")
    var runs: [FanoutRun] = []
    for i in 1...s.runs {
        do {
            let r = try fanoutRun(s, loops: loops, shards: 2)
            runs.append(r)
            let u = r.updateLatenciesMs
            log("  run \(i): non-terminal update (\(r.updateShape)) received by \(u.count)/\(r.subscribers): publish -> receipt p50 \(fmt(percentile(u, 50), 2)) ms, p99 \(fmt(percentile(u, 99), 2)) ms, max \(fmt(percentile(u, 100), 2)) ms; terminal afterwards: \(r.delivered) got SUCCEEDED, \(r.endedOK) ended OK, publish -> receipt p99 \(fmt(percentile(r.publishLatenciesMs, 99), 2)) ms, published \(fmt(r.updateGapMs, 1)) ms after the update; load \(loadAverage())")
            log("         CPU of the non-terminal burst: server \(fmt(r.updateBurstCpuSeconds.server * 1e3, 1)) ms, client loops \(fmt(r.updateBurstCpuSeconds.client * 1e3, 1)) ms")
            if r.delivered != r.subscribers || r.endedOK != r.subscribers { failed = true }
        } catch {
            log("  run \(i) FAILED: \(error)"); failed = true
        }
    }
    if !runs.isEmpty {
        log("(c') non-terminal, median over \(runs.count) runs: publish -> receipt p50 \(fmt(median(runs.map { percentile($0.updateLatenciesMs, 50) }), 2)) ms, p99 \(fmt(median(runs.map { percentile($0.updateLatenciesMs, 99) }), 2)) ms; received by \(fmt(median(runs.map { Double($0.updateLatenciesMs.count) }), 0)) of \(runs[0].subscribers)")
    }
}
log("load average at the end: \(loadAverage())")
exit(failed ? 1 : 0)
