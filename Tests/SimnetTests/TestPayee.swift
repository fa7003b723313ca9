import Crypto
import Routing
import Simnet

/// Test-only payee: knows invoices (hash → preimage, amount), holds MPP parts until the set
/// reaches the total, fails unknown hashes and underpayments with
/// INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS. (The product's handler is the invoice registry.)
actor TestPayee: PayeeHandler {
    struct Invoice { let preimage: [UInt8]; let amountMsat: UInt64 }
    private var invoices: [[UInt8]: Invoice] = [:]
    private var held: [[UInt8]: [(amount: UInt64, resume: CheckedContinuation<PayeeDecision, Never>)]] = [:]
    private(set) var received: [PayeeHTLC] = []
    /// When set, every HTLC is held until `releaseHeld()`.
    var holdAll = false
    private var parked: [CheckedContinuation<Void, Never>] = []

    /// Adds an invoice and returns its payment hash.
    func addInvoice(preimage: [UInt8], amountMsat: UInt64) -> [UInt8] {
        let hash = SHA256.hash(preimage)
        invoices[hash] = Invoice(preimage: preimage, amountMsat: amountMsat)
        return hash
    }

    func setHoldAll(_ v: Bool) { holdAll = v }
    func heldCount() -> Int { parked.count }
    func releaseHeld() { let p = parked; parked = []; for c in p { c.resume() } }

    func handle(_ htlc: PayeeHTLC) async -> PayeeDecision {
        received.append(htlc)
        if holdAll { await withCheckedContinuation { parked.append($0) } }
        let fail = PayeeDecision.fail(.incorrectOrUnknownPaymentDetails(htlcMsat: htlc.amountMsat, height: htlc.currentHeight))
        if let keysend = htlc.payload.customRecords[SourceRoute.keysendRecordType], SHA256.hash(keysend) == htlc.paymentHash {
            return .settle(preimage: keysend)
        }
        guard let inv = invoices[htlc.paymentHash] else { return fail }
        if htlc.payload.totalAmountMsat < inv.amountMsat { return fail }
        if htlc.payload.totalAmountMsat == htlc.payload.amountMsat { return .settle(preimage: inv.preimage) }
        // MPP: hold until the parts add up to the total.
        return await withCheckedContinuation { c in
            held[htlc.paymentHash, default: []].append((htlc.payload.amountMsat, c))
            let parts = held[htlc.paymentHash]!
            if parts.reduce(0, { $0 + $1.amount }) >= htlc.payload.totalAmountMsat {
                held[htlc.paymentHash] = nil
                for p in parts { p.resume.resume(returning: .settle(preimage: inv.preimage)) }
            }
        }
    }

    /// Fails every held MPP part with MPP_TIMEOUT (what the registry does after 120 s).
    func timeOutHeldParts() {
        for (_, parts) in held { for p in parts { p.resume.resume(returning: .fail(.mppTimeout)) } }
        held = [:]
    }
}
