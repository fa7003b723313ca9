import Foundation
import XCTest
import PostgresTestSupport
import PostgreSQL
@testable import Payments
@testable import PaymentStore

/// Two processes' worth of payment engines on one database, as two replicas: changes made through
/// replica A reach TrackPaymentV2 and TrackPayments subscribers of replica B through LISTEN/NOTIFY
/// and the change index, in order, each once; after B's database session is cut, B catches up.
final class PostgresPaymentFeedTests: XCTestCase {
    final class Replica {
        let store: PostgresPaymentStore
        let tower: ControlTower
        let control: PaymentControl
        init(_ o: PostgresPaymentStore.Options) throws {
            store = try PostgresPaymentStore(options: o)
            tower = ControlTower(store: store)
            control = PaymentControl(store: store, tower: tower)
        }
        deinit { store.close() }
    }

    /// Polls `next` until `done` holds for what was collected (10 s at most, then returns what it has).
    private func collect(_ next: () -> PaymentSnapshot?, until done: ([PaymentSnapshot]) -> Bool) -> [PaymentSnapshot] {
        var got: [PaymentSnapshot] = []
        let deadline = Date().addingTimeInterval(10)
        while !done(got) && Date() < deadline {
            if let s = next() { got.append(s) } else { usleep(2_000) }
        }
        return got
    }

    func testChangesOnOneReplicaReachSubscribersOnAnother() throws {
        var o = PostgresPaymentStore.Options(dsn: try PostgresCluster.shared().createDatabase(), schema: "paytrack_alice")
        o.timeoutSeconds = 30
        let a = try Replica(o), b = try Replica(o)
        var feedOptions = PostgresPaymentFeed.Options(store: o)
        feedOptions.pageSize = 3   // page boundaries inside one batch's changes
        let feed = try PostgresPaymentFeed(options: feedOptions, tower: b.tower)
        feed.start()
        defer { feed.stop() }

        let hash = Fixture.hash(1)
        try a.control.initPayment(Fixture.info(1))
        let single = try b.tower.subscribePayment(hash)          // B reads it from the store
        let all = try b.tower.subscribeAllPayments()
        try a.control.registerAttempt(hash, Fixture.attempt(1))
        try a.control.failAttempt(hash, attemptID: 1, Fixture.failure())
        try a.control.registerAttempt(hash, Fixture.attempt(2))
        let final = try a.control.settleAttempt(hash, attemptID: 2, Fixture.settle(1))

        let seen = collect({ single.poll() }, until: { $0.last?.status == .succeeded })
        XCTAssertEqual(seen.last, final, "B's TrackPaymentV2 ends with A's terminal snapshot")
        XCTAssertEqual(seen.map(\.version), seen.map(\.version).sorted(), "in order")
        XCTAssertEqual(Set(seen.map(\.version)).count, seen.count, "none twice")

        // Ten payments committed by A in one batch: every one reaches B's TrackPayments once.
        let many = (10...19).map { n in
            [PaymentWrite.initPayment(PaymentSnapshot(info: Fixture.info(UInt64(n)), paymentIndex: UInt64(n), attempts: [],
                                                     failureReason: nil, lastUpdateNs: final.lastUpdateNs + Int64(n)))]
        }
        a.store.write(many.flatMap { $0 }) { _, _ in }
        a.store.flush()
        let stream = collect({ all.poll() }, until: { got in (10...19).allSatisfy { n in got.contains { $0.paymentHash == Fixture.hash(UInt64(n)) } } })
        let batch = stream.filter { s in (10...19).contains { Fixture.hash(UInt64($0)) == s.paymentHash } }
        XCTAssertEqual(batch.count, 10, "each of the batch's payments once")
        XCTAssertEqual(batch.map(\.lastUpdateNs), batch.map(\.lastUpdateNs).sorted(), "in update order")
        XCTAssertEqual(stream.last(where: { $0.paymentHash == hash })?.status ?? .succeeded, .succeeded)
        XCTAssertGreaterThan(feed.catchUps, 0)
    }

    /// Replica A, replica B following it (polling only hourly), and a session holding a
    /// transaction open with an id, so B's change index stops below anything A commits now.
    private func heldBackFollower() throws -> (a: Replica, b: Replica, feed: PostgresPaymentFeed, blocker: PostgresConnection) {
        var o = PostgresPaymentStore.Options(dsn: try PostgresCluster.shared().createDatabase(), schema: "paytrack_alice")
        o.timeoutSeconds = 30
        let a = try Replica(o), b = try Replica(o)
        var feedOptions = PostgresPaymentFeed.Options(store: o)
        feedOptions.pollSeconds = 3_600
        let feed = try PostgresPaymentFeed(options: feedOptions, tower: b.tower)
        feed.start()
        let blocker = try PostgresConnection(dsn: o.dsn)
        _ = try blocker.query("BEGIN")
        _ = try blocker.query("SELECT txid_current()")   // takes a transaction id: the horizon stops below it
        return (a, b, feed, blocker)
    }

