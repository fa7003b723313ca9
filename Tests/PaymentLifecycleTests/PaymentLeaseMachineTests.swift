import XCTest
import Payments
@testable import PaymentLifecycle

/// The lease state machine with an injected clock (no database, no socket): when it acquires,
/// renews, stops acting, takes over and releases, and that it always stops acting before the
/// database could let another replica start.
final class PaymentLeaseMachineTests: XCTestCase {
    typealias M = PaymentLeaseMachine
    let timing = M.Timing(timeout: 10)

    /// A machine holding token 7, acquired with a request sent at 0 and answered at 0.01.
    private func holding() -> M {
        var m = M(timing: timing, now: 0)
        XCTAssertEqual(m.tick(now: 0), [.acquire])
        XCTAssertEqual(m.acquired(7, sentAt: 0, now: 0.01), [.grant(7, until: 7), .takeOver(7)])
        return m
    }

    func testTimingKeepsTheStopBeforeTheExpiryAndTheTakeoverUnderTheTimeout() {
        XCTAssertEqual(timing.leaseSeconds, 8)
        XCTAssertEqual(timing.marginSeconds, 1)
        XCTAssertEqual(timing.renewEvery, 2)
        XCTAssertEqual(timing.scanEvery, 1)
        XCTAssertLessThan(timing.leaseSeconds - timing.marginSeconds, timing.leaseSeconds, "the holder stops first")
        XCTAssertLessThan(timing.leaseSeconds + timing.scanEvery, timing.timeout, "others take over within the timeout")
        XCTAssertLessThan(2 * timing.renewEvery, timing.leaseSeconds - timing.marginSeconds, "two renewals may fail before a stop")
    }

    func testAcquiresAtOnceAndActsUntilTheLocalDeadlineCountedFromTheRequest() {
        var m = M(timing: timing, now: 100)
        XCTAssertFalse(m.mayAct(now: 100))
        XCTAssertEqual(m.tick(now: 100), [.acquire])
        XCTAssertEqual(m.state, .acquiring(sentAt: 100))
        XCTAssertEqual(m.tick(now: 100.5), [], "nothing more while the request is out")
        // The answer took 0.4 s: the deadline still counts from the request (100 + 8 - 1).
        XCTAssertEqual(m.acquired(3, sentAt: 100, now: 100.4), [.grant(3, until: 107), .takeOver(3)])
        XCTAssertTrue(m.mayAct(now: 106.99))
        XCTAssertFalse(m.mayAct(now: 107))
    }

    func testAFailedAcquisitionIsRetried() {
        var m = M(timing: timing, now: 0)
        _ = m.tick(now: 0)
        XCTAssertEqual(m.acquireFailed(now: 0.2), [])
        XCTAssertEqual(m.tick(now: 0.3), [], "not before the retry interval")
        XCTAssertEqual(m.tick(now: 0.7), [.acquire])
    }

    func testAnAnswerTooLateToActOnIsGivenBack() {
        var m = M(timing: timing, now: 0)
        _ = m.tick(now: 0)
        XCTAssertEqual(m.acquired(4, sentAt: 0, now: 7.5), [.release(4)])
        XCTAssertEqual(m.state, .unheld(acquireAt: 7.5))
        XCTAssertFalse(m.mayAct(now: 7.5))
    }

    func testRenewsOnScheduleAndExtendsFromTheRenewalRequest() {
        var m = holding()
        XCTAssertEqual(m.tick(now: 0.5), [])
        XCTAssertEqual(m.tick(now: 1.01), [.takeOver(7)], "a takeover scan every 0.1 T")
        XCTAssertEqual(m.tick(now: 2.0), [.renew(7)])
        XCTAssertEqual(m.state, .renewing(token: 7, actUntil: 7, sentAt: 2.0))
        XCTAssertEqual(m.renewed(sentAt: 2.0, now: 2.05), [.grant(7, until: 9)])
        XCTAssertEqual(m.state, .holding(token: 7, actUntil: 9, renewAt: 4))
        XCTAssertEqual(m.tick(now: 2.5), [.takeOver(7)])
        XCTAssertEqual(m.nextDeadline(), 3.5, "the next scan comes before the renewal at 4")
    }

