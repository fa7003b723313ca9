import Foundation
import Glibc

/// The C load client `grpcfan` (Benchmarks/streams/grpcfan.c) as a child process: TrackPaymentV2
/// subscribers of one payment on several replicas, with a few bytes of state per stream and no
/// object per message. `replicas --client c` measures with it instead of `TrackStreams` (our Swift
/// `GRPCClient`), so that the client, which shares the cores with the replicas it measures, costs
/// them less of the window (see Benchmarks/pg/RESULTS.md).
///
/// Protocol (grpcfan.c's header): a line `attached N early E` once every subscriber has its first
/// snapshot, then `ended ...` once every call has ended, and one TSV line per subscriber in `tsv`.
final class CFanoutClient {
    /// One subscriber's outcome: its replica (index into the ports), the gRPC status of the call
    /// (-1: none) and the settle → receipt latency of its SUCCEEDED snapshot (nil: none came).
    struct Outcome {
        var replica: Int
        var grpcStatus: Int
        var latencyNs: Int64?
    }

    let process = Process()
    private let stdout = Pipe()
    let tsv: String
    let total: Int

    /// Starts `binary` against `ports` (one per replica), `perPort` subscribers over `connections`
    /// connections per port, on `threads` client threads.
    init(binary: String, ports: [Int], hash: [UInt8], perPort: Int, connections: Int, threads: Int) throws {
        tsv = FileManager.default.temporaryDirectory.appendingPathComponent("grpcfan-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tsv").path
        total = perPort * ports.count
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["127.0.0.1", ports.map(String.init).joined(separator: ","),
                             hash.map { String(format: "%02x", $0) }.joined(), String(perPort), String(connections), tsv, String(threads)]
        process.standardOutput = stdout
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: tsv)
    }

    /// The next line the client prints (blocking); nil at end of output.
    private func line() -> String? {
        var bytes: [UInt8] = []
        var b: UInt8 = 0
        let fd = stdout.fileHandleForReading.fileDescriptor
        while read(fd, &b, 1) == 1 {
            if b == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(b)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Blocks until every subscriber has its first snapshot; returns how many had already ended.
    func waitAttached() throws -> Int {
        guard let l = line() else { throw BenchError("grpcfan exited before every subscriber was attached") }
        let w = l.split(separator: " ")
        guard w.count == 4, w[0] == "attached", let early = Int(w[3]) else { throw BenchError("grpcfan: \(l)") }
        return early
    }

    /// Blocks until every call has ended and the client has exited; returns every subscriber's outcome.
    func waitEnded() throws -> [Outcome] {
        while line() != nil {}
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("grpcfan exited with \(process.terminationStatus)") }
        let text = try String(contentsOfFile: tsv, encoding: .utf8)
        let outcomes: [Outcome] = text.split(separator: "\n").compactMap { row in
            let f = row.split(separator: "\t")
            guard f.count == 5, let r = Int(f[0]), let st = Int(f[3]), let lat = Int64(f[4]) else { return nil }
            return Outcome(replica: r, grpcStatus: st, latencyNs: lat >= 0 ? lat : nil)
        }
        guard outcomes.count == total else { throw BenchError("grpcfan wrote \(outcomes.count) of \(total) rows") }
        return outcomes
    }
}
