import Locks
import Foundation
import XCTest
import PostgresTestSupport
import Routing
@testable import Simnet

/// `ChannelLedger`'s contract, the same on every backend: opening balances (kept by a second
/// open), conditional reservations that never overdraw (also under concurrency, and across two
/// ledger instances on one database, which is what two replicas are), settle and release that
/// move or free each hop exactly once, HTLC ids that never repeat, and the network built on it.
/// This class runs on `MemoryChannelLedger`; `PostgresChannelLedgerConformance` runs it unchanged
/// on PostgreSQL.
class ChannelLedgerConformance: XCTestCase {
    class var usesPostgres: Bool { false }
    private var dsn = ""
    private var memory: MemoryChannelLedger?

    override func setUpWithError() throws {
        memory = nil
        if Self.usesPostgres { dsn = try PostgresCluster.shared().createDatabase() }
    }

    /// A ledger; with PostgreSQL each call is a new session on the same database (a replica).
    func open() throws -> any ChannelLedger {
        if Self.usesPostgres { return try PostgresChannelLedger(options: .init(dsn: dsn, schema: "paytrack_simnet")) }
        if let memory { return memory }
        let m = MemoryChannelLedger()
        memory = m
        return m
    }

    let a = ShortChannelID(rawValue: 1 << 40 | 1), b = ShortChannelID(rawValue: 1 << 40 | 2)

    func hold(_ id: UInt64, hop: Int = 0, on scid: ShortChannelID, _ d: Int, _ amount: UInt64) -> LedgerHold {
        LedgerHold(htlcID: id, hop: hop, channel: scid, direction: d, amountMsat: amount, expiry: 500 + UInt32(hop),
                   paymentHash: [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: 32))
    }

    func testOpenReserveSettleRelease() throws {
        let l = try open()
        try l.open([(a, [10_000, 0]), (b, [3_000, 7_000])])
        XCTAssertEqual(try l.states(nil), [a: LedgerChannelState(balanceMsat: [10_000, 0]), b: LedgerChannelState(balanceMsat: [3_000, 7_000])])
        let id1 = try l.nextHTLCID(), id2 = try l.nextHTLCID()
        XCTAssertNotEqual(id1, id2)
        XCTAssertTrue(try l.reserve(hold(id1, hop: 0, on: a, 0, 6_000)))
        XCTAssertTrue(try l.reserve(hold(id1, hop: 1, on: b, 1, 5_000)))
        XCTAssertFalse(try l.reserve(hold(id2, on: a, 0, 4_001)), "4,001 > 10,000 - 6,000 spendable")
        XCTAssertFalse(try l.reserve(hold(id2, on: a, 1, 1)), "nothing on node2's side")
        XCTAssertFalse(try l.reserve(hold(id2, on: ShortChannelID(rawValue: 99), 0, 1)), "unknown channel")
        XCTAssertTrue(try l.reserve(hold(id2, on: a, 0, 4_000)))
        try open().open([(a, [10_000, 0]), (b, [3_000, 7_000])])   // a second open (replica, restart) keeps the ledger's state
        XCTAssertEqual(try l.states([a])[a], LedgerChannelState(balanceMsat: [10_000, 0], lockedMsat: [10_000, 0]))
        XCTAssertEqual(try l.inFlightCount(), 2)
        XCTAssertEqual(try l.holds(on: b), [hold(id1, hop: 1, on: b, 1, 5_000)])
        XCTAssertEqual(try l.holds(on: nil).map(\.htlcID), [id1, id1, id2].sorted())

        try l.settle(htlcID: id1)
        try l.settle(htlcID: id1)   // idempotent
        try l.release(htlcID: id2)
        try l.release(htlcID: id2)
        let s = try l.states(nil)
        XCTAssertEqual(s[a], LedgerChannelState(balanceMsat: [4_000, 6_000]))
        XCTAssertEqual(s[b], LedgerChannelState(balanceMsat: [8_000, 2_000]))
        XCTAssertEqual(try l.inFlightCount(), 0)
        XCTAssertEqual(try l.holds(on: nil), [])
    }

