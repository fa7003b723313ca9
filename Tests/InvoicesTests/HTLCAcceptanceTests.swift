import Locks
import XCTest
import Crypto
import BOLT11
@testable import Invoices

class HTLCAcceptanceTests: RegistryTestCase {
    func htlc(_ res: AddInvoiceResult, msat: UInt64, total: UInt64? = nil, expiry: UInt32 = 300,
              index: UInt64 = 0, addr: [UInt8]? = nil) -> IncomingHTLC {
        IncomingHTLC(paymentHash: res.rHash, amountMsat: msat, expiryHeight: expiry, chanID: 7, htlcIndex: index,
                     paymentAddr: addr ?? res.paymentAddr, totalMsat: total, customRecords: [65_537: [1, 2]])
    }

    func incorrect(_ msat: UInt64, _ height: UInt32 = 100) -> HTLCResolution {
        .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails, htlcMsat: msat, height: height))
    }

    func testSinglePartSettlesAndRecordsTheHTLC() async throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 3, count: 32)
        let res = try add(r, msat: 10_000, preimage: preimage)
        clock.advance(5)
        let out = await r.acceptHTLC(htlc(res, msat: 10_500), currentHeight: 100)
        XCTAssertEqual(out, .settle(preimage: preimage))
        let inv = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(inv.state, .settled)
        XCTAssertEqual(inv.amtPaidMsat, 10_500)
        XCTAssertEqual(inv.amtPaidSat, 10)
        XCTAssertEqual(inv.settleDate, clock.now)
        XCTAssertEqual(inv.settleIndex, 1)
        XCTAssertEqual(inv.htlcs, [InvoiceHTLC(chanID: 7, htlcIndex: 0, amtMsat: 10_500, acceptHeight: 100,
                                               acceptTime: clock.now, resolveTime: clock.now, expiryHeight: 300,
                                               state: .settled, customRecords: [65_537: [1, 2]], mppTotalAmtMsat: 10_500)])
        // A second, different HTLC for a settled invoice fails; the same circuit replays the settle.
        let again = await r.acceptHTLC(htlc(res, msat: 10_000, index: 1), currentHeight: 101)
        XCTAssertEqual(again, incorrect(10_000, 101))
        let v1 = await r.acceptHTLC(htlc(res, msat: 10_500), currentHeight: 101)
        XCTAssertEqual(v1, .settle(preimage: preimage))
    }

    func testRejections() async throws {
        let r = try openRegistry()
        let res = try add(r, msat: 10_000)
        // Unknown hash.
        var unknown = htlc(res, msat: 10_000)
        unknown.paymentHash = [UInt8](repeating: 0xee, count: 32)
        let v2 = await r.acceptHTLC(unknown, currentHeight: 100)
        XCTAssertEqual(v2, incorrect(10_000))
        // Wrong or missing payment_addr.
        let v3 = await r.acceptHTLC(htlc(res, msat: 10_000, addr: [UInt8](repeating: 0, count: 32)), currentHeight: 100)
        XCTAssertEqual(v3, incorrect(10_000))
        var noAddr = htlc(res, msat: 10_000)
        noAddr.paymentAddr = nil
        let v4 = await r.acceptHTLC(noAddr, currentHeight: 100)
        XCTAssertEqual(v4, incorrect(10_000))
        // Underpayment.
        let v5 = await r.acceptHTLC(htlc(res, msat: 9_999), currentHeight: 100)
        XCTAssertEqual(v5, incorrect(9_999))
        // CLTV too close: expiry must be >= height + 80.
        let v6 = await r.acceptHTLC(htlc(res, msat: 10_000, expiry: 179), currentHeight: 100)
        XCTAssertEqual(v6, incorrect(10_000))
        XCTAssertEqual(try r.lookupInvoice(rHash: res.rHash).state, .open)
        XCTAssertEqual(try r.lookupInvoice(rHash: res.rHash).htlcs, [])
        // Exactly at the limit is fine.
        guard case .settle = await r.acceptHTLC(htlc(res, msat: 10_000, expiry: 180), currentHeight: 100) else { return XCTFail() }
    }

    func testExpiredInvoiceCannotBeSettled() async throws {
        let r = try openRegistry()
        let res = try add(r, msat: 1000, expiry: 60)
        clock.advance(61)
        let v7 = await r.acceptHTLC(htlc(res, msat: 1000), currentHeight: 100)
        XCTAssertEqual(v7, incorrect(1000))
        XCTAssertEqual(try r.lookupInvoice(rHash: res.rHash).state, .canceled)
    }

    func testMPPHoldsPartsUntilTheTotalArrives() async throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 5, count: 32)
        let res = try add(r, msat: 30_000, preimage: preimage)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 10_000, total: 30_000, index: 1), currentHeight: 100) { results.put(1, $0) }
        r.acceptHTLC(htlc(res, msat: 10_000, total: 30_000, index: 2), currentHeight: 100) { results.put(2, $0) }
        XCTAssertEqual(results.count, 0)
        var inv = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(inv.state, .open)
        XCTAssertEqual(inv.htlcs.map(\.state), [.accepted, .accepted])
        // A part with a different total is refused.
        r.acceptHTLC(htlc(res, msat: 10_000, total: 40_000, index: 9), currentHeight: 100) { results.put(9, $0) }
        XCTAssertEqual(results.get(9), incorrect(10_000))
        r.acceptHTLC(htlc(res, msat: 10_000, total: 30_000, index: 3), currentHeight: 100) { results.put(3, $0) }
        for i: UInt64 in [1, 2, 3] { XCTAssertEqual(results.get(i), .settle(preimage: preimage)) }
        inv = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(inv.state, .settled)
        XCTAssertEqual(inv.amtPaidMsat, 30_000)
        XCTAssertEqual(inv.htlcs.map(\.state), [.settled, .settled, .settled])
        XCTAssertEqual(inv.htlcs.map(\.mppTotalAmtMsat), [30_000, 30_000, 30_000])
    }

    func testMPPTimeoutFailsHeldParts() async throws {
        let r = try openRegistry()
        let res = try add(r, msat: 30_000)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 10_000, total: 30_000, index: 1), currentHeight: 100) { results.put(1, $0) }
        clock.advance(119)
        XCTAssertEqual(r.expireTimedOutHTLCSets(), 0)
        clock.advance(1)
        XCTAssertEqual(r.expireTimedOutHTLCSets(), 1)
        XCTAssertEqual(results.get(1), .fail(HTLCFailResolution(code: .mppTimeout, htlcMsat: 10_000, height: 100)))
        let inv = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(inv.state, .open)
        XCTAssertEqual(inv.htlcs.map(\.state), [.canceled])
        XCTAssertEqual(HTLCFailResolution.Code.mppTimeout.wireCode, 23)
        XCTAssertEqual(HTLCFailResolution.Code.incorrectOrUnknownPaymentDetails.wireCode, 0x400f)
        for c in [HTLCFailResolution.Code.incorrectOrUnknownPaymentDetails, .mppTimeout] {
            XCTAssertEqual(c.failureCode.rawValue, c.rawValue, "the subset keeps the shared lnrpc numbering")
            XCTAssertEqual(c.failureCode.wireCode, c.wireCode)
        }
        // The invoice can still be paid afterwards.
        guard case .settle = await r.acceptHTLC(htlc(res, msat: 30_000, index: 2), currentHeight: 100) else { return XCTFail() }
    }

    func testHoldInvoiceAcceptedThenSettledOrCanceled() async throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 8, count: 32)
        let res = try add(r, msat: 1000, hold: SHA256.hash(preimage))
        let results = Results()
        assertInvoiceError(try r.settleInvoice(preimage: preimage), "invoice still open")
        r.acceptHTLC(htlc(res, msat: 1000), currentHeight: 100) { results.put(0, $0) }
        XCTAssertEqual(results.count, 0)
        XCTAssertEqual(try r.lookupInvoice(rHash: res.rHash).state, .accepted)
        try r.settleInvoice(preimage: preimage)
        XCTAssertEqual(results.get(0), .settle(preimage: preimage))
        let inv = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(inv.state, .settled)
        XCTAssertEqual(inv.rPreimage, preimage)
        try r.settleInvoice(preimage: preimage) // idempotent, as LND's SettleHodlInvoice
        assertInvoiceError(try r.cancelInvoice(paymentHash: res.rHash), "invoice already settled")

        let p2 = [UInt8](repeating: 9, count: 32)
        let res2 = try add(r, msat: 1000, hold: SHA256.hash(p2))
        r.acceptHTLC(htlc(res2, msat: 1000), currentHeight: 100) { results.put(1, $0) }
        try r.cancelInvoice(paymentHash: res2.rHash)
        XCTAssertEqual(results.get(1), incorrect(1000))
        XCTAssertEqual(try r.lookupInvoice(rHash: res2.rHash).state, .canceled)
        XCTAssertEqual(try r.lookupInvoice(rHash: res2.rHash).htlcs.map(\.state), [.canceled])
        assertInvoiceError(try r.settleInvoice(preimage: p2), "invoice already canceled")
    }

    func testKeysendCreatesASettledInvoice() async throws {
        let preimage = [UInt8](repeating: 4, count: 32)
        let hash = SHA256.hash(preimage)
        let send = IncomingHTLC(paymentHash: hash, amountMsat: 5000, expiryHeight: 140, chanID: 1, htlcIndex: 1,
                                customRecords: [IncomingHTLC.keysendRecordType: preimage, 70_000: [9]])
        let off = try openRegistry(path: dir.appendingPathComponent("off.sqlite").path)
        let v8 = await off.acceptHTLC(send, currentHeight: 100)
        XCTAssertEqual(v8, incorrect(5000))

        let r = try openRegistry { $0.acceptKeysend = true }
        let sub = try r.subscribeInvoices()
        let v9 = await r.acceptHTLC(send, currentHeight: 100)
        XCTAssertEqual(v9, .settle(preimage: preimage))
        let inv = try r.lookupInvoice(rHash: hash)
        XCTAssertTrue(inv.isKeysend)
        XCTAssertEqual(inv.state, .settled)
        XCTAssertEqual(inv.valueMsat, 5000)
        XCTAssertEqual(inv.amtPaidMsat, 5000)
        XCTAssertEqual(inv.rPreimage, preimage)
        XCTAssertEqual(inv.paymentRequest, "")
        XCTAssertEqual(inv.htlcs.first?.customRecords[70_000], [9])
        var it = sub.updates.makeAsyncIterator()
        let v10 = try await it.next()?.state
        XCTAssertEqual(v10, .open)
        let v11 = try await it.next()?.state
        XCTAssertEqual(v11, .settled)
        // A keysend whose preimage does not match the hash is refused.
        var bad = send
        bad.paymentHash = [UInt8](repeating: 1, count: 32)
        let v12 = await r.acceptHTLC(bad, currentHeight: 100)
        XCTAssertEqual(v12, incorrect(5000))
    }

    func testIncompleteSetIsCanceledAfterRestart() async throws {
        var r: InvoiceRegistry? = try openRegistry()
        let res = try add(r!, msat: 2000)
        r!.acceptHTLC(htlc(res, msat: 1000, total: 2000), currentHeight: 100) { _ in }
        XCTAssertEqual(try r!.lookupInvoice(rHash: res.rHash).htlcs.map(\.state), [.accepted])
        r = nil
        let reopened = try openRegistry()
        XCTAssertEqual(try reopened.lookupInvoice(rHash: res.rHash).htlcs.map(\.state), [.canceled])
        XCTAssertEqual(try reopened.lookupInvoice(rHash: res.rHash).state, .open)
    }
}

