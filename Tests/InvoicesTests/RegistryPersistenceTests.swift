import XCTest
import Crypto
import BOLT11
@testable import Invoices

class RegistryPersistenceTests: RegistryTestCase {
    func pay(_ r: InvoiceRegistry, _ res: AddInvoiceResult, msat: UInt64, height: UInt32 = 100,
             chanID: UInt64 = 1, htlcIndex: UInt64 = 0) async -> HTLCResolution {
        await r.acceptHTLC(paymentHash: res.rHash, amountMsat: msat, paymentAddr: res.paymentAddr, totalMsat: nil,
                           expiry: height + 200, currentHeight: height, chanID: chanID, htlcIndex: htlcIndex)
    }

    func testRestartKeepsInvoicesAndIndexes() async throws {
        var r: InvoiceRegistry? = try openRegistry()
        let a = try add(r!, msat: 1000, memo: "a")
        let b = try add(r!, msat: 2000, memo: "b")
        let res = await pay(r!, b, msat: 2000)
        guard case .settle = res else { return XCTFail("\(res)") }
        let before = try r!.lookupInvoice(rHash: b.rHash)
        r = nil

        let reopened = try openRegistry()
        XCTAssertEqual(try reopened.lookupInvoice(rHash: b.rHash), before)
        XCTAssertEqual(try reopened.lookupInvoice(rHash: a.rHash).memo, "a")
        XCTAssertEqual(before.settleIndex, 1)
        XCTAssertEqual(before.htlcs.count, 1)
        XCTAssertEqual(before.htlcs[0].state, .settled)
        XCTAssertEqual(before.amtPaidMsat, 2000)
        // Indexes continue after the restart.
        let c = try add(reopened, msat: 3000)
        XCTAssertEqual(c.addIndex, 3)
        guard case .settle = await pay(reopened, c, msat: 3000) else { return XCTFail() }
        XCTAssertEqual(try reopened.lookupInvoice(rHash: c.rHash).settleIndex, 2)
    }

    func testListInvoicesPaging() throws {
        let r = try openRegistry()
        var results = [AddInvoiceResult]()
        for i in 0..<10 {
            results.append(try add(r, msat: Int64(1000 * (i + 1))))
            clock.advance(10)
        }
        var q = InvoiceQuery()
        q.numMaxInvoices = 3
        var page = try r.listInvoices(q)
        XCTAssertEqual(page.invoices.map(\.addIndex), [1, 2, 3])
        XCTAssertEqual(page.firstIndexOffset, 1)
        XCTAssertEqual(page.lastIndexOffset, 3)
        q.indexOffset = page.lastIndexOffset
        page = try r.listInvoices(q)
        XCTAssertEqual(page.invoices.map(\.addIndex), [4, 5, 6])

        q = InvoiceQuery(); q.reversed = true; q.numMaxInvoices = 4
        page = try r.listInvoices(q)
        XCTAssertEqual(page.invoices.map(\.addIndex), [7, 8, 9, 10])
        XCTAssertEqual(page.firstIndexOffset, 7)
        q.indexOffset = page.firstIndexOffset
        page = try r.listInvoices(q)
        XCTAssertEqual(page.invoices.map(\.addIndex), [3, 4, 5, 6])

        // Default page size is 100; empty result has zero offsets.
        XCTAssertEqual(try r.listInvoices(InvoiceQuery()).invoices.count, 10)
        q = InvoiceQuery(); q.indexOffset = 10
        page = try r.listInvoices(q)
        XCTAssertEqual(page.invoices, [])
        XCTAssertEqual(page.firstIndexOffset, 0)
        XCTAssertEqual(page.lastIndexOffset, 0)

        // Creation dates are inclusive bounds.
        let t0 = try r.lookupInvoice(rHash: results[0].rHash).creationDate
        q = InvoiceQuery(); q.creationDateStart = UInt64(t0 + 20); q.creationDateEnd = UInt64(t0 + 40)
        XCTAssertEqual(try r.listInvoices(q).invoices.map(\.addIndex), [3, 4, 5])
        q.creationDateEnd = q.creationDateStart
        assertInvoiceError(try r.listInvoices(q), "start date(\(t0 + 20)) must be before end date(\(t0 + 20))")
    }

