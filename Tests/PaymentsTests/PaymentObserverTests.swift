import Locks
import XCTest
@testable import Payments
@testable import PaymentStore

/// The engine's metrics hooks: each status a payment enters is told once after commit; each
/// committed group of the writer is told with its size.
final class PaymentObserverTests: XCTestCase {
    final class Log: @unchecked Sendable {
        let lock = Lock()
        var statuses: [PaymentStatus] = []
        var groups: [Int] = []
        var nanos: [UInt64] = []
    }

    func testStatusesEnteredAndCommittedGroups() throws {
        let log = Log()
        var options = PaymentControl.Options()
        options.statusObserver = { s in log.lock.withLock { log.statuses.append(s) } }
        let h = try Harness(control: options)
        h.store.observeCommits { ns, n in log.lock.withLock { log.nanos.append(ns); log.groups.append(n) } }
        let a = Fixture.hash(1), b = Fixture.hash(2)
        _ = try h.control.initPayment(Fixture.info(1))
        _ = try h.control.registerAttempt(a, Fixture.attempt(1))
        _ = try h.control.settleAttempt(a, attemptID: 1, Fixture.settle(1))
        _ = try h.control.initPayment(Fixture.info(2))
        _ = try h.control.registerAttempt(b, Fixture.attempt(4))
        _ = try h.control.failAttempt(b, attemptID: 4, Fixture.failure())   // still in flight: not told
        _ = try h.control.failPayment(b, reason: .noRoute)
        _ = try h.control.initPayment(Fixture.info(2))                        // a failed payment restarted
        XCTAssertThrowsError(try h.control.registerAttempt(a, Fixture.attempt(9)))  // refused: nothing committed, not told
        h.store.flush()
        let (statuses, groups, nanos) = log.lock.withLock { (log.statuses, log.groups, log.nanos) }
        XCTAssertEqual(statuses, [.initiated, .inFlight, .succeeded, .initiated, .inFlight, .failed, .initiated])
        XCTAssertFalse(groups.isEmpty)
        XCTAssertTrue(groups.allSatisfy { $0 >= 1 })
        XCTAssertEqual(groups.count, nanos.count)
        XCTAssertEqual(groups.reduce(0, +), 8, "every committed change is in exactly one group")
    }
}
