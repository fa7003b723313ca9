import Foundation
import XCTest
import GRPC
import Metrics
import RPCCore
import Payments
import PaymentStore
@testable import Services

/// `PaymentFanout`: many TrackPaymentV2 subscribers of one payment on one loop behind one tower
/// subscription, each keeping a mailbox's contract (spec §3; issue 4, point 3). A real control
/// tower over a real SQLite file; sinks that record what a stream would have been sent.
final class PaymentFanoutTests: XCTestCase {

    /// What one stream was sent: the versions of the snapshots (the test encoder writes the
    /// version as the message) and how it ended.
    final class RecordingSink: FanoutSink, @unchecked Sendable {
        var versions: [UInt64] = []
        var status: GRPCStatus?
        var writable = true
        var ready: (@Sendable () -> Void)?
        var isWritable: Bool { writable && status == nil }
        func send(_ message: EncodedMessage) -> Bool {
            guard isWritable else { return false }
            versions.append(message.payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            return true
        }
        func finish(_ status: GRPCStatus) { if self.status == nil { self.status = status } }
        func onReady(_ callback: @escaping @Sendable () -> Void) { ready = callback }
        /// The stream drained: writable again, and its ready callback runs.
        func drainAndNotify() { writable = true; ready?() }
    }

    final class Node {
        let dir: String
        let store: SQLitePaymentStore
        let tower: ControlTower
        let control: PaymentControl
        let hash = PaymentHash([UInt8](repeating: 0xab, count: 32))!
        var nextAttempt: UInt64 = 1

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-fanout-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            store = try SQLitePaymentStore(path: dir + "/payments.sqlite")
            tower = ControlTower(store: store)
            control = PaymentControl(store: store, tower: tower)
        }

        deinit {
            store.close()
            try? FileManager.default.removeItem(atPath: dir)
        }

        @discardableResult func initiate() throws -> PaymentSnapshot {
            try control.initPayment(PaymentCreationInfo(paymentIdentifier: hash, valueMsat: 10_000,
                                                        creationTimeNs: 1_700_000_000_000_000_000,
                                                        paymentRequest: Array("lnbc1".utf8)))
        }

        /// A new in-flight HTLC: a non-terminal update.
        @discardableResult func attempt() throws -> PaymentSnapshot {
            let id = nextAttempt
            nextAttempt += 1
            let hop = Hop(chanID: 1, pubKey: [UInt8](repeating: 2, count: 33), amtToForwardMsat: 1_000, feeMsat: 0, expiry: 500)
            let mpp = MPPRecord(paymentAddr: [UInt8](repeating: 1, count: 32), totalAmtMsat: 10_000)
            var last = hop
            last.mppRecord = mpp
            return try control.registerAttempt(hash, HTLCAttemptInfo(
                attemptID: id, sessionKey: [UInt8](repeating: 1, count: 32),
                route: Route(totalTimeLock: 500, totalAmtMsat: 1_000, sourcePubKey: hop.pubKey, hops: [last]),
                attemptTimeNs: 1_700_000_001_000_000_000))
        }

        /// Fails every HTLC (non-terminal updates; returns the last) and then the payment (terminal).
        @discardableResult func fail() throws -> (lastInFlight: PaymentSnapshot?, terminal: PaymentSnapshot) {
            var last: PaymentSnapshot?
            for id in 1..<nextAttempt {
                last = try control.failAttempt(hash, attemptID: id, HTLCFailInfo(failTimeNs: 1_700_000_002_000_000_000,
                                                                                reason: .unreadable, message: nil,
                                                                                failureSourceIndex: 0))
            }
            return (last, try control.failPayment(hash, reason: .noRoute))
        }

        func group() throws -> PaymentFanout<RecordingSink> {
            PaymentFanout(mailbox: try tower.subscribePayment(hash)) { box in
                withUnsafeBytes(of: box.snapshot.version.bigEndian) { EncodedMessage(message: Array($0)) }
            }
        }

