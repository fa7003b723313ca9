import Foundation
import GRPC
import LightningRPC
import ProtoWire
import Synchronization
import Transport

/// One TrackPaymentV2 subscriber as the load client sees it. Touched only on its connection's loop
/// thread until the run is over.
final class Subscriber: @unchecked Sendable {
    /// CLOCK_REALTIME of each message received (recorded only when `record` is on; else only the first).
    var receivedAt: [Int64] = []
    /// The messages after the first (recorded only when `record` is on), decoded after the run.
    var later: [[UInt8]] = []
    var messages = 0
    var status: GRPCStatus.Code?
    var statusMessage = ""
}

/// Holds `streams` TrackPaymentV2 calls open over `clients` (TLS + HTTP/2 connections made with
/// our own `GRPCClient`), each connection carrying `streams / clients.count` of them, and counts
/// first snapshots and finished calls with atomics the main thread polls.
final class TrackStreams: @unchecked Sendable {
    let clients: [GRPCClient]
    let firstSnapshots = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let finishedOK = Atomic<Int>(0)
    private(set) var subscribers: [Subscriber] = []

    init(clients: [GRPCClient]) { self.clients = clients }

    /// Opens `perConnection` streams on every connection; stream k (over all) tracks
    /// `hashes[k % hashes.count]`. With `record`, every message and its receipt time are kept.
    func open(perConnection: Int, hashes: [[UInt8]], record: Bool) {
        subscribers.reserveCapacity(perConnection * clients.count)
        let requests: [[UInt8]] = hashes.map { h in
            var r = Routerrpc.TrackPaymentRequest()
            r.paymentHash = h
            return r.serializedBytes()
        }
        var k = 0
        for j in 0..<perConnection {
            for client in clients {
                let sub = Subscriber()
                if record { sub.receivedAt.reserveCapacity(4); sub.later.reserveCapacity(2) }
                subscribers.append(sub)
                let request = requests[k % requests.count]
                k += 1
                _ = j
                client.serverStreaming(path: "/routerrpc.Router/TrackPaymentV2", request: request,
                    onMessage: { [self] bytes in
                        let now = realtimeNanos()
                        sub.messages += 1
                        if sub.messages == 1 {
                            sub.receivedAt.append(now)
                            firstSnapshots.add(1, ordering: .relaxed)
                        } else if record {
                            sub.receivedAt.append(now)
                            sub.later.append(bytes)
                        }
                    },
                    onFinish: { [self] status in
                        sub.status = status.code
                        sub.statusMessage = status.message
                        finished.add(1, ordering: .relaxed)
                        if status.code == .ok { finishedOK.add(1, ordering: .relaxed) }
                    })
            }
        }
    }

    var total: Int { subscribers.count }

    /// Waits until `target()` reaches `count`, or no progress for `stallSeconds`, or `limitSeconds`.
    /// Returns the seconds waited and whether the count was reached.
    /// Polls every `pollMicros` (the receipts are stamped on the loop threads, so the poll interval
    /// does not affect the latencies; a short one only steals CPU from the loops), calling `sample`
    /// at each poll.
    func wait(for count: Int, _ target: () -> Int, stallSeconds: Double = 60, limitSeconds: Double = 900,
              pollMicros: UInt32 = 2_000, sample: (() -> Void)? = nil) -> (Double, Bool) {
        let start = monotonicSeconds()
        var last = -1
        var lastChange = start
        while true {
            sample?()
            let n = target()
            let now = monotonicSeconds()
            if n >= count { return (now - start, true) }
            if n != last { last = n; lastChange = now }
            if now - lastChange > stallSeconds || now - start > limitSeconds { return (now - start, false) }
            usleep(pollMicros)
        }
    }

    /// Status codes of the calls that ended, with counts (for error reports).
    func endedSummary() -> String {
        var counts: [String: Int] = [:]
        for s in subscribers { if let c = s.status { counts["\(c) \(s.statusMessage)", default: 0] += 1 } }
        return counts.map { "\($0.value)× \($0.key)" }.sorted().joined(separator: "; ")
    }

    /// Closes the connections (the open calls end with UNAVAILABLE).
    func close() {
        for c in clients { c.close() }
    }
}
