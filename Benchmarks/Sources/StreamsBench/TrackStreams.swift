import Foundation
import GRPC
import RPCCore
import LightningRPC
import ProtoWire
import Synchronization
import Transport

/// One TrackPaymentV2 subscriber as the load client saw it: built from `TrackStreams`' tables
/// after the run (see `TrackStreams.subscribers`).
struct Subscriber {
    /// CLOCK_REALTIME of each message received (with `record`: up to `TrackStreams.maxRecorded`;
    /// without: only the first).
    var receivedAt: [Int64]
    /// The messages after the first (with `record`), decoded after the run.
    var later: [[UInt8]]
    var messages: Int
    var status: GRPCStatus.Code?
    var statusMessage: String
}

/// Holds `streams` TrackPaymentV2 calls open over `clients` (TLS + HTTP/2 connections made with
/// our own `GRPCClient`), each connection carrying `streams / clients.count` of them, and counts
/// first snapshots and finished calls with atomics the main thread polls (or, for the end of
/// every call, sleeps on: `waitAllFinished`).
///
/// The load client shares the machine with the daemon, so what it does per message is kept
/// small: each receipt goes into flat tables allocated up front (subscriber k's slots are
/// `k * maxRecorded ..<`), touched only on the loop thread of k's connection until the run is over;
/// the per-subscriber view is assembled afterwards. Kept messages are copied into a pre-faulted
/// arena per connection and the client's array is dropped at once: keeping 10,000 arrays instead
/// grew the client's heap by ~10 MB during the burst, and the page faults and `mprotect` calls of
/// that growth were ~40% of the client's CPU in the fan-out (perf, 2026-11-21), time the daemon
/// lost on the shared cores. Each connection's callbacks capture that connection's own
/// `Recorder` (with its own counters), not this shared object: retaining one object, or adding
/// to one counter, from both client loops per message bounced its cache line between the cores.
final class TrackStreams: @unchecked Sendable {
    /// Receipts kept per subscriber (the first snapshot and the updates after it).
    static let maxRecorded = 4
    let clients: [GRPCClient]
    private var recorders: [Recorder] = []
    /// Subscribers that got their first snapshot / whose call ended / ended with OK (sums over
    /// the connections' counters; any thread).
    var firstSnapshotCount: Int { recorders.reduce(0) { $0 + $1.firstSnapshots.load(ordering: .relaxed) } }
    var finishedCount: Int { recorders.reduce(0) { $0 + $1.finished.load(ordering: .relaxed) } }
    var finishedOKCount: Int { recorders.reduce(0) { $0 + $1.finishedOK.load(ordering: .relaxed) } }
    private var count = 0
    private var record = false
    private var tables = ReceiptTables(subscribers: 0)
    private var arenas: [ByteArena] = []
    /// Signalled once by each connection's recorder when every call it carries has ended.
    private let connectionsEnded = DispatchSemaphore(value: 0)

    init(clients: [GRPCClient]) {
        self.clients = clients
    }

    /// Opens `perConnection` streams on every connection; stream k (over all) tracks
    /// `hashes[k % hashes.count]` on connection `k % clients.count`. With `record`, the first
    /// `maxRecorded` messages and their receipt times are kept.
    func open(perConnection: Int, hashes: [[UInt8]], record: Bool) {
        precondition(count == 0, "open once")
        let n = perConnection * clients.count
        count = n
        self.record = record
        let m = Self.maxRecorded
        tables = ReceiptTables(subscribers: n)
        // Room for every kept message at up to 2 KiB (a Payment with two HTLCs is ~1.2 KB).
        arenas = record ? clients.map { _ in ByteArena(capacity: perConnection * (m - 1) * 2048) } : []
        let requests: [[UInt8]] = hashes.map { h in
            var r = Routerrpc.TrackPaymentRequest()
            r.paymentHash = h
            return r.serializedBytes()
        }
        recorders = clients.indices.map { c in
            Recorder(record: record, tables: tables, arena: record ? arenas[c] : nil,
                     calls: perConnection, allEnded: connectionsEnded)
        }
        var k = 0
        for _ in 0..<perConnection {
            for (c, client) in clients.enumerated() {
                let request = requests[k % requests.count]
                let recorder = recorders[c]
                client.serverStreaming(path: "/routerrpc.Router/TrackPaymentV2", request: request,
                    onMessageBytes: { [recorder, k] bytes in recorder.received(k, bytes) },
                    onFinish: { [recorder, k] status in recorder.ended(k, status) })
                k += 1
            }
        }
    }