    /// A's change of more payments than a notification carries (`PaymentChangeNotice`) commits
    /// while an older transaction (another session's, which changes no payment and so notifies
    /// nothing) is still open: B's catch-up cannot read it yet (the horizon is held back). When
    /// that transaction ends, B reads the change without another notification and long before its
    /// poll (an hour here): the notification carried A's transaction id, and the feed looks again
    /// until its horizon has passed it.
    func testAChangeBehindAnOpenTransactionArrivesWhenThatTransactionEnds() throws {
        let (a, b, feed, blocker) = try heldBackFollower()
        defer { feed.stop(); blocker.close() }
        let all = try b.tower.subscribeAllPayments()
        let before = feed.catchUps
        let count = PostgresPaymentTransactor.noticeMaximum + 1
        let batch = (1...count).map { n in
            PaymentWrite.initPayment(PaymentSnapshot(info: Fixture.info(UInt64(n)), paymentIndex: UInt64(n), attempts: [],
                                                     failureReason: nil, lastUpdateNs: Int64(n)))
        }
        a.store.write(batch) { _, _ in }
        a.store.flush()
        let deadline = Date().addingTimeInterval(10)
        while feed.catchUps <= before && Date() < deadline { usleep(2_000) }
        XCTAssertGreaterThan(feed.catchUps, before, "B caught up after A's notification")
        XCTAssertNil(all.poll(), "held back behind the open transaction")
        XCTAssertEqual(feed.noticed, 0, "the notification carried the transaction id alone")

        _ = try blocker.query("COMMIT")
        let seen = collect({ all.poll() }, until: { $0.count >= count })
        XCTAssertEqual(seen.map(\.paymentHash), (1...count).map { Fixture.hash(UInt64($0)) }, "delivered once the open transaction ended")
    }

    /// A change of one payment travels in the notification itself: B publishes it as the
    /// notification arrives, even while an older open transaction holds the change index back,
    /// and the catch-up that reads it later delivers nothing twice.
    func testAFewChangedPaymentsTravelInTheNotification() throws {
        let (a, b, feed, blocker) = try heldBackFollower()
        defer { feed.stop(); blocker.close() }
        let all = try b.tower.subscribeAllPayments()
        let created = try a.control.initPayment(Fixture.info(1))
        let first = collect({ all.poll() }, until: { !$0.isEmpty })
        XCTAssertEqual(first, [created], "published from the notification, behind the open transaction")
        let counted = Date().addingTimeInterval(10)   // the feed counts it right after publishing it
        while feed.noticed < 1 && Date() < counted { usleep(1_000) }
        XCTAssertEqual(feed.noticed, 1)
        let registered = try a.control.registerAttempt(Fixture.hash(1), Fixture.attempt(1))
        XCTAssertEqual(collect({ all.poll() }, until: { !$0.isEmpty }), [registered], "with its attempt, as a read gives it")

        XCTAssertEqual(feed.published, 0, "no catch-up could read it yet")
        _ = try blocker.query("COMMIT")
        let second = try a.control.initPayment(Fixture.info(2))
        // The catch-ups now read both payments (the feed published 2) and deliver neither again.
        let deadline = Date().addingTimeInterval(10)
        while feed.published < 2 && Date() < deadline { usleep(2_000) }
        XCTAssertEqual(feed.published, 2)
        var rest: [PaymentSnapshot] = []
        while let s = all.poll() { rest.append(s) }
        XCTAssertEqual(rest, [second], "each version once")
    }

    /// The server restarts while B follows: B's feed reconnects, re-LISTENs and catches up with the
    /// change made while it was away (no notification of it ever reached B).
    func testCatchesUpAfterTheDatabaseRestarts() throws {
        let cluster = try PostgresCluster()
        var o = PostgresPaymentStore.Options(dsn: cluster.dsn())
        o.timeoutSeconds = 10
        let a = try Replica(o), b = try Replica(o)
        let feed = try PostgresPaymentFeed(options: PostgresPaymentFeed.Options(store: o), tower: b.tower)
        feed.start()
        defer { feed.stop() }
        let hash = Fixture.hash(1)
        try a.control.initPayment(Fixture.info(1))
        let single = try b.tower.subscribePayment(hash)
        XCTAssertEqual(single.poll()?.status, .initiated)
        cluster.stop(mode: "immediate")
        try cluster.start()
        // A's writer finds its session gone: the batch fails, and its one-per-transaction retry
        // reconnects and commits (the change is acknowledged only after that commit).
        let registered = try a.control.registerAttempt(hash, Fixture.attempt(1))
        XCTAssertEqual(try a.store.fetchPayment(hash), registered)
        let seen = collect({ single.poll() }, until: { $0.last?.version == registered.version })
        XCTAssertEqual(seen.last, registered, "B saw the change made after the restart")
    }
}
