import Foundation
import Glibc
import GRPC
import RPCCore

/// One real `paytrackd` child process on loopback with a temporary datadir: alice (the primary
/// node) on `port`, bob (`--serve bob=...`) on `bobPort`, no macaroons. Stopped with SIGTERM
/// (SIGKILL after 5 s) and its datadir removed by `stop()`.
final class DaemonProcess {
    let binary: String
    let datadir: String
    let port: Int
    let bobPort: Int
    let process = Process()
    private var wrapped = false
    var pid: Int32 { process.processIdentifier }
    var aliceCert: String { datadir + "/tls.cert" }
    var bobCert: String { datadir + "/nodes/bob/tls.cert" }
    var logPath: String { datadir + "/paytrackd.log" }

    /// Starts the daemon with `--sim.latency latencyMs` (mean per-hop HTLC delay) and `extra` flags,
    /// and waits until both listeners accept TLS connections. With `copying`, the datadir starts as
    /// a copy of that one (a replica: the same TLS, node keys and macaroon files).
    init(binary: String, latencyMs: Int, threads: Int?, debugLevel: String = "warn", extra: [String] = [],
         copying source: String? = nil) throws {
        self.binary = binary
        datadir = FileManager.default.temporaryDirectory.appendingPathComponent("streamsbench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        if let source {
            try FileManager.default.copyItem(atPath: source, toPath: datadir)
            try? FileManager.default.removeItem(atPath: datadir + "/paytrackd.log")
        } else {
            try FileManager.default.createDirectory(atPath: datadir, withIntermediateDirectories: true)
        }
        port = try freePort()
        bobPort = try freePort()
        var args = ["--datadir", datadir, "--rpclisten", "127.0.0.1:\(port)", "--serve", "bob=127.0.0.1:\(bobPort)",
                    "--no-macaroons", "--norest", "--network", "regtest", "--debuglevel", debugLevel,
                    "--sim.latency", String(latencyMs)]
        if let t = threads { args += ["--threads", String(t)] }
        args += extra
        // STREAMSBENCH_DAEMON_ARGS="--nokdf ..." adds daemon flags (e.g. to compare with a face off).
        if let more = ProcessInfo.processInfo.environment["STREAMSBENCH_DAEMON_ARGS"], !more.isEmpty {
            args += more.split(separator: " ").map(String.init)
        }
        // STREAMSBENCH_WRAP="heaptrack -o FILE" runs the daemon under a profiler (RSS figures then
        // describe the wrapper's process, not the daemon: use only for the allocation profile).
        if let wrap = ProcessInfo.processInfo.environment["STREAMSBENCH_WRAP"], !wrap.isEmpty {
            let words = wrap.split(separator: " ").map(String.init)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = words + [binary] + args
            wrapped = true
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = args
        }
        let log = FileHandle(forWritingAtPath: datadir + "/paytrackd.log") ?? {
            _ = FileManager.default.createFile(atPath: datadir + "/paytrackd.log", contents: nil)
            return FileHandle(forWritingAtPath: datadir + "/paytrackd.log")!
        }()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitReady(host: "127.0.0.1", port: port, cert: { self.aliceCert })
        try waitReady(host: "127.0.0.1", port: bobPort, cert: { self.bobCert })
    }

    private func waitReady(host: String, port: Int, cert: () -> String) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw BenchError("paytrackd exited: see \(datadir)/paytrackd.log") }
            if FileManager.default.fileExists(atPath: cert()),
               let c = try? GRPCClient(host: host, port: port, trustedCertificatePath: cert()) {
                c.close()
                return
            }
            usleep(100_000)
        }
        throw BenchError("paytrackd did not listen on \(port) within 60 s")
    }

    /// VmRSS and VmHWM in bytes, from /proc/PID/status.
    func memory() -> (rss: Int, hwm: Int, rssAnon: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0, 0) }
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
            }
            return 0
        }
        return (field("VmRSS"), field("VmHWM"), field("RssAnon"))
    }

    /// User + system CPU time of the daemon in seconds.
    func cpuSeconds() -> Double { processCPUSeconds(pid) }

    /// Number of threads of the daemon.
    func threads() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
    }

    func stop() {
        if process.isRunning {
            if wrapped {
                // The daemon is the wrapper's child: signal it (by parent pid), not only the wrapper.
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
                p.arguments = ["-TERM", "-P", String(pid)]
                try? p.run(); p.waitUntilExit()
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning && Date() < deadline { usleep(100_000) }
            }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() }
        }
        if ProcessInfo.processInfo.environment["STREAMSBENCH_KEEP"] == nil {
            try? FileManager.default.removeItem(atPath: datadir)
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// User + system CPU time of process `pid` in seconds (/proc/PID/stat fields 14 and 15).
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let rest = text[text.index(after: close)...].split(separator: " ")
    // rest[0] is field 3 (state): utime is field 14 -> rest[11], stime field 15 -> rest[12].
    guard rest.count > 12, let u = Double(rest[11]), let s = Double(rest[12]) else { return 0 }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A TCP port free on 127.0.0.1 right now (bind to 0, read it back, close).
func freePort() throws -> Int {
    // Below Linux's ephemeral range (32768-60999 by default): a port picked there could be taken
    // by an outgoing connection (a client's, PostgreSQL's) before the daemon binds it.
    for _ in 0..<200 {
        let p = Int.random(in: 20000..<32768)
        if (try? bindable(p)) == p { return p }
    }
    return try bindable(0)
}

/// 127.0.0.1:`port` as a socket address.
private func loopbackAddress(_ port: Int) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return addr
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
func tcpAccepts(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = loopbackAddress(port)
    return withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// Binds 127.0.0.1:`port` (0: any) and returns the port bound, then closes the socket.
private func bindable(_ port: Int) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = loopbackAddress(port)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw BenchError("cannot bind a free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Wall-clock nanoseconds (CLOCK_REALTIME, the clock of the daemon's `resolve_time_ns`).
@inline(__always) func realtimeNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Monotonic seconds, for durations.
@inline(__always) func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
