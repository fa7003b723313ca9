import XCTest
import Crypto
@testable import Invoices

/// Hold invoices as LND's invoices sub-server serves them: SubscribeSingleInvoice's sequence,
/// SettleInvoice's idempotence and texts, and the height watcher that cancels held HTLCs before
/// they expire.
final class HoldInvoiceTests: RegistryTestCase {
    func htlc(_ res: AddInvoiceResult, msat: UInt64, expiry: UInt32 = 300, index: UInt64 = 0) -> IncomingHTLC {
        IncomingHTLC(paymentHash: res.rHash, amountMsat: msat, expiryHeight: expiry, chanID: 9, htlcIndex: index,
                     paymentAddr: res.paymentAddr, totalMsat: nil, customRecords: [:])
    }

    /// Takes what a subscription has queued (every test here drives the invoice to a final
    /// state, or cancels the subscription, first) and checks it is then finished.
    func drain(_ sub: SingleInvoiceSubscription, file: StaticString = #filePath, line: UInt = #line) -> [InvoiceState] {
        var states: [InvoiceState] = []
        while let inv = sub.poll() { states.append(inv.state) }
        XCTAssertTrue(sub.isFinished, "subscription not finished", file: file, line: line)
        return states
    }

    func testSingleSubscriberSeesOpenAcceptedSettledThenTheStreamEnds() async throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 0x21, count: 32)
        let hash = SHA256.hash(preimage)
        // Subscribed before the invoice exists: nothing yet, then OPEN on creation.
        let early = try r.subscribeSingleInvoice(paymentHash: hash)
        let res = try add(r, msat: 5000, hold: hash)
        let late = try r.subscribeSingleInvoice(paymentHash: hash)
        XCTAssertEqual(r.singleSubscriberCount, 2)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { results.put(0, $0) }
        XCTAssertEqual(results.count, 0, "a hold invoice holds the HTLC")
        let accepted = try r.lookupInvoice(rHash: hash)
        XCTAssertEqual(accepted.state, .accepted)
        XCTAssertEqual(accepted.amtPaidMsat, 5000)
        XCTAssertNil(accepted.rPreimage)
        try r.settleInvoice(preimage: preimage)
        XCTAssertEqual(results.get(0), .settle(preimage: preimage))
        let earlyStates = drain(early)
        let lateStates = drain(late)
        XCTAssertEqual(earlyStates, [.open, .accepted, .settled])
        XCTAssertEqual(lateStates, [.open, .accepted, .settled])
        XCTAssertEqual(r.singleSubscriberCount, 0)
        // A subscription to a settled invoice gets exactly that one message.
        let after = drain(try r.subscribeSingleInvoice(paymentHash: hash))
        XCTAssertEqual(after, [.settled])
        // Settling again succeeds and changes nothing (LND swallows ErrInvoiceAlreadySettled).
        try r.settleInvoice(preimage: preimage)
        XCTAssertEqual(try r.lookupInvoice(rHash: hash).settleIndex, 1)
    }

    func testCancelOfAnAcceptedHoldInvoiceFailsTheHTLCAndEndsTheSubscription() async throws {
        let r = try openRegistry()
        let hash = SHA256.hash([UInt8](repeating: 0x22, count: 32))
        let res = try add(r, msat: 5000, hold: hash)
        let sub = try r.subscribeSingleInvoice(paymentHash: hash)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { results.put(0, $0) }
        try r.cancelInvoice(paymentHash: hash)
        XCTAssertEqual(results.get(0), .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 5000, height: 100)))
        let states = drain(sub)
        XCTAssertEqual(states, [.open, .accepted, .canceled])
        try r.cancelInvoice(paymentHash: hash) // idempotent
        assertInvoiceError(try r.settleInvoice(preimage: [UInt8](repeating: 0x22, count: 32)), "invoice already canceled")
    }

    /// The wake-up runs when a state arrives in an empty queue (and at once if one is waiting);
    /// a subscriber that never reads is dropped past its bound, with `subscriberTooSlow`.
    func testWakeupAndBound() throws {
        let r = try openRegistry()
        let hash = SHA256.hash([UInt8](repeating: 0x2a, count: 32))
        let sub = try r.subscribeSingleInvoice(paymentHash: hash)
        let wakes = Results()
        sub.setWakeup { wakes.put(UInt64(wakes.count), .settle(preimage: [])) }
        XCTAssertEqual(wakes.count, 0, "nothing waiting yet")
        _ = try add(r, msat: 1000, hold: hash)
        XCTAssertEqual(wakes.count, 1)
        XCTAssertEqual(sub.poll()?.state, .open)
        XCTAssertNil(sub.poll())
        XCTAssertFalse(sub.isFinished)
        sub.cancel()
        XCTAssertTrue(sub.isFinished)
        XCTAssertEqual(r.singleSubscriberCount, 0)
        // Bound: an invoice that changes state more often than a subscriber reads (not a case LND's
        // state machine produces; offered directly).
        let slow = try r.subscribeSingleInvoice(paymentHash: hash)
        let inv = try r.lookupInvoice(rHash: hash)
        var kept = true
        for _ in 0..<20 where kept { kept = slow.offer(inv, limit: InvoiceRegistry.singleSubscriberQueueLimit) }
        XCTAssertFalse(kept)
        XCTAssertNil(slow.poll())
        XCTAssertTrue(slow.isFinished)
        XCTAssertEqual(slow.failure?.description, "invoice subscriber fell more than 8 updates behind")
    }

    func testSettleTexts() throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 0x23, count: 32)
        _ = try add(r, msat: 5000, hold: SHA256.hash(preimage))
        assertInvoiceError(try r.settleInvoice(preimage: [1, 2]), "invalid preimage length of 2, want 32")
        assertInvoiceError(try r.settleInvoice(preimage: [UInt8](repeating: 0x24, count: 32)), "unable to locate invoice", code: 5)
        assertInvoiceError(try r.settleInvoice(preimage: preimage), "invoice still open")
        // A regular invoice is OPEN too until paid: the same text.
        let regular = [UInt8](repeating: 0x25, count: 32)
        _ = try add(r, msat: 5000, preimage: regular)
        assertInvoiceError(try r.settleInvoice(preimage: regular), "invoice still open")
    }

    func testSubscribersOfOtherInvoicesAndSubscribeInvoicesSeeNoAcceptedOrCanceled() async throws {
        let r = try openRegistry()
        let hash = SHA256.hash([UInt8](repeating: 0x26, count: 32))
        let other = try r.subscribeSingleInvoice(paymentHash: SHA256.hash([UInt8](repeating: 0x27, count: 32)))
        let all = try r.subscribeInvoices()
        let res = try add(r, msat: 5000, hold: hash)
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { _ in }
        try r.cancelInvoice(paymentHash: hash)
        all.cancel()
        var allStates: [InvoiceState] = []
        for try await inv in all.updates { allStates.append(inv.state) }
        XCTAssertEqual(allStates, [.open], "SubscribeInvoices hears only adds and settles")
        other.cancel()
        let otherStates = drain(other)
        XCTAssertEqual(otherStates, [])
        XCTAssertEqual(r.singleSubscriberCount, 0)
    }

    func testHeightWatcherCancelsAnAcceptedHoldInvoiceBeforeItsHTLCExpires() throws {
        let r = try openRegistry()
        let hash = SHA256.hash([UInt8](repeating: 0x28, count: 32))
        let res = try add(r, msat: 5000, hold: hash)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 5000, expiry: 300), currentHeight: 100) { results.put(0, $0) }
        // Regular and OPEN invoices are not watched.
        _ = try add(r, msat: 1000, preimage: [UInt8](repeating: 0x29, count: 32))
        XCTAssertEqual(r.cancelExpiringHoldInvoices(height: 281), 0, "281 + 18 < 300")
        XCTAssertEqual(results.count, 0)
        XCTAssertEqual(r.cancelExpiringHoldInvoices(height: 282), 1, "282 + 18 >= 300")
        XCTAssertEqual(results.get(0), .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 5000, height: 282)))
        XCTAssertEqual(try r.lookupInvoice(rHash: hash).state, .canceled)
        XCTAssertEqual(r.cancelExpiringHoldInvoices(height: 400), 0)
    }

    func testLookupByPaymentAddr() throws {
        let r = try openRegistry()
        assertInvoiceError(try r.lookupInvoice(paymentAddr: [UInt8](repeating: 1, count: 32)), "there are no existing invoices", code: 5)
        let res = try add(r, msat: 5000)
        XCTAssertEqual(try r.lookupInvoice(paymentAddr: res.paymentAddr).rHash, res.rHash)
        assertInvoiceError(try r.lookupInvoice(paymentAddr: [1]), "unable to locate invoice", code: 5)
    }
}

