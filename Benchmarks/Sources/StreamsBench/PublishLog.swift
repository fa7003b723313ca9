import Foundation
import LightningRPC

/// One update the daemon's control tower published, as its CRTR debug line reports it
/// (`--debuglevel warn,CRTR=debug`): the payment, the shape of the snapshot (status and HTLC
/// counts by state, enough to tell the updates of one payment apart) and the wall clock
/// (CLOCK_REALTIME, unix ns) at which the fan-out began, i.e. after the update was committed.
struct PublishRecord: Hashable {
    struct Shape: Hashable {
        var status: Int32
        var htlcs: Int
        var inFlight: Int
        var settled: Int
        var failed: Int
    }
    var hashHex: String
    var shape: Shape
    var publishedAtNs: Int64
    var subscribers: Int
}

extension PublishRecord.Shape {
    /// The shape of a received `lnrpc.Payment` (same fields as the log line).
    init(_ p: Lnrpc.Payment) {
        status = p.status.rawValue
        htlcs = p.htlcs.count
        inFlight = p.htlcs.filter { $0.status == .inFlight }.count
        settled = p.htlcs.filter { $0.status == .succeeded }.count
        failed = p.htlcs.filter { $0.status == .failed }.count
    }
}

/// Parses the daemon's log for `published payment ...` lines (see `ServedNode`, CRTR subsystem).
func readPublishLog(_ path: String) -> [PublishRecord] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    var out: [PublishRecord] = []
    for line in text.split(separator: "\n") where line.contains("CRTR: ") && line.contains("published payment ") {
        guard let r = line.range(of: "published payment ") else { continue }
        let words = line[r.upperBound...].split(separator: " ")
        guard let hash = words.first else { continue }
        var kv: [Substring: Int64] = [:]
        for w in words.dropFirst() {
            let parts = w.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let v = Int64(parts[1]) { kv[parts[0]] = v }
        }
        guard let st = kv["status"], let h = kv["htlcs"], let i = kv["inflight"], let s = kv["settled"],
              let f = kv["failed"], let at = kv["published_at_ns"] else { continue }
        out.append(PublishRecord(hashHex: String(hash),
                                 shape: .init(status: Int32(st), htlcs: Int(h), inFlight: Int(i), settled: Int(s), failed: Int(f)),
                                 publishedAtNs: at, subscribers: Int(kv["subscribers"] ?? 0)))
    }
    return out
}