        /// What a TrackPaymentV2 on the loop does: read the cached snapshot and join with it.
        func join(_ g: PaymentFanout<RecordingSink>, _ sink: RecordingSink, noInflightUpdates: Bool = false)
            -> PaymentFanout<RecordingSink>.Slot? {
            let s = tower.cachedPayment(hash)!
            return g.join(sink, first: s, firstMessage: withUnsafeBytes(of: s.version.bigEndian) { EncodedMessage(message: Array($0)) },
                          noInflightUpdates: noInflightUpdates)
        }
    }

    func testFirstSnapshotThenEveryNewerOneThenTerminalAndOK() throws {
        let node = try Node()
        let s0 = try node.initiate()
        let g = try node.group()
        var overCalls = 0
        g.onOver = { overCalls += 1 }
        let a = RecordingSink(), b = RecordingSink()
        XCTAssertNotNil(node.join(g, a))
        g.drain()   // the subscription's own first snapshot (s0): a has it already
        XCTAssertEqual(a.versions, [s0.version])
        let s1 = try node.attempt()
        XCTAssertNotNil(node.join(g, b))   // joins at s1, before the loop drained s1
        g.drain()
        XCTAssertEqual(a.versions, [s0.version, s1.version])
        XCTAssertEqual(b.versions, [s1.version], "s1 once, not again from the group")
        // Two updates before the loop runs: a mailbox keeps the newest non-terminal one.
        _ = try node.attempt()
        let s3 = try node.attempt()
        g.drain()
        XCTAssertEqual(a.versions.last, s3.version)
        XCTAssertEqual(b.versions, [s1.version, s3.version])
        let (s4, done) = try node.fail()
        g.drain()   // the newest non-terminal update, then the terminal one
        XCTAssertEqual(a.versions, [s0.version, s1.version, s3.version, s4!.version, done.version])
        XCTAssertEqual(b.versions, [s1.version, s3.version, s4!.version, done.version])
        XCTAssertEqual(a.status?.code, .ok)
        XCTAssertEqual(b.status?.code, .ok)
        XCTAssertTrue(g.isOver)
        XCTAssertEqual(overCalls, 1)
        XCTAssertEqual(g.count, 0)
        XCTAssertEqual(node.tower.subscriberCount(node.hash), 0)
    }