/// Restart of a registry holding an ACCEPTED hold invoice: the simulated HTLCs are gone, so the
/// invoice is OPEN again (its HTLCs canceled) and a new HTLC can be accepted and settled.
final class HoldInvoiceRestartTests: RegistryTestCase {
    func testAcceptedHoldInvoiceIsOpenAgainAfterARestart() async throws {
        let preimage = [UInt8](repeating: 0x31, count: 32)
        let hash = SHA256.hash(preimage)
        let res: AddInvoiceResult
        do {
            let r = try openRegistry()
            res = try add(r, msat: 2000, hold: hash)
            r.acceptHTLC(IncomingHTLC(paymentHash: hash, amountMsat: 2000, expiryHeight: 300, chanID: 1, htlcIndex: 1,
                                      paymentAddr: res.paymentAddr, totalMsat: nil, customRecords: [:]), currentHeight: 100) { _ in }
            XCTAssertEqual(try r.lookupInvoice(rHash: hash).state, .accepted)
        }
        let again = try openRegistry()
        let inv = try again.lookupInvoice(rHash: hash)
        XCTAssertEqual(inv.state, .open)
        XCTAssertEqual(inv.amtPaidMsat, 0)
        XCTAssertEqual(inv.htlcs.map(\.state), [.canceled])
        assertInvoiceError(try again.settleInvoice(preimage: preimage), "invoice still open")
        let results = Results()
        again.acceptHTLC(IncomingHTLC(paymentHash: hash, amountMsat: 2000, expiryHeight: 300, chanID: 1, htlcIndex: 2,
                                      paymentAddr: res.paymentAddr, totalMsat: nil, customRecords: [:]), currentHeight: 100) { results.put(2, $0) }
        XCTAssertEqual(try again.lookupInvoice(rHash: hash).state, .accepted)
        try again.settleInvoice(preimage: preimage)
        XCTAssertEqual(results.get(2), .settle(preimage: preimage))
    }
}