    /// Two ledgers on one store (two replicas) and many threads reserving on one channel at once:
    /// the sum reserved never exceeds the balance, and settling moves exactly that sum.
    func testConcurrentReservationsNeverOverdraw() throws {
        let ledgers = [try open(), try open()]
        try ledgers[0].open([(a, [100_000, 0])])
        try ledgers[1].open([(a, [100_000, 0])])
        let granted = Counter()
        let scid = a
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let l = ledgers[i % 2]
            guard let id = try? l.nextHTLCID() else { return }
            let h = LedgerHold(htlcID: id, hop: 0, channel: scid, direction: 0, amountMsat: 7_000, expiry: 500, paymentHash: [1])
            if (try? l.reserve(h)) == true {
                granted.add(id)
                try? l.settle(htlcID: id)
            }
        }
        XCTAssertEqual(granted.ids.count, 14, "14 × 7,000 ≤ 100,000 < 15 × 7,000")
        XCTAssertEqual(Set(granted.ids).count, granted.ids.count, "ids never repeat across ledgers")
        XCTAssertEqual(try ledgers[1].states([a])[a], LedgerChannelState(balanceMsat: [2_000, 98_000]))
    }

    /// The simulated network on the ledger: a payment moves balances, seen through a second
    /// network instance on the same ledger store (another replica), and one that the balance
    /// cannot cover fails with TEMPORARY_CHANNEL_FAILURE.
    func testNetworksOnOneLedgerShareBalances() async throws {
        let topology = Topology(nodes: [.init(alias: "alice"), .init(alias: "bob")],
                                channels: [.init(shortChannelID: a, nodeA: "alice", nodeB: "bob", capacitySat: 100,
                                                 balanceAMsat: 60_000)])
        let one = try SimulatedNetwork(topology: topology, ledger: try open())
        let two = try SimulatedNetwork(topology: topology, ledger: try open())
        let alice = one.nodeID(alias: "alice")!, bob = one.nodeID(alias: "bob")!
        let payee = TestPayee()
        one.setPayeeHandler(payee, for: bob)
        two.setPayeeHandler(payee, for: bob)
        let hash = await payee.addInvoice(preimage: [UInt8](repeating: 7, count: 32), amountMsat: 1)
        func route(_ net: SimulatedNetwork, _ amount: UInt64) -> SourceRoute {
            let c = net.channel(a, from: alice)!
            return SourceRoute.build(source: alice, segments: [SourceRoute.Segment(node: bob, chanID: a, policy: c.localPolicy!,
                                                                                   capacitySat: c.capacitySat)],
                                     amountMsat: amount, finalCLTVDelta: 18, currentHeight: net.blockHeight)!
        }
        guard case .settled = await one.send(route: route(one, 25_000), paymentHash: hash) else { return XCTFail("first payment settles") }
        XCTAssertEqual(two.channel(a, from: alice)?.localBalanceMsat, 35_000, "the other network sees the move")
        let result = await two.send(route: route(two, 35_001), paymentHash: hash)
        guard case .failed(let f) = result else { return XCTFail("35,001 > 35,000 spendable") }
        XCTAssertEqual(f.message.code, .temporaryChannelFailure)
        XCTAssertEqual(f.failureSourceIndex, 0)
        XCTAssertEqual(one.pendingHTLCCount, 0)
        XCTAssertEqual(one.channel(a, from: bob)?.localBalanceMsat, 65_000, "40,000 + 25,000")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = Lock()
    private(set) var ids: [UInt64] = []
    func add(_ id: UInt64) { lock.withLock { ids.append(id) } }
}

/// `ChannelLedgerConformance`, unchanged, on PostgreSQL (swift-corelibs-xctest runs only the tests
/// a class declares, so each is listed here, forwarding to the shared body).
final class PostgresChannelLedgerConformance: ChannelLedgerConformance {
    override class var usesPostgres: Bool { true }

    override func testOpenReserveSettleRelease() throws { try super.testOpenReserveSettleRelease() }
    override func testConcurrentReservationsNeverOverdraw() throws { try super.testConcurrentReservationsNeverOverdraw() }
    override func testNetworksOnOneLedgerShareBalances() async throws { try await super.testNetworksOnOneLedgerShareBalances() }

    /// A replica that derived another network (other seed or topology) refuses the database's.
    func testDifferentNetworkIsRefused() throws {
        try open().open([(a, [10_000, 0])])
        XCTAssertThrowsError(try open().open([(a, [9_000, 1_000])])) {
            XCTAssertTrue("\($0)".contains("different simulated network"), "\($0)")
        }
    }
}