    /// What one connection's loop records: into the shared tables (only this connection's
    /// subscribers' slots) and its own arena and counters.
    final class Recorder: @unchecked Sendable {
        let record: Bool
        /// Kept alive by every recorder: the calls may still end (and write here) after the
        /// `TrackStreams` that opened them is gone.
        let tables: ReceiptTables
        let arena: ByteArena?
        let firstSnapshots = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let finishedOK = Atomic<Int>(0)
        /// Keeps the counters of two connections' recorders off one cache line.
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

        /// The calls on this connection, and what `ended` signals once all of them have ended.
        let calls: Int
        let allEnded: DispatchSemaphore

        init(record: Bool, tables: ReceiptTables, arena: ByteArena?, calls: Int, allEnded: DispatchSemaphore) {
            self.record = record; self.tables = tables; self.arena = arena
            self.calls = calls; self.allEnded = allEnded
        }

        /// Where the last message kept in `arena` lies: a fan-out sends every subscriber the same
        /// bytes, so a message equal to it is recorded as a second reference (compared byte for
        /// byte), not copied again.
        private var lastKept: (offset: Int32, count: Int32)?

        /// Subscriber `k`'s connection loop: one message arrived (lent by the client).
        @inline(__always) func received(_ k: Int, _ bytes: UnsafeRawBufferPointer) {
            let now = realtimeNanos()
            let t = tables
            let i = Int(t.messageCounts[k])
            t.messageCounts[k] += 1
            if i == 0 {
                t.receipts[k * TrackStreams.maxRecorded] = now
                firstSnapshots.add(1, ordering: .relaxed)
            } else if record && i < TrackStreams.maxRecorded {
                let slot = k * TrackStreams.maxRecorded + i
                t.receipts[slot] = now
                if let last = lastKept, let arena, arena.holds(bytes, at: last) {
                    t.stored[slot] = last
                } else if let at = arena?.store(bytes) {
                    t.stored[slot] = at
                    lastKept = at
                } else {
                    t.spilled[slot] = [UInt8](bytes)
                }
            }
        }

        /// Subscriber `k`'s connection loop: the call ended.
        func ended(_ k: Int, _ status: GRPCStatus) {
            tables.statusCodes[k] = Int32(status.code.rawValue)
            if !status.message.isEmpty { tables.statusMessages[k] = status.message }
            if status.code == .ok { finishedOK.add(1, ordering: .relaxed) }
            if finished.add(1, ordering: .relaxed).newValue == calls { allEnded.signal() }
        }
    }

    /// Every subscriber as received so far (call once the counts the caller waited for are in:
    /// the tables are written on the loop threads).
    var subscribers: [Subscriber] {
        (0..<count).map { k in
            let t = tables
            let got = Int(t.messageCounts[k])
            let kept = record ? min(got, Self.maxRecorded) : min(got, 1)
            let base = k * Self.maxRecorded
            return Subscriber(receivedAt: (0..<kept).map { t.receipts[base + $0] },
                              later: kept > 1 ? (1..<kept).map { message(k, base + $0) } : [],
                              messages: got,
                              status: t.statusCodes[k] < 0 ? nil : GRPCStatus.Code(rawValue: Int(t.statusCodes[k])),
                              statusMessage: t.statusMessages[k])
        }
    }

    /// The kept message in slot `slot` of subscriber `k`.
    private func message(_ k: Int, _ slot: Int) -> [UInt8] {
        let at = tables.stored[slot]
        if at.offset < 0 { return tables.spilled[slot] }
        return arenas[k % arenas.count].bytes(at)
    }