    func testPendingOnly() async throws {
        let r = try openRegistry()
        let a = try add(r, msat: 1000), b = try add(r, msat: 1000), c = try add(r, msat: 1000)
        guard case .settle = await pay(r, b, msat: 1000) else { return XCTFail() }
        try r.cancelInvoice(paymentHash: c.rHash)
        var q = InvoiceQuery()
        q.pendingOnly = true
        XCTAssertEqual(try r.listInvoices(q).invoices.map(\.rHash), [a.rHash])
        XCTAssertEqual(try r.lookupInvoice(rHash: c.rHash).state, .canceled)
    }

    func testSubscriptionBacklogAndLive() async throws {
        let r = try openRegistry()
        let a = try add(r, msat: 1000), b = try add(r, msat: 1000), c = try add(r, msat: 1000)
        guard case .settle = await pay(r, a, msat: 1000), case .settle = await pay(r, c, msat: 1000) else { return XCTFail() }

        // Resume after add_index 1 and settle_index 1: adds 2, 3 then the settle of c (index 2).
        let sub = try r.subscribeInvoices(addIndex: 1, settleIndex: 1)
        var it = sub.updates.makeAsyncIterator()
        var got = [(UInt64, UInt64, InvoiceState)]()
        for _ in 0..<3 { let inv = try await it.next()!; got.append((inv.addIndex, inv.settleIndex, inv.state)) }
        XCTAssertEqual(got.map(\.0), [2, 3, 3])
        XCTAssertEqual(got.map(\.1), [0, 2, 2])
        XCTAssertEqual(got[2].2, .settled)

        // Live: a new invoice, then the settle of b.
        let d = try add(r, msat: 5000)
        guard case .settle = await pay(r, b, msat: 1000) else { return XCTFail() }
        let live1 = try await it.next()!, live2 = try await it.next()!
        XCTAssertEqual(live1.rHash, d.rHash)
        XCTAssertEqual(live1.state, .open)
        XCTAssertEqual(live2.rHash, b.rHash)
        XCTAssertEqual(live2.state, .settled)
        XCTAssertEqual(live2.settleIndex, 3)
        sub.cancel()
        XCTAssertEqual(r.subscriberCount, 0)

        // add_index 0 / settle_index 0: no backlog, live only.
        let sub2 = try r.subscribeInvoices()
        let e = try add(r, msat: 1)
        var it2 = sub2.updates.makeAsyncIterator()
        let v1 = try await it2.next()?.rHash
        XCTAssertEqual(v1, e.rHash)
        sub2.cancel()
    }

    func testSlowSubscriberIsDroppedNotBufferedForever() async throws {
        let r = try openRegistry { $0.subscriberQueueLimit = 3 }
        let sub = try r.subscribeInvoices()
        for _ in 0..<5 { _ = try add(r) }
        XCTAssertEqual(r.subscriberCount, 0)
        var received = 0
        do {
            for try await _ in sub.updates { received += 1 }
            XCTFail("stream should end with an error")
        } catch {
            XCTAssertEqual(error as? InvoiceError, .subscriberTooSlow(limit: 3))
        }
        XCTAssertEqual(received, 3)
    }
}

/// `RegistryPersistenceTests`, unchanged, on the PostgreSQL invoice store (swift-corelibs-xctest runs only the
/// tests a class declares, so each is listed here, forwarding to the shared body).
final class PostgresRegistryPersistenceTests: RegistryPersistenceTests {
    override class var backend: InvoiceBackend { .postgres }

    override func testRestartKeepsInvoicesAndIndexes() async throws { try await super.testRestartKeepsInvoicesAndIndexes() }
    override func testListInvoicesPaging() throws { try super.testListInvoicesPaging() }
    override func testPendingOnly() async throws { try await super.testPendingOnly() }
    override func testSubscriptionBacklogAndLive() async throws { try await super.testSubscriptionBacklogAndLive() }
    override func testSlowSubscriberIsDroppedNotBufferedForever() async throws { try await super.testSlowSubscriberIsDroppedNotBufferedForever() }
}
