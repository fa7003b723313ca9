import Foundation
import XCTest
import BOLT11
import Crypto
import Invoices
import Payments
import RPCCore
@testable import Services

/// `SingleInvoiceFanout`: the SubscribeSingleInvoice streams of one loop behind one registry
/// watcher, each with LND's sequence (current state, then every change, end after a final state),
/// bounded while its client does not read. A real invoice registry over a real SQLite file; the
/// sinks record what a stream would have been sent (the test encoder writes the state's number).
final class SingleInvoiceFanoutTests: XCTestCase {
    typealias Sink = PaymentFanoutTests.RecordingSink
    typealias Group = SingleInvoiceFanout<Sink>

    var dir: URL!
    var registry: InvoiceRegistry!
    var group: Group!
    /// How many times the group asked to be drained.
    var wakes = 0
    let tooSlow = GRPCStatus(.unknown, "too slow")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-single-invoice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = try PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 32))
        registry = try InvoiceRegistry(path: dir.appendingPathComponent("invoices.sqlite").path,
                                       configuration: .init(currency: .bitcoinTestnet, nodeKey: key))
        let counter = WakeCounter()
        group = Group(wake: { _ in counter.count += 1 }, encode: { EncodedMessage(message: [UInt8($0.state.rawValue)]) },
                      tooSlow: tooSlow)
        self.counter = counter
        registry.addSingleInvoiceWatcher(group)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    final class WakeCounter: @unchecked Sendable { var count = 0 }
    var counter: WakeCounter!

    /// The states a sink was sent, by name.
    func states(_ sink: Sink) -> [InvoiceState] { sink.versions.map { InvoiceState(rawValue: Int32($0))! } }

    /// What `InvoicesService.subscribeSingleInvoice` does: join, then read the current state.
    @discardableResult
    func subscribe(_ sink: Sink, _ hash: [UInt8]) throws -> Group.Slot {
        let slot = group.join(sink, hash: PaymentHash(hash)!)
        try registry.currentInvoice(paymentHash: hash) { [group] in group!.post(.current(slot, $0)) }
        return slot
    }

    func addHold(_ hash: [UInt8], msat: Int64 = 5000) throws -> AddInvoiceResult {
        var req = AddInvoiceRequest()
        req.valueMsat = msat
        req.holdPaymentHash = hash
        return try registry.addInvoice(req)
    }

    func accept(_ res: AddInvoiceResult, msat: UInt64 = 5000) {
        registry.acceptHTLC(IncomingHTLC(paymentHash: res.rHash, amountMsat: msat, expiryHeight: 300, chanID: 9,
                                         htlcIndex: 0, paymentAddr: res.paymentAddr, totalMsat: nil, customRecords: [:]),
                            currentHeight: 100) { _ in }
    }

    func testEarlyAndLateStreamsSeeTheSequenceThenEnd() throws {
        let preimage = [UInt8](repeating: 0x31, count: 32)
        let hash = SHA256.hash(preimage)
        let early = Sink(), late = Sink(), other = Sink()
        try subscribe(early, hash)               // before the invoice exists: waits
        try subscribe(other, SHA256.hash([UInt8](repeating: 0x32, count: 32)))
        group.drain()
        XCTAssertEqual(states(early), [], "an unknown hash is not an error: nothing yet")
        let res = try addHold(hash)
        try subscribe(late, hash)                // after: OPEN is its current state
        group.drain()
        XCTAssertEqual(states(early), [.open])
        XCTAssertEqual(states(late), [.open])
        accept(res)
        try registry.settleInvoice(preimage: preimage)
        group.drain()
        XCTAssertEqual(states(early), [.open, .accepted, .settled])
        XCTAssertEqual(states(late), [.open, .accepted, .settled])
        XCTAssertEqual(early.status, .ok)
        XCTAssertEqual(late.status, .ok)
        XCTAssertEqual(states(other), [])
        XCTAssertNil(other.status)
        XCTAssertEqual(group.count, 1, "the finished streams left the group")
        // A stream on a settled invoice gets exactly that state and ends.
        let after = Sink()
        try subscribe(after, hash)
        group.drain()
        XCTAssertEqual(states(after), [.settled])
        XCTAssertEqual(after.status, .ok)
        XCTAssertEqual(group.count, 1)
    }

    func testChangesBeforeTheCurrentStateAreNotSentTwice() throws {
        let hash = SHA256.hash([UInt8](repeating: 0x33, count: 32))
        let sink = Sink()
        // Joined, then the invoice is added before the current state is read: the change is
        // queued first (OPEN), then the current state (OPEN): the stream gets OPEN once.
        let slot = group.join(sink, hash: PaymentHash(hash)!)
        let res = try addHold(hash)
        try registry.currentInvoice(paymentHash: hash) { [group] in group!.post(.current(slot, $0)) }
        accept(res)
        group.drain()
        XCTAssertEqual(states(sink), [.open, .accepted])
        try registry.cancelInvoice(paymentHash: hash)
        group.drain()
        XCTAssertEqual(states(sink), [.open, .accepted, .canceled])
        XCTAssertEqual(sink.status, .ok)
    }

    func testOneWakeUpPerBurstAndUnwatchedChangesWakeNothing() throws {
        let hash = SHA256.hash([UInt8](repeating: 0x34, count: 32))
        _ = try addHold(SHA256.hash([UInt8](repeating: 0x35, count: 32)))
        XCTAssertEqual(counter.count, 0, "no stream watches that invoice")
        let a = Sink(), b = Sink()
        try subscribe(a, hash)
        try subscribe(b, hash)
        _ = try addHold(hash)
        XCTAssertEqual(counter.count, 1, "three events, one drain queued")
        group.drain()
        XCTAssertEqual(states(a), [.open])
        XCTAssertEqual(states(b), [.open])
    }

    func testALeavingStreamGetsNothingAndTheOthersStillDo() throws {
        let hash = SHA256.hash([UInt8](repeating: 0x36, count: 32))
        let sinks = (0..<3).map { _ in Sink() }
        let slots = try sinks.map { try subscribe($0, hash) }
        group.drain()
        group.leave(slots[1])                  // the middle of the hash's list
        group.leave(slots[1])                  // twice: no effect
        _ = try addHold(hash)
        group.drain()
        XCTAssertEqual(states(sinks[0]), [.open])
        XCTAssertEqual(states(sinks[1]), [])
        XCTAssertEqual(states(sinks[2]), [.open])
        XCTAssertEqual(group.count, 2)
        // The freed slot is reused; the old slot's leave does not touch the new member.
        let newcomer = Sink()
        try subscribe(newcomer, hash)
        group.leave(slots[1])
        try registry.cancelInvoice(paymentHash: hash)
        group.drain()
        XCTAssertEqual(states(newcomer), [.open, .canceled])
        XCTAssertEqual(states(sinks[0]), [.open, .canceled])
        XCTAssertEqual(group.count, 0)
    }

    func testAFullStreamGetsItsStatesInOrderWhenItDrains() throws {
        let preimage = [UInt8](repeating: 0x37, count: 32)
        let hash = SHA256.hash(preimage)
        let res = try addHold(hash)
        let sink = Sink()
        sink.writable = false
        try subscribe(sink, hash)
        accept(res)
        try registry.settleInvoice(preimage: preimage)
        group.drain()
        XCTAssertEqual(states(sink), [], "held while full")
        sink.drainAndNotify()
        XCTAssertEqual(states(sink), [.open, .accepted, .settled])
        XCTAssertEqual(sink.status, .ok)
        XCTAssertEqual(group.count, 0)
    }

    func testAStreamThatNeverReadsIsEndedPastTheBound() throws {
        let hash = SHA256.hash([UInt8](repeating: 0x38, count: 32))
        _ = try addHold(hash)
        let sink = Sink()
        sink.writable = false
        try subscribe(sink, hash)
        group.drain()
        // More changes than LND's state machine makes, offered directly.
        let open = try registry.lookupInvoice(rHash: hash)
        for _ in 0..<InvoiceRegistry.singleSubscriberQueueLimit { group.invoiceStateChanged(open) }
        group.drain()
        XCTAssertEqual(sink.status, tooSlow)
        XCTAssertEqual(group.count, 0)
        sink.drainAndNotify()
        XCTAssertEqual(states(sink), [], "nothing is sent after the stream ended")
    }

    func testAFailedReadEndsTheStreamWithItsStatus() throws {
        let sink = Sink()
        let slot = group.join(sink, hash: PaymentHash([UInt8](repeating: 0x39, count: 32))!)
        group.post(.failed(slot, GRPCStatus(.unknown, "disk on fire")))
        group.drain()
        XCTAssertEqual(sink.status, GRPCStatus(.unknown, "disk on fire"))
        XCTAssertEqual(group.count, 0)
    }
}
