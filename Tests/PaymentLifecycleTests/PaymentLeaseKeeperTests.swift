import Foundation
import Locks
import XCTest
@testable import Payments
@testable import PaymentLifecycle

/// The keeper over a lease database in memory (no socket): it grants the gate once a lease is
/// held, hands taken-over payments to the resume callback, stops acting when the database says the
/// lease lapsed (revoking the gate before calling back), acquires a new token, and releases on stop.
final class PaymentLeaseKeeperTests: XCTestCase {
    /// A scripted `PaymentLeaseDatabase`.
    final class MemoryLeaseDatabase: PaymentLeaseDatabase, @unchecked Sendable {
        let lock = Lock()
        var nextToken: Int64 = 1
        var lapsed: Set<Int64> = []
        var released: [Int64] = []
        var renewals = 0
        var pendingTakeOver: [PaymentSnapshot] = []

        func acquire(name: String, seconds: Double, marginSeconds: Double) throws -> Int64 {
            lock.withLock { defer { nextToken += 1 }; return nextToken }
        }
        func renew(_ token: Int64, seconds: Double, marginSeconds: Double) throws -> Bool {
            lock.withLock { renewals += 1; return !lapsed.contains(token) }
        }
        func takeOver(_ token: Int64) throws -> [PaymentSnapshot] {
            lock.withLock { defer { pendingTakeOver = [] }; return pendingTakeOver }
        }
        func release(_ token: Int64) {
            lock.withLock { released.append(token) }
        }
    }

    final class Events: @unchecked Sendable {
        let lock = Lock()
        var lost = 0
        var gateDuringLoss: [Bool] = []
        var resumed: [[PaymentHash]] = []
    }

    private func wait(_ what: String, _ cond: () -> Bool) {
        let end = Date().addingTimeInterval(20)
        while !cond() && Date() < end { usleep(5_000) }
        XCTAssertTrue(cond(), what)
    }

    func testGrantsTakesOverStopsOnLapseReacquiresAndReleases() {
        let db = MemoryLeaseDatabase()
        let gate = PaymentLeaseGate()
        let events = Events()
        let keeper = PaymentLeaseKeeper(database: db, gate: gate, timing: .init(timeout: 1), name: "test",
                                        onLost: { events.lock.withLock { events.lost += 1; events.gateDuringLoss.append(gate.mayAct) } },
                                        onTakeOver: { p in events.lock.withLock { events.resumed.append(p.map(\.paymentHash)) } })
        XCTAssertFalse(gate.mayAct)
        keeper.start()
        XCTAssertTrue(keeper.waitUntilHeld(seconds: 20))
        XCTAssertEqual(gate.token(), 1)

        let hash = PaymentHash([UInt8](repeating: 7, count: 32))!
        let info = PaymentCreationInfo(paymentIdentifier: hash, valueMsat: 1_000, creationTimeNs: 1, paymentRequest: [], firstHopCustomRecords: [:])
        db.lock.withLock { db.pendingTakeOver = [PaymentSnapshot(info: info, paymentIndex: 1, attempts: [], failureReason: nil, lastUpdateNs: 1)] }
        wait("payments taken over are resumed") { events.lock.withLock { events.resumed == [[hash]] } }
        wait("it renews") { db.lock.withLock { db.renewals >= 2 } }
        XCTAssertEqual(events.lock.withLock { events.lost }, 0)

        // The database says token 1 lapsed: stop acting (gate closed first), then a new token.
        db.lock.withLock { _ = db.lapsed.insert(1) }
        wait("the lapse is noticed") { events.lock.withLock { events.lost } == 1 }
        XCTAssertEqual(events.lock.withLock { events.gateDuringLoss }, [false], "the gate was revoked before the runs were told")
        wait("a new token") { gate.token() == 2 }
        XCTAssertEqual(keeper.losses, 1)
        XCTAssertEqual(keeper.acquisitions, 2)

        keeper.stop()
        XCTAssertFalse(gate.mayAct, "stopped: no acting")
        XCTAssertEqual(db.lock.withLock { db.released }, [2], "the lease is given back at once")
        XCTAssertEqual(events.lock.withLock { events.lost }, 2, "a stop abandons the runs too")
        XCTAssertEqual(keeper.losses, 1, "but is not counted as a loss")
        keeper.stop()
    }

    func testStartFailsClearlyWithoutADatabase() {
        final class Unreachable: PaymentLeaseDatabase, @unchecked Sendable {
            struct Down: Error {}
            func acquire(name: String, seconds: Double, marginSeconds: Double) throws -> Int64 { throw Down() }
            func renew(_ token: Int64, seconds: Double, marginSeconds: Double) throws -> Bool { throw Down() }
            func takeOver(_ token: Int64) throws -> [PaymentSnapshot] { throw Down() }
            func release(_ token: Int64) {}
        }
        let gate = PaymentLeaseGate()
        let keeper = PaymentLeaseKeeper(database: Unreachable(), gate: gate, timing: .init(timeout: 1), name: "test",
                                        onLost: {}, onTakeOver: { _ in })
        keeper.start()
        XCTAssertFalse(keeper.waitUntilHeld(seconds: 0.3))
        keeper.stop()
        XCTAssertFalse(gate.mayAct)
    }
}