    var total: Int { count }

    /// Sleeps until every call has ended (true), or `limitSeconds` passed (false). Unlike `wait`,
    /// it does not wake while the calls run: a poll every few milliseconds would take the shared
    /// cores from the daemon in the window a fan-out measures.
    func waitAllFinished(limitSeconds: Double) -> Bool {
        let deadline = DispatchTime.now() + limitSeconds
        for _ in clients.indices {
            if connectionsEnded.wait(timeout: deadline) == .timedOut { return false }
        }
        return true
    }

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

/// The receipts of every subscriber, in flat tables allocated up front. Subscriber k's slots in
/// the per-message tables are `k * TrackStreams.maxRecorded ..<`; each subscriber's slots are
/// written only on its connection's loop.
final class ReceiptTables: @unchecked Sendable {
    let subscribers: Int
    /// Per subscriber: messages received.
    let messageCounts: UnsafeMutablePointer<Int32>
    /// Per subscriber, `maxRecorded` slots: receipt clocks and (after the first) the messages:
    /// where each lies in its connection's arena (offset, count), or -1 when it did not fit and
    /// was kept as an array in `spilled`.
    let receipts: UnsafeMutablePointer<Int64>
    let stored: UnsafeMutablePointer<(offset: Int32, count: Int32)>
    let spilled: UnsafeMutablePointer<[UInt8]>
    /// Per subscriber: the status code it ended with (-1 while open) and, when not OK, the message.
    let statusCodes: UnsafeMutablePointer<Int32>
    let statusMessages: UnsafeMutablePointer<String>

    init(subscribers n: Int) {
        subscribers = n
        let m = TrackStreams.maxRecorded
        messageCounts = .allocate(capacity: n); messageCounts.initialize(repeating: 0, count: n)
        receipts = .allocate(capacity: n * m); receipts.initialize(repeating: 0, count: n * m)
        stored = .allocate(capacity: n * m); stored.initialize(repeating: (-1, 0), count: n * m)
        spilled = .allocate(capacity: n * m); spilled.initialize(repeating: [], count: n * m)
        statusCodes = .allocate(capacity: n); statusCodes.initialize(repeating: -1, count: n)
        statusMessages = .allocate(capacity: n); statusMessages.initialize(repeating: "", count: n)
    }

    deinit {
        spilled.deinitialize(count: subscribers * TrackStreams.maxRecorded)
        statusMessages.deinitialize(count: subscribers)
        messageCounts.deallocate(); receipts.deallocate(); stored.deallocate(); spilled.deallocate()
        statusCodes.deallocate(); statusMessages.deallocate()
    }
}

/// A bump allocator over memory written once up front (so its pages are resident before the
/// run): stores copies of messages without growing the heap. One per connection, used only on
/// that connection's loop thread.
final class ByteArena: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: max(capacity, 1), alignment: 16)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 1))
    }

    deinit { base.deallocate() }

    /// Copies `bytes` in; nil when full.
    func store(_ bytes: UnsafeRawBufferPointer) -> (offset: Int32, count: Int32)? {
        guard used + bytes.count <= capacity else { return nil }
        let at = used
        if let p = bytes.baseAddress { (base + at).copyMemory(from: p, byteCount: bytes.count) }
        used += bytes.count
        return (Int32(at), Int32(bytes.count))
    }

    /// True when the bytes stored at `at` equal `bytes`.
    func holds(_ bytes: UnsafeRawBufferPointer, at: (offset: Int32, count: Int32)) -> Bool {
        guard Int(at.count) == bytes.count else { return false }
        guard let p = bytes.baseAddress else { return true }
        return memcmp(base + Int(at.offset), p, bytes.count) == 0
    }

    func bytes(_ at: (offset: Int32, count: Int32)) -> [UInt8] {
        if at.count == 0 { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: base + Int(at.offset), count: Int(at.count)))
    }
}
