import Locks
import Foundation

// The per-call cost of the metrics a gRPC call would record (issue 17 point 2): one counter
// increment (RPCs by api, method, code), one latency histogram observation, the open-streams gauge
// up and down, and the monotonic clock read that times the call. Series are resolved once, as the
// instrumentation points must do. Measured on 1 thread and on 2 threads hitting the same series
// (the worst case of two event loops serving the same method). Compiled with -O from
// Sources/Metrics by ./run; figures go to Benchmarks/RELIABILITY.md.

@inline(never) func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

let registry = MetricsRegistry()
let rpcs = try registry.counterFamily("paytrack_rpcs_total", help: "RPCs", labels: ["api", "method", "code"])
let latency = try registry.histogramFamily("paytrack_rpc_duration_seconds", help: "latency", labels: ["api", "method"])
let open = try registry.gaugeFamily("paytrack_open_streams", help: "open streams", labels: ["method"])
let counter = rpcs.series("grpc", "/routerrpc.Router/TrackPaymentV2", "OK")
let histogram = latency.series("grpc", "/routerrpc.Router/TrackPaymentV2")
let gauge = open.series("/routerrpc.Router/TrackPaymentV2")

@inline(never) func call(_ started: UInt64) {
    gauge.increment()
    counter.increment()
    histogram.observe(nanoseconds: now() &- started)
    gauge.decrement()
}

/// The same with the shard given by the caller, as an event loop passes its index.
@inline(never) func call(_ started: UInt64, shard: Int) {
    gauge.increment(shard: shard)
    counter.increment(shard: shard)
    histogram.observe(nanoseconds: now() &- started, shard: shard)
    gauge.decrement(shard: shard)
}

func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// CPU time per call (thread CPU time, so other processes on the machine do not count), averaged
/// over the threads.
func run(threads: Int, callsPerThread: Int, explicitShards: Bool = false) -> Double {
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    let cpu = LockedValue<UInt64>(0)
    for index in 0..<threads {
        done.enter()
        Thread {
            start.wait()
            let c0 = threadCPUNanos()
            var t = now()
            if explicitShards {
                for _ in 0..<callsPerThread { call(t, shard: index); t &+= 1 }
            } else {
                for _ in 0..<callsPerThread { call(t); t &+= 1 }
            }
            let used = threadCPUNanos() - c0
            cpu.withLock { $0 += used }
            done.leave()
        }.start()
    }
    for _ in 0..<threads { start.signal() }
    done.wait()
    return Double(cpu.withLock { $0 }) / Double(threads * callsPerThread)
}

let calls = 20_000_000
_ = run(threads: 1, callsPerThread: 1_000_000)  // warm up
var single: [Double] = [], dual: [Double] = [], dualLoops: [Double] = []
for _ in 0..<5 {
    single.append(run(threads: 1, callsPerThread: calls))
    dual.append(run(threads: 2, callsPerThread: calls / 2))
    dualLoops.append(run(threads: 2, callsPerThread: calls / 2, explicitShards: true))
}
let clockCost: Double = {
    let c0 = threadCPUNanos(); var x: UInt64 = 0
    for _ in 0..<calls { x &+= now() }
    precondition(x != 1)
    return Double(threadCPUNanos() - c0) / Double(calls)
}()
func median(_ a: [Double]) -> Double { a.sorted()[a.count / 2] }
print(String(format: "metrics per call, 1 thread:  %.1f ns CPU (median of 5 x %d calls; of which clock_gettime %.1f ns)", median(single), calls, clockCost))
print(String(format: "metrics per call, 2 threads on the same series, shard by thread hash: %.1f ns CPU (median of 5)", median(dual)))
print(String(format: "metrics per call, 2 threads on the same series, shard = loop index: %.1f ns CPU (median of 5)", median(dualLoops)))
print(String(format: "budget: 3%% of a TrackPaymentV2 call (about 3.6 us of server CPU) = 108 ns"))
precondition(counter.value == UInt64(calls) * 15 + 1_000_000, "lost increments: \(counter.value)")
