import Locks
import XCTest
import Foundation
import Crypto
@testable import Invoices

/// Hold invoices as LND's invoices sub-server serves them: what SubscribeSingleInvoice is built
/// on (watchers hear every state change; the current state read in order with them; the stream
/// sequence itself is tested in ServicesTests/SingleInvoiceFanoutTests), SettleInvoice's
/// idempotence and texts, and the height watcher that cancels held HTLCs before
/// they expire.
final class HoldInvoiceTests: RegistryTestCase {
    func htlc(_ res: AddInvoiceResult, msat: UInt64, expiry: UInt32 = 300, index: UInt64 = 0) -> IncomingHTLC {
        IncomingHTLC(paymentHash: res.rHash, amountMsat: msat, expiryHeight: expiry, chanID: 9, htlcIndex: index,
                     paymentAddr: res.paymentAddr, totalMsat: nil, customRecords: [:])
    }

    /// A `SingleInvoiceWatcher` that records every state change it hears.
    final class StateRecorder: SingleInvoiceWatcher, @unchecked Sendable {
        private let lock = Lock()
        private var heard: [(hash: [UInt8], state: InvoiceState)] = []
        func invoiceStateChanged(_ invoice: Invoice) {
            lock.lock(); defer { lock.unlock() }
            heard.append((invoice.rHash, invoice.state))
        }
        func states(of hash: [UInt8]) -> [InvoiceState] {
            lock.lock(); defer { lock.unlock() }
            return heard.filter { $0.hash == hash }.map(\.state)
        }
    }

    func current(_ r: InvoiceRegistry, _ hash: [UInt8]) throws -> InvoiceState? {
        var state: InvoiceState?
        try r.currentInvoice(paymentHash: hash) { state = $0?.state }
        return state
    }

    func testWatchersHearOpenAcceptedSettled() async throws {
        let r = try openRegistry()
        let watcher = StateRecorder()
        r.addSingleInvoiceWatcher(watcher)
        let preimage = [UInt8](repeating: 0x21, count: 32)
        let hash = SHA256.hash(preimage)
        XCTAssertNil(try current(r, hash), "an unknown hash has no current state (not an error)")
        let res = try add(r, msat: 5000, hold: hash)
        XCTAssertEqual(try current(r, hash), .open)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { results.put(0, $0) }
        XCTAssertEqual(results.count, 0, "a hold invoice holds the HTLC")
        let accepted = try r.lookupInvoice(rHash: hash)
        XCTAssertEqual(accepted.state, .accepted)
        XCTAssertEqual(accepted.amtPaidMsat, 5000)
        XCTAssertNil(accepted.rPreimage)
        XCTAssertEqual(try current(r, hash), .accepted)
        try r.settleInvoice(preimage: preimage)
        XCTAssertEqual(results.get(0), .settle(preimage: preimage))
        XCTAssertEqual(watcher.states(of: hash), [.open, .accepted, .settled])
        XCTAssertEqual(try current(r, hash), .settled)
        // Settling again succeeds and changes nothing (LND swallows ErrInvoiceAlreadySettled).
        try r.settleInvoice(preimage: preimage)
        XCTAssertEqual(try r.lookupInvoice(rHash: hash).settleIndex, 1)
        XCTAssertEqual(watcher.states(of: hash), [.open, .accepted, .settled], "no change, nothing heard")
        assertInvoiceError(try current(r, [1, 2, 3]) as Any, "payment hash must be exactly 32 bytes, is instead 3")
    }

    func testCancelOfAnAcceptedHoldInvoiceFailsTheHTLCAndIsHeard() async throws {
        let r = try openRegistry()
        let watcher = StateRecorder()
        r.addSingleInvoiceWatcher(watcher)
        let hash = SHA256.hash([UInt8](repeating: 0x22, count: 32))
        let res = try add(r, msat: 5000, hold: hash)
        let results = Results()
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { results.put(0, $0) }
        try r.cancelInvoice(paymentHash: hash)
        XCTAssertEqual(results.get(0), .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails, htlcMsat: 5000, height: 100)))
        XCTAssertEqual(watcher.states(of: hash), [.open, .accepted, .canceled])
        try r.cancelInvoice(paymentHash: hash) // idempotent
        XCTAssertEqual(watcher.states(of: hash), [.open, .accepted, .canceled])
        assertInvoiceError(try r.settleInvoice(preimage: [UInt8](repeating: 0x22, count: 32)), "invoice already canceled")
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

    func testSubscribeInvoicesSeesNoAcceptedOrCanceled() async throws {
        let r = try openRegistry()
        let watcher = StateRecorder()
        r.addSingleInvoiceWatcher(watcher)
        let hash = SHA256.hash([UInt8](repeating: 0x26, count: 32))
        let all = try r.subscribeInvoices()
        let res = try add(r, msat: 5000, hold: hash)
        r.acceptHTLC(htlc(res, msat: 5000), currentHeight: 100) { _ in }
        try r.cancelInvoice(paymentHash: hash)
        all.cancel()
        var allStates: [InvoiceState] = []
        for try await inv in all.updates { allStates.append(inv.state) }
        XCTAssertEqual(allStates, [.open], "SubscribeInvoices hears only adds and settles")
        XCTAssertEqual(watcher.states(of: hash), [.open, .accepted, .canceled], "single-invoice watchers hear every state")
        XCTAssertEqual(watcher.states(of: SHA256.hash([UInt8](repeating: 0x27, count: 32))), [])
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
