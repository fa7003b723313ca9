import Foundation
import Glibc
import Transport

/// Nanoseconds thread `tid` of process `pid` has run on a CPU: the first field of
/// /proc/PID/task/TID/schedstat (exact, unlike the 10 ms ticks of /proc/PID/stat). Plain
/// open/read into a stack buffer: sampled every few ms during a burst, so it must be cheap.
func threadCPUNanos(pid: Int32, tid: Int32) -> Int64 {
    let fd = open("/proc/\(pid)/task/\(tid)/schedstat", O_RDONLY)
    if fd < 0 { return 0 }
    defer { close(fd) }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf -> Int64 in
        let n = read(fd, buf.baseAddress!, 64)
        var v: Int64 = 0
        var i = 0
        while i < n, buf[i] >= 48, buf[i] <= 57 { v = v * 10 + Int64(buf[i] - 48); i += 1 }
        return v
    }
}

/// The thread ids of process `pid` now.
func threadIDs(_ pid: Int32) -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }
}

/// Nanoseconds all live threads of process `pid` have run on a CPU.
func processCPUNanos(_ pid: Int32, threads: [Int32]? = nil) -> Int64 {
    (threads ?? threadIDs(pid)).reduce(0) { $0 + threadCPUNanos(pid: pid, tid: $1) }
}

/// Open schedstat files of a fixed set of threads, re-read with `pread` at offset 0 (no path
/// lookup per sample: the sampler runs on the bench's main thread during the burst and must cost
/// next to nothing).
final class ThreadCPUReader {
    private var fds: [Int32]
    init(pid: Int32, tids: [Int32]) {
        fds = tids.map { open("/proc/\(pid)/task/\($0)/schedstat", O_RDONLY) }.filter { $0 >= 0 }
    }
    deinit { for fd in fds { close(fd) } }

    /// Sum of the threads' CPU time in ns.
    func read() -> Int64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf -> Int64 in
            var total: Int64 = 0
            for fd in fds {
                let n = pread(fd, buf.baseAddress!, 64, 0)
                var v: Int64 = 0
                var i = 0
                while i < n, buf[i] >= 48, buf[i] <= 57 { v = v * 10 + Int64(buf[i] - 48); i += 1 }
                total += v
            }
            return total
        }
    }
}

/// CPU time read through Linux CPU-time clocks (`clock_gettime` on the clock ids glibc's
/// `clock_getcpuclockid` / `pthread_getcpuclockid` build: `(~id << 3) | CPUCLOCK_SCHED`, plus
/// `CPUCLOCK_PERTHREAD` for a thread). The kernel answers in ns from the scheduler's runtime (the
/// same figure as schedstat's first field) with one syscall and no text formatting: sampling
/// every few ms during a burst then costs next to nothing, where reading and formatting one
/// `/proc/PID/task/TID/schedstat` per daemon thread was ~8–10% of the load client's CPU in the burst
/// (perf: proc_single_show, vsnprintf, seq_read) on the same 2 cores the burst runs on.
/// A process clock sums all its threads (exited ones included); a thread clock must name a thread
/// of this process (the kernel refuses others).
final class CPUClockReader {
    private let clocks: [clockid_t]
    /// All threads of process `pid` (any process of this user).
    init(process pid: Int32) { clocks = [clockid_t((~pid) << 3 | 2)] }
    /// The given threads of this process.
    init(ownThreads tids: [Int32]) { clocks = tids.map { clockid_t((~$0) << 3 | 6) } }

    /// Sum of the clocks in ns (a clock that fails, e.g. an exited thread, counts 0).
    func read() -> Int64 {
        var total: Int64 = 0
        var ts = timespec()
        for c in clocks where clock_gettime(c, &ts) == 0 { total += Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec) }
        return total
    }
}

/// Kernel thread ids of the load client's event loops (their CPU is the client's cost; the main
/// thread only waits).
nonisolated(unsafe) var clientLoopTIDs: [Int32] = []

func recordLoopTIDs(_ loops: [EventLoop]) {
    let sem = DispatchSemaphore(value: 0)
    let tids = Locked([Int32]())
    for l in loops {
        l.execute { tids.with { $0.append(currentTID()) }; sem.signal() }
    }
    for _ in loops { sem.wait() }
    clientLoopTIDs = tids.with { $0 }
}

/// CPU nanoseconds of the load client's loop threads.
func clientLoopCPUNanos() -> Int64 {
    let me = getpid()
    return clientLoopTIDs.reduce(0) { $0 + threadCPUNanos(pid: me, tid: $1) }
}

/// A CPU reading taken while waiting for a burst: wall clock (CLOCK_REALTIME), daemon CPU (all
/// threads) and load-client loop CPU, all in ns.
struct CPUSample { var at: Int64; var server: Int64; var client: Int64 }

/// Server and client CPU (seconds) between the last sample at or before `from` and the first at or
/// after `to` (the samples are taken every few ms, so the window is at most that much wider).
func cpuWindow(_ samples: [CPUSample], from: Int64, to: Int64) -> (server: Double, client: Double)? {
    guard let a = samples.last(where: { $0.at <= from }) ?? samples.first,
          let b = samples.first(where: { $0.at >= to }) ?? samples.last else { return nil }
    return (Double(b.server - a.server) / 1e9, Double(b.client - a.client) / 1e9)
}

/// The calling thread's kernel id, from /proc/thread-self (-> "PID/task/TID").
func currentTID() -> Int32 {
    let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
    return Int32(link.split(separator: "/").last ?? "") ?? 0
}