    func testUnreachableDatabaseStopsActingAtTheLocalDeadlineAndReacquires() {
        var m = holding()
        XCTAssertEqual(m.tick(now: 2), [.takeOver(7), .renew(7)])
        // The database cannot be reached: retried every 0.5 s, still acting before 7.
        XCTAssertEqual(m.renewFailed(refused: false, now: 2.1), [])
        XCTAssertTrue(m.mayAct(now: 2.1))
        XCTAssertEqual(m.tick(now: 2.6), [.renew(7)])
        XCTAssertEqual(m.renewFailed(refused: false, now: 6.0), [])
        XCTAssertTrue(m.mayAct(now: 6.0))
        XCTAssertEqual(m.tick(now: 6.5), [.takeOver(7), .renew(7)])
        // This renewal hangs past the deadline: no acting from 7 on, then stop and ask for a new
        // lease (a new token).
        XCTAssertFalse(m.mayAct(now: 7.0), "never acts past its deadline, even with a renewal out")
        XCTAssertEqual(m.tick(now: 7.0), [.stopActing(7)])
        XCTAssertEqual(m.renewed(sentAt: 6.5, now: 7.25), [], "a late confirmation of the old token is ignored")
        XCTAssertEqual(m.tick(now: 7.25), [.acquire])
        XCTAssertEqual(m.acquired(8, sentAt: 7.25, now: 7.5), [.grant(8, until: 14.25), .takeOver(8)],
                       "the new token takes its own old payments over like anyone's")
    }

    func testARefusedRenewalStopsAtOnce() {
        var m = holding()
        _ = m.tick(now: 2)
        XCTAssertEqual(m.renewFailed(refused: true, now: 2.1), [.stopActing(7)])
        XCTAssertFalse(m.mayAct(now: 2.1))
        XCTAssertEqual(m.tick(now: 2.1), [.acquire])
    }

    func testAFailedRenewalPastTheDeadlineStops() {
        var m = holding()
        _ = m.tick(now: 2)
        XCTAssertEqual(m.renewFailed(refused: false, now: 7.2), [.stopActing(7)])
    }

    func testCloseStopsAndReleases() {
        var m = holding()
        XCTAssertEqual(m.close(), [.stopActing(7), .release(7)])
        XCTAssertEqual(m.state, .closed)
        XCTAssertEqual(m.tick(now: 100), [])
        var unheld = M(timing: timing, now: 0)
        XCTAssertEqual(unheld.close(), [])
        // A lease granted after close is given back.
        var acquiring = M(timing: timing, now: 0)
        _ = acquiring.tick(now: 0)
        _ = acquiring.close()
        XCTAssertEqual(acquiring.acquired(9, sentAt: 0, now: 0.1), [.release(9)])
    }

    /// Random delays and failures: the machine never lets its holder act past the moment the
    /// database's lease (granted at the request's arrival, which is after it was sent) ends minus
    /// the margin, so never once another replica may take over.
    func testNeverActsWhenTheDatabaseCouldLetAnotherStart() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var m = M(timing: timing, now: 0)
            var now = 0.0
            var dbExpiry = -Double.infinity   // the database's expiry of the current token
            var token: Int64 = 0
            for _ in 0..<300 {
                now += Double.random(in: 0...0.8, using: &rng)
                var actions = m.tick(now: now)
                while let a = actions.first {
                    actions.removeFirst()
                    let delay = Double.random(in: 0...1.5, using: &rng)
                    switch a {
                    case .acquire:
                        let sent = now
                        now += delay
                        if Bool.random(using: &rng) {
                            token += 1
                            dbExpiry = sent + delay / 2 + timing.leaseSeconds
                            actions += m.acquired(token, sentAt: sent, now: now)
                        } else {
                            actions += m.acquireFailed(now: now)
                        }
                    case .renew:
                        let sent = now
                        now += delay
                        let arrival = sent + delay / 2
                        switch Int.random(in: 0..<3, using: &rng) {
                        case 0:
                            // Renewed only while still writable by the database's clock.
                            if arrival < dbExpiry - timing.marginSeconds {
                                dbExpiry = arrival + timing.leaseSeconds
                                actions += m.renewed(sentAt: sent, now: now)
                            } else {
                                actions += m.renewFailed(refused: true, now: now)
                            }
                        case 1: actions += m.renewFailed(refused: false, now: now)
                        default: actions += m.renewFailed(refused: true, now: now)
                        }
                    default: break
                    }
                }
                if m.mayAct(now: now) {
                    XCTAssertLessThanOrEqual(now, dbExpiry - timing.marginSeconds, "acted after its lease could lapse")
                }
            }
        }
    }
}