    /// The fan-out delivery latency: one observation per update a group wrote (tower publish to
    /// the group's last write of it), none for an update nobody could be sent.
    func testDeliveryLatencyIsObservedOncePerDeliveredUpdate() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        let h = Histogram(upperBounds: Histogram.latencyBuckets)
        g.deliveryLatency = h
        let a = RecordingSink(), b = RecordingSink()
        XCTAssertNotNil(node.join(g, a))
        XCTAssertNotNil(node.join(g, b))
        g.drain()                                  // the subscription's first snapshot: nothing new to write
        XCTAssertEqual(h.snapshot().cumulative.last, 0)
        try node.attempt()
        try node.attempt()
        g.drain()                                  // the newest of the two, written to both members
        XCTAssertEqual(h.snapshot().cumulative.last, 1)
        a.writable = false; b.writable = false
        try node.attempt()
        g.drain()                                  // held for full streams: not delivered, not observed
        XCTAssertEqual(h.snapshot().cumulative.last, 1)
        a.drainAndNotify(); b.drainAndNotify()
        try node.fail()
        g.drain()                                  // the newest non-terminal update, then the terminal one
        XCTAssertEqual(h.snapshot().cumulative.last, 3)
        XCTAssertGreaterThanOrEqual(h.snapshot().sum, 0)
    }

    func testNoInflightUpdatesMemberGetsOnlyTheTerminalSnapshot() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        let quiet = RecordingSink(), all = RecordingSink()
        XCTAssertNotNil(node.join(g, quiet, noInflightUpdates: true))
        XCTAssertNotNil(node.join(g, all))
        try node.attempt()
        g.drain()
        XCTAssertEqual(quiet.versions, [], "initiated and in-flight snapshots, the first one included, are dropped")
        XCTAssertEqual(all.versions.count, 2)
        let done = try node.fail().terminal
        g.drain()
        XCTAssertEqual(quiet.versions, [done.version])
        XCTAssertEqual(quiet.status?.code, .ok)
        XCTAssertEqual(all.versions.last, done.version)
    }

    func testAFullStreamHoldsTheNewestUpdateAndTheTerminalOneUntilItDrains() throws {
        let node = try Node()
        let s0 = try node.initiate()
        let g = try node.group()
        let slow = RecordingSink(), fast = RecordingSink()
        XCTAssertNotNil(node.join(g, slow))
        XCTAssertNotNil(node.join(g, fast))
        g.drain()
        slow.writable = false                      // the client stopped reading
        for _ in 0..<5 {
            try node.attempt()
            g.drain()
        }
        let (last, done) = try node.fail()
        g.drain()
        XCTAssertEqual(fast.versions.count, 8, "s0, five attempts, the last failed attempt, the terminal")
        XCTAssertEqual(fast.status?.code, .ok)
        XCTAssertTrue(g.isOver, "the subscription ended with the terminal snapshot")
        XCTAssertEqual(slow.versions, [s0.version])
        XCTAssertNil(slow.status)
        XCTAssertEqual(g.count, 1, "the slow member waits for its stream")
        slow.drainAndNotify()
        XCTAssertEqual(slow.versions, [s0.version, last!.version, done.version], "the newest non-terminal, then the terminal")
        XCTAssertEqual(slow.status?.code, .ok)
        XCTAssertEqual(g.count, 0)
    }

    func testAStreamThatDrainsHalfWayResumesWhereItStopped() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        let sink = RecordingSink()
        XCTAssertNotNil(node.join(g, sink))
        g.drain()
        sink.writable = false
        let s1 = try node.attempt()
        g.drain()
        sink.drainAndNotify()
        XCTAssertEqual(sink.versions.last, s1.version)
        let s2 = try node.attempt()
        g.drain()
        XCTAssertEqual(sink.versions.last, s2.version, "unblocked: delivered directly again")
        XCTAssertNil(sink.status)
    }

    func testTheLastMemberLeavingCancelsTheSubscription() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        var overCalls = 0
        g.onOver = { overCalls += 1 }
        let a = RecordingSink(), b = RecordingSink()
        let slotA = try XCTUnwrap(node.join(g, a))
        let slotB = try XCTUnwrap(node.join(g, b))
        XCTAssertEqual(node.tower.subscriberCount(node.hash), 1, "one tower subscription for the group")
        g.leave(slotA)
        g.leave(slotA)                              // a second leave of the same member is ignored
        XCTAssertFalse(g.isOver)
        XCTAssertEqual(g.count, 1)
        let s1 = try node.attempt()
        g.drain()
        XCTAssertEqual(a.versions.count, 1, "a left: nothing more")
        XCTAssertEqual(b.versions.last, s1.version)
        g.leave(slotB)
        XCTAssertTrue(g.isOver)
        XCTAssertEqual(overCalls, 1)
        XCTAssertEqual(node.tower.subscriberCount(node.hash), 0)
    }

    func testAFreedSlotIsReusedAndOldCallbacksDoNotReachTheNewMember() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        let old = RecordingSink(), keep = RecordingSink()
        let oldSlot = try XCTUnwrap(node.join(g, old))
        XCTAssertNotNil(node.join(g, keep))
        g.drain()
        old.writable = false
        try node.attempt()
        g.drain()                                   // old is blocked; its ready callback is armed
        g.leave(oldSlot)
        let new = RecordingSink()
        let newSlot = try XCTUnwrap(node.join(g, new))
        XCTAssertEqual(newSlot.index, oldSlot.index)
        XCTAssertNotEqual(newSlot.generation, oldSlot.generation)
        let before = new.versions
        old.drainAndNotify()                        // the departed member's callback
        XCTAssertEqual(new.versions, before)
        XCTAssertEqual(old.versions.count, 1)
    }

    func testATerminalFirstSnapshotEndsTheStreamWithoutJoining() throws {
        let node = try Node()
        try node.initiate()
        let g = try node.group()
        let member = RecordingSink()
        XCTAssertNotNil(node.join(g, member))
        let done = try node.fail().terminal
        let late = RecordingSink()
        XCTAssertNil(node.join(g, late), "terminal at join: sent, ended, not a member")
        XCTAssertEqual(late.versions, [done.version])
        XCTAssertEqual(late.status?.code, .ok)
        g.drain()
        XCTAssertEqual(member.versions.last, done.version)
        XCTAssertTrue(g.isOver)
    }
}
