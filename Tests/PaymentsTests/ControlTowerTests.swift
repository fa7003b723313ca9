import Locks
import XCTest
import Dispatch
@testable import Payments
@testable import PaymentStore

final class ControlTowerTests: XCTestCase {

    func drain(_ m: PaymentMailbox) -> [PaymentSnapshot] {
        var out: [PaymentSnapshot] = []
        while let s = m.poll() { out.append(s) }
        return out
    }

    func drain(_ m: AllPaymentsMailbox) -> [PaymentSnapshot] {
        var out: [PaymentSnapshot] = []
        while let s = m.poll() { out.append(s) }
        return out
    }

    func testSubscribeUnknownIsNotFound() throws {
        let h = try Harness()
        XCTAssertPaymentError(try h.tower.subscribePayment(Fixture.hash(9)), "payment isn't initiated", code: 5)
        XCTAssertEqual(h.tower.subscriberCount(Fixture.hash(9)), 0)
    }

    func testCurrentSnapshotFirstThenEveryUpdateThenFinish() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        let s0 = try h.control.initPayment(Fixture.info(1))
        let m = try h.tower.subscribePayment(hash)
        XCTAssertEqual(drain(m), [s0])
        let s1 = try h.control.registerAttempt(hash, Fixture.attempt(1))
        XCTAssertEqual(drain(m), [s1])
        let s2 = try h.control.failAttempt(hash, attemptID: 1, Fixture.failure())
        XCTAssertEqual(drain(m), [s2])
        XCTAssertFalse(m.isFinished)
        let s3 = try h.control.failPayment(hash, reason: .noRoute)
        XCTAssertEqual(drain(m), [s3])
        XCTAssertTrue(m.isFinished)
        XCTAssertEqual(h.tower.subscriberCount(hash), 0, "removed after the terminal snapshot")
        // Subscribing to a terminal payment: exactly one message, then finished.
        let late = try h.tower.subscribePayment(hash)
        XCTAssertEqual(drain(late), [s3])
        XCTAssertTrue(late.isFinished)
        XCTAssertEqual(h.tower.subscriberCount(hash), 0)
    }

    func testTerminalSubscribeFromStoreAfterRestart() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        try h.control.registerAttempt(hash, Fixture.attempt(1))
        let done = try h.control.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        try h.reopen()
        XCTAssertNil(h.tower.cachedPayment(hash))
        let m = try h.tower.subscribePayment(hash)
        XCTAssertEqual(drain(m), [done])
        XCTAssertTrue(m.isFinished)
        XCTAssertEqual(h.tower.cachedPayment(hash), done, "now cached for the fast path")
    }

    func testMailboxCoalescesToNewestNonTerminalPlusTerminal() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        let m = try h.tower.subscribePayment(hash)
        let mpp = MPPRecord(paymentAddr: [UInt8](repeating: 1, count: 32), totalAmtMsat: 10_000)
        var last: PaymentSnapshot!
        for i in 1...9 as ClosedRange<UInt64> {
            last = try h.control.registerAttempt(hash, Fixture.attempt(i, amt: 1_000, mpp: mpp))
        }
        // A stalled reader: only the newest non-terminal snapshot waits.
        XCTAssertEqual(drain(m), [last])
        for i in 1...9 as ClosedRange<UInt64> {
            last = try h.control.failAttempt(hash, attemptID: i, Fixture.failure())
        }
        let terminal = try h.control.failPayment(hash, reason: .timeout)
        let got = drain(m)
        XCTAssertEqual(got, [last, terminal], "newest non-terminal, then the terminal one")
        XCTAssertTrue(m.isFinished)
        XCTAssertNil(m.poll())
    }

    func testWakeupIsEdgeTriggeredAndCancelUnregisters() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        let m = try h.tower.subscribePayment(hash)
        final class Counter: @unchecked Sendable {
            let lock = Lock()
            var n = 0
            func bump() { lock.withLock { n += 1 } }
            var value: Int { lock.withLock { n } }
        }
        let wakes = Counter()
        m.setWakeup { wakes.bump() }
        XCTAssertEqual(wakes.value, 1, "data already waiting: woken at once")
        _ = drain(m)
        try h.control.registerAttempt(hash, Fixture.attempt(1, amt: 10_000))
        try h.control.failAttempt(hash, attemptID: 1, Fixture.failure())
        XCTAssertEqual(wakes.value, 2, "one wake-up per empty→non-empty edge")
        XCTAssertEqual(h.tower.subscriberCount(hash), 1)
        m.cancel()
        XCTAssertTrue(m.isFinished)
        XCTAssertEqual(h.tower.subscriberCount(hash), 0)
        try h.control.failPayment(hash, reason: .canceled)
        XCTAssertNil(m.poll())
    }

    func testFanOutToManySubscribers() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1))
        let boxes = try (0..<2_000).map { _ in try h.tower.subscribePayment(hash) }
        for b in boxes { _ = b.poll() }
        let s = try h.control.registerAttempt(hash, Fixture.attempt(1))
        let t = try h.control.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        for b in boxes {
            XCTAssertEqual(b.poll(), s)
            XCTAssertEqual(b.poll(), t)
            XCTAssertTrue(b.isFinished)
        }
        XCTAssertEqual(h.tower.subscriberCount(hash), 0)
    }

    /// `pollNext` answers "item, and was it the last" in one step, as `poll` + `isFinished` would.
    func testPollNextReportsTheLastItem() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        let s0 = try h.control.initPayment(Fixture.info(1))
        let m = try h.tower.subscribePayment(hash)
        XCTAssertEqual(m.pollNext().item, s0)
        let empty = m.pollNext()
        XCTAssertNil(empty.item)
        XCTAssertFalse(empty.finished)
        let s1 = try h.control.registerAttempt(hash, Fixture.attempt(1))
        let t = try h.control.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        let a = m.pollNext(), b = m.pollNext(), c = m.pollNext()
        XCTAssertEqual(a.item, s1); XCTAssertFalse(a.finished)
        XCTAssertEqual(b.item, t); XCTAssertTrue(b.finished, "the terminal snapshot is the last item")
        XCTAssertNil(c.item); XCTAssertTrue(c.finished)
        let cancelled = try h.tower.subscribePayment(Fixture.hash(1))
        _ = cancelled.pollNext()
        XCTAssertTrue(cancelled.pollNext().finished, "a terminal payment's late subscriber finishes after its one snapshot")
    }

    /// The publish observer (the daemon's CRTR debug line) sees every committed update once, after
    /// its subscribers were offered it, with the subscriber count and a wall-clock stamp no later
    /// than the moment the subscribers can read it.
    func testPublishObserverSeesEveryUpdateWithItsSubscribers() throws {
        final class Seen: @unchecked Sendable {
            let lock = Lock()
            var events: [(PaymentSnapshot, Int64, Int)] = []
        }
        let seen = Seen()
        let h = try Harness()
        h.tower = ControlTower(store: h.store, publishObserver: { s, at, n in seen.lock.withLock { seen.events.append((s, at, n)) } })
        h.control = PaymentControl(store: h.store, tower: h.tower, options: h.controlOptions)
        let hash = Fixture.hash(1)
        let s0 = try h.control.initPayment(Fixture.info(1))
        let boxes = try (0..<3).map { _ in try h.tower.subscribePayment(hash) }
        let before = unixNanosNow()
        let s1 = try h.control.registerAttempt(hash, Fixture.attempt(1))
        let t = try h.control.settleAttempt(hash, attemptID: 1, Fixture.settle(1))
        let after = unixNanosNow()
        let events = seen.lock.withLock { seen.events }
        XCTAssertEqual(events.map(\.0), [s0, s1, t])
        XCTAssertEqual(events.map(\.2), [0, 3, 3])
        for e in events.dropFirst() { XCTAssertTrue(e.1 >= before && e.1 <= after) }
        // Undrained mailboxes coalesce: the newest non-terminal snapshot, then the terminal one.
        for b in boxes { XCTAssertEqual(drain(b), [s1, t]) }
        XCTAssertEqual(h.tower.subscriberCount(hash), 0)
    }

    /// Subscribing while another thread mutates: every subscriber sees a strictly increasing
    /// sequence of versions that ends with the terminal snapshot, with nothing after it, and
    /// whose first element is no older than the state committed before it subscribed.
    func testSubscribeIsAtomicUnderConcurrentUpdates() throws {
        let h = try Harness()
        let hash = Fixture.hash(1)
        try h.control.initPayment(Fixture.info(1, valueMsat: 1_000_000))
        let mpp = MPPRecord(paymentAddr: [UInt8](repeating: 1, count: 32), totalAmtMsat: 1_000_000)
        let control = h.control
        let writer = DispatchQueue(label: "writer")
        let done = DispatchSemaphore(value: 0)
        writer.async {
            for i in 1...200 as ClosedRange<UInt64> {
                _ = try? control.registerAttempt(hash, Fixture.attempt(i, amt: 1_000, mpp: mpp))
                _ = try? control.failAttempt(hash, attemptID: i, Fixture.failure())
            }
            _ = try? control.failPayment(hash, reason: .timeout)
            done.signal()
        }
        var boxes: [(PaymentMailbox, UInt64)] = []
        for _ in 0..<300 {
            let committedBefore = try XCTUnwrap(h.store.fetchPayment(hash)).version
            boxes.append((try h.tower.subscribePayment(hash), committedBefore))
        }
        done.wait()
        h.store.flush()
        let final = try XCTUnwrap(h.control.fetchPayment(hash))
        for (b, before) in boxes {
            let got = drain(b)
            XCTAssertFalse(got.isEmpty)
            XCTAssertGreaterThanOrEqual(got[0].version, before)
            XCTAssertEqual(zip(got, got.dropFirst()).filter { $0.version >= $1.version }.count, 0)
            XCTAssertEqual(got.last, final)
            XCTAssertTrue(b.isFinished)
        }
    }

    func testAllPaymentsInFlightFirstThenEveryChange() throws {
        let h = try Harness()
        try h.control.initPayment(Fixture.info(1))
        try h.control.registerAttempt(Fixture.hash(1), Fixture.attempt(1))
        try h.control.initPayment(Fixture.info(2))
        try h.control.initPayment(Fixture.info(3))
        try h.control.registerAttempt(Fixture.hash(3), Fixture.attempt(3))
        try h.control.settleAttempt(Fixture.hash(3), attemptID: 3, Fixture.settle(3))
        let all = try h.tower.subscribeAllPayments()
        XCTAssertEqual(drain(all).map(\.paymentHash), [Fixture.hash(1), Fixture.hash(2)], "in-flight only, terminal not replayed")
        let a = try h.control.settleAttempt(Fixture.hash(1), attemptID: 1, Fixture.settle(1))
        let b = try h.control.failPayment(Fixture.hash(2), reason: .noRoute)
        XCTAssertEqual(drain(all), [a, b])
        XCTAssertFalse(all.isFinished, "TrackPayments never ends by itself")
        all.cancel()
        XCTAssertEqual(h.tower.allPaymentsSubscriberCount, 0)
    }

    /// A client that disconnected keeps the largest time it saw; reconnecting with it replays
    /// the current snapshot of every payment changed since — including ones that went terminal
    /// while it was away — before live events.
    func testReplaySinceLosesNoTerminalEvent() throws {
        let h = try Harness()
        let c = h.control
        let first = try h.tower.subscribeAllPayments()
        try c.initPayment(Fixture.info(1))
        try c.initPayment(Fixture.info(2))
        try c.registerAttempt(Fixture.hash(1), Fixture.attempt(1))
        var seenMax: Int64 = 0
        // The client reads one event and disconnects.
        let one = try XCTUnwrap(first.poll())
        seenMax = max(seenMax, one.maxShownTimeNs)
        first.cancel()
        // While it is away: payment 1 settles, 2 fails, 4 is created and finishes.
        let p1 = try c.settleAttempt(Fixture.hash(1), attemptID: 1, Fixture.settle(1))
        let p2 = try c.failPayment(Fixture.hash(2), reason: .timeout)
        try c.initPayment(Fixture.info(4))
        let p4 = try c.failPayment(Fixture.hash(4), reason: .canceled)
        try h.reopen()   // even across a restart
        let again = try h.tower.subscribeAllPayments(replaySince: seenMax)
        let replayed = drain(again)
        for want in [p1, p2, p4] { XCTAssertTrue(replayed.contains(want), "replayed \(want.paymentHash)") }
        XCTAssertEqual(replayed.map(\.version), replayed.map(\.version).sorted(), "stamp order")
        // Then live events.
        try h.control.initPayment(Fixture.info(5))
        XCTAssertEqual(drain(again).map(\.paymentHash), [Fixture.hash(5)])
    }

    func testReplayOrderSurvivesAnyDisconnectPoint() throws {
        // Whatever prefix a client read, resuming from its max shown time loses nothing.
        let h = try Harness()
        let c = h.control
        for n in 1...12 as ClosedRange<UInt64> { try c.initPayment(Fixture.info(n, creationNs: 5)) }
        let base = try h.tower.subscribeAllPayments(replaySince: 0)
        let full = drain(base)
        XCTAssertEqual(full.count, 12)
        for cut in 0...full.count {
            let seenMax = full.prefix(cut).map(\.version).max().map { Int64(bitPattern: $0) } ?? 0
            let resumed = try h.tower.subscribeAllPayments(replaySince: seenMax)
            let got = Set(drain(resumed).map(\.paymentHash))
            XCTAssertTrue(Set(full.dropFirst(cut).map(\.paymentHash)).isSubset(of: got), "cut \(cut)")
            resumed.cancel()
        }
    }

    func testAllPaymentsMailboxIsBounded() throws {
        var o = ControlTower.Options()
        o.allPaymentsMailboxCapacity = 5
        let h = try Harness(tower: o)
        let all = try h.tower.subscribeAllPayments()
        for n in 1...5 as ClosedRange<UInt64> { try h.control.initPayment(Fixture.info(n)) }
        // Re-updating a waiting payment coalesces and does not count twice.
        try h.control.failPayment(Fixture.hash(1), reason: .timeout)
        XCTAssertEqual(all.count, 5)
        XCTAssertFalse(all.isFinished)
        XCTAssertEqual(all.poll()?.paymentHash, Fixture.hash(2), "a re-updated payment moves to the back")
        try h.control.initPayment(Fixture.info(6))
        try h.control.initPayment(Fixture.info(7))
        XCTAssertTrue(all.isFinished)
        XCTAssertTrue(all.overflowed)
        XCTAssertNil(all.poll())
        XCTAssertEqual(h.tower.allPaymentsSubscriberCount, 0)
    }
}

extension ControlTowerTests {
    func testTruncatedReplayDeliversOldestPartThenEnds() throws {
        var o = ControlTower.Options()
        o.maxReplay = 4
        let h = try Harness(tower: o)
        var all: [PaymentSnapshot] = []
        for n in 1...10 as ClosedRange<UInt64> {
            try h.control.initPayment(Fixture.info(n))
            all.append(try h.control.failPayment(Fixture.hash(n), reason: .timeout))
        }
        var since: Int64 = 0
        var got: [PaymentSnapshot] = []
        for _ in 0..<10 {
            let m = try h.tower.subscribeAllPayments(replaySince: since)
            let part = drain(m)
            got += part
            if !m.overflowed { break }
            XCTAssertTrue(m.isFinished)
            since = part.map { Int64(bitPattern: $0.version) }.max()!
        }
        XCTAssertTrue(Set(all).isSubset(of: Set(got)), "resuming chunk by chunk loses nothing")
    }
}
