import Foundation
import Glibc

/// The peer of issue 16's fan-out benchmark: R processes of `holdpeer` (Benchmarks/rest/holdpeer,
/// grpc-go: lnd's gRPC stack, each stream marshalling its own copy of each update as lnd does per
/// subscriber), each holding `--fanout-subscribers` TrackPaymentV2 streams of one in-flight payment
/// that every process settles at the same instant (`-settle-at`). Measured with the same C client
/// (`grpcfan`), the same latency (receipt − the SUCCEEDED HTLC's resolve_time_ns) and the same CPU
/// window as `replicaFanoutRun`. There is no database: lnd has no replicas, so this row is what its
/// stack costs for the same deliveries from R processes on these cores, not a replica design.
final class HoldPeerProcess {
    let process = Process()
    let port: Int
    let logPath: String
    var pid: Int32 { process.processIdentifier }

    /// Starts `binary` on a free port with the TLS pair in `tlsDir` (tls.cert, tls.key), settling
    /// at `settleAtNs` (CLOCK_REALTIME), and waits until it accepts connections.
    init(binary: String, tlsDir: String, settleAtNs: Int64) throws {
        port = try freePort()
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("holdpeer-\(getpid())-\(port).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-port", String(port), "-cert", tlsDir + "/tls.cert", "-key", tlsDir + "/tls.key",
                             "-settle-at", String(settleAtNs), "-nomacaroons"]
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !tcpAccepts(port) {
            guard process.isRunning, Date() < deadline else { throw BenchError("holdpeer did not listen on \(port): see \(logPath)") }
            usleep(50_000)
        }
    }

    /// The payment hash the peer logs at start (`hash=<hex>`).
    func paymentHash() throws -> [UInt8] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        guard let r = text.range(of: "hash=") else { throw BenchError("holdpeer logged no hash: see \(logPath)") }
        let hex = text[r.upperBound...].prefix(64)
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex), let b = UInt8(hex[i..<j], radix: 16) {
            bytes.append(b); i = j
        }
        guard bytes.count == 32 else { throw BenchError("holdpeer's hash is not 32 bytes: see \(logPath)") }
        return bytes
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// One peer run: R holdpeer processes × `s.fanoutSubscribers` subscribers, one settle for all.
func peerFanoutRun(_ s: Settings, replicas: Int) throws -> ReplicaFanoutRun {
    // Long enough for grpcfan to open every stream before the settle (the peer has no catch-up:
    // a stream opened after it gets SUCCEEDED at once and counts as "early").
    let settleAt = realtimeNanos() + Int64(2_000 + 1_500 * replicas) * 1_000_000
    var peers: [HoldPeerProcess] = []
    defer { for p in peers { p.stop() } }
    for _ in 0..<replicas { peers.append(try HoldPeerProcess(binary: s.holdpeer, tlsDir: s.holdpeerTLS, settleAtNs: settleAt)) }
    let perReplica = s.fanoutSubscribers / s.fanoutConnections * s.fanoutConnections
    let c = try CFanoutClient(binary: s.grpcfan, ports: peers.map(\.port), hash: try peers[0].paymentHash(),
                              perPort: perReplica, connections: s.fanoutConnections, threads: s.clientLoops)
    if try c.waitAttached() > 0 { throw BenchError("the peer settled before every subscriber was attached") }
    let cpu0 = peers.map { processCPUSeconds($0.pid) }
    let outcomes = try c.waitEnded()
    var r = ReplicaFanoutRun()
    r.replicas = replicas
    r.replicaCPU = zip(peers, cpu0).map { processCPUSeconds($0.pid) - $1 }
    try r.add(outcomes, replicas: replicas)
    return r
}