/// Collects callback resolutions by HTLC index.
final class Results: @unchecked Sendable {
    private let lock = Lock()
    private var values: [UInt64: HTLCResolution] = [:]
    func put(_ i: UInt64, _ r: HTLCResolution) { lock.lock(); values[i] = r; lock.unlock() }
    func get(_ i: UInt64) -> HTLCResolution? { lock.lock(); defer { lock.unlock() }; return values[i] }
    var count: Int { lock.lock(); defer { lock.unlock() }; return values.count }
}

/// `HTLCAcceptanceTests`, unchanged, on the PostgreSQL invoice store (swift-corelibs-xctest runs only the
/// tests a class declares, so each is listed here, forwarding to the shared body).
final class PostgresHTLCAcceptanceTests: HTLCAcceptanceTests {
    override class var backend: InvoiceBackend { .postgres }

    override func testSinglePartSettlesAndRecordsTheHTLC() async throws { try await super.testSinglePartSettlesAndRecordsTheHTLC() }
    override func testRejections() async throws { try await super.testRejections() }
    override func testExpiredInvoiceCannotBeSettled() async throws { try await super.testExpiredInvoiceCannotBeSettled() }
    override func testMPPHoldsPartsUntilTheTotalArrives() async throws { try await super.testMPPHoldsPartsUntilTheTotalArrives() }
    override func testMPPTimeoutFailsHeldParts() async throws { try await super.testMPPTimeoutFailsHeldParts() }
    override func testHoldInvoiceAcceptedThenSettledOrCanceled() async throws { try await super.testHoldInvoiceAcceptedThenSettledOrCanceled() }
    override func testKeysendCreatesASettledInvoice() async throws { try await super.testKeysendCreatesASettledInvoice() }
    override func testIncompleteSetIsCanceledAfterRestart() async throws { try await super.testIncompleteSetIsCanceledAfterRestart() }
}
