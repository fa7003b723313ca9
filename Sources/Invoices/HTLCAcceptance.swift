import BOLT11
import Crypto

/// The parts of an MPP set held until the whole amount has arrived (BOLT 4 "Basic multi-part
/// payments": the final node holds HTLCs until `total_msat` is reached, or fails them all with
/// `mpp_timeout`).
struct HeldSet {
    struct Part {
        var chanID: UInt64
        var htlcIndex: UInt64
        var amountMsat: UInt64
        var resolve: @Sendable (HTLCResolution) -> Void
    }
    var parts: [Part] = []
    var totalMsat: UInt64
    var firstArrival: Int64
    var sum: UInt64 { parts.reduce(0) { $0 + $1.amountMsat } }
}

typealias PendingResolution = (resolve: @Sendable (HTLCResolution) -> Void, resolution: HTLCResolution)

extension InvoiceRegistry {
    /// Decides an HTLC arriving for one of our invoices (BOLT 4 final-node requirements; LND's
    /// invoice registry rules). `onResolve` is called exactly once, outside the registry's lock:
    /// at once for a settle or a failure, later for an MPP part (when the set completes, times
    /// out, or a hold invoice is settled/canceled).
    ///
    /// Fails with `incorrect_or_unknown_payment_details` (carrying the HTLC amount and
    /// `currentHeight`) for: an unknown hash (unless a valid keysend and keysend is accepted), a
    /// canceled, settled or expired invoice, a missing/wrong payment_addr, a total below the
    /// invoice amount, an MPP total that differs from the set's, an extra part once the set is
    /// complete, or an HTLC expiry below `currentHeight + cltv_expiry`.
    public func acceptHTLC(_ htlc: IncomingHTLC, currentHeight: UInt32,
                           onResolve: @escaping @Sendable (HTLCResolution) -> Void) {
        var pending: [PendingResolution] = []
        withLock {
            lastHeight = currentHeight
            pending += expireTimedOutSetsLocked()
            pending += acceptLocked(htlc, currentHeight: currentHeight, onResolve: onResolve)
        }
        for p in pending { p.resolve(p.resolution) }
    }

    /// `acceptHTLC` awaiting its resolution.
    public func acceptHTLC(_ htlc: IncomingHTLC, currentHeight: UInt32) async -> HTLCResolution {
        await withCheckedContinuation { c in acceptHTLC(htlc, currentHeight: currentHeight) { c.resume(returning: $0) } }
    }

    /// The shape the simulated network calls: one HTLC by its final-hop payload fields.
    public func acceptHTLC(paymentHash: [UInt8], amountMsat: UInt64, paymentAddr: [UInt8]?, totalMsat: UInt64?,
                           expiry: UInt32, currentHeight: UInt32, customRecords: [UInt64: [UInt8]] = [:],
                           chanID: UInt64 = 0, htlcIndex: UInt64 = 0) async -> HTLCResolution {
        await acceptHTLC(IncomingHTLC(paymentHash: paymentHash, amountMsat: amountMsat, expiryHeight: expiry,
                                      chanID: chanID, htlcIndex: htlcIndex, paymentAddr: paymentAddr,
                                      totalMsat: totalMsat, customRecords: customRecords),
                         currentHeight: currentHeight)
    }

    /// Fails, with `mpp_timeout`, every part of an incomplete MPP set held longer than
    /// `mppTimeoutSeconds`. The network calls this on its clock ticks; `acceptHTLC` also does.
    /// Returns the number of HTLCs failed.
    @discardableResult
    public func expireTimedOutHTLCSets() -> Int {
        let pending = withLock { expireTimedOutSetsLocked() }
        for p in pending { p.resolve(p.resolution) }
        return pending.count
    }

    /// Settles a hold invoice whose HTLCs have all arrived (invoicesrpc SettleInvoice, LND's
    /// `SettleHodlInvoice`): the invoice is found by sha256(preimage), so a wrong preimage is
    /// `unable to locate invoice`; OPEN (no complete set yet, or a regular invoice) is
    /// `invoice still open`; CANCELED is `invoice already canceled`; an already SETTLED invoice
    /// is a success (LND swallows ErrInvoiceAlreadySettled, the call is idempotent).
    public func settleInvoice(preimage: [UInt8]) throws(InvoiceError) {
        guard preimage.count == 32 else { throw .invalidPreimageLength(preimage.count) }
        let hash = SHA256.hash(preimage)
        let pending = try withLock { () throws(InvoiceError) -> [PendingResolution] in
            guard var inv = try storage({ try store.invoice(hash: hash) }) else { throw .notFound }
            switch inv.state {
            case .settled: return []
            case .canceled: throw .alreadyCanceled
            case .open: throw .invoiceStillOpen
            case .accepted: break
            }
            inv.rPreimage = preimage
            return try storage { try settleLocked(&inv, preimage: preimage) }
        }
        for p in pending { p.resolve(p.resolution) }
    }

    /// Cancels an invoice that is not settled, failing any HTLCs held for it (invoicesrpc
    /// CancelInvoice). Canceling a canceled invoice is a no-op.
    public func cancelInvoice(paymentHash: [UInt8]) throws(InvoiceError) {
        if paymentHash.count != 32 { throw .invalidHashLength(paymentHash.count) }
        let pending = try withLock { () throws(InvoiceError) -> [PendingResolution] in
            guard var inv = try storage({ try store.invoice(hash: paymentHash) }) else { throw .notFound }
            switch inv.state {
            case .settled: throw .alreadySettled
            case .canceled: return []
            case .open, .accepted: return try storage { try cancelLocked(&inv) }
            }
        }
        for p in pending { p.resolve(p.resolution) }
    }

    // MARK: internals (called with the lock held)

    func failure(_ htlc: IncomingHTLC, _ height: UInt32, _ code: HTLCFailResolution.Code = .incorrectOrUnknownPaymentDetails) -> HTLCResolution {
        .fail(HTLCFailResolution(code: code, htlcMsat: htlc.amountMsat, height: height))
    }

    func acceptLocked(_ htlc: IncomingHTLC, currentHeight: UInt32,
                      onResolve: @escaping @Sendable (HTLCResolution) -> Void) -> [PendingResolution] {
        let now = configuration.now()
        let reject: [PendingResolution] = [(onResolve, failure(htlc, currentHeight))]
        do {
            guard htlc.paymentHash.count == 32 else { return reject }
            var found = try store.invoice(hash: htlc.paymentHash)
            if found == nil {
                guard configuration.acceptKeysend, let preimage = htlc.keysendPreimage, preimage.count == 32,
                      SHA256.hash(preimage) == htlc.paymentHash else { return reject }
                found = try createKeysendInvoiceLocked(htlc, preimage: preimage, currentHeight: currentHeight, now: now)
            }
            guard var inv = found else { return reject }

            // A replayed circuit gets its earlier outcome.
            if let old = inv.htlcs.first(where: { $0.chanID == htlc.chanID && $0.htlcIndex == htlc.htlcIndex }) {
                switch old.state {
                case .settled: return [(onResolve, .settle(preimage: inv.rPreimage ?? []))]
                case .canceled: return reject
                case .accepted:
                    held[inv.rHash]?.parts.append(.init(chanID: htlc.chanID, htlcIndex: htlc.htlcIndex,
                                                        amountMsat: 0, resolve: onResolve))
                    return held[inv.rHash] == nil ? reject : []
                }
            }
            switch inv.state {
            case .canceled, .settled, .accepted: return reject
            case .open: break
            }
            if inv.isExpired(now: now) {
                var pending = try cancelLocked(&inv)
                pending += reject
                return pending
            }
            if !inv.isKeysend {
                guard let addr = htlc.paymentAddr, ConstantTime.equals(addr, inv.paymentAddr) else { return reject }
            }
            let total = htlc.totalMsat ?? htlc.amountMsat
            if inv.valueMsat > 0 && total < UInt64(inv.valueMsat) { return reject }
            if UInt64(htlc.expiryHeight) < UInt64(currentHeight) + inv.cltvExpiry { return reject }

            var set = held[inv.rHash] ?? HeldSet(totalMsat: total, firstArrival: now)
            if set.totalMsat != total || set.sum >= set.totalMsat { return reject }
            set.parts.append(.init(chanID: htlc.chanID, htlcIndex: htlc.htlcIndex, amountMsat: htlc.amountMsat,
                                   resolve: onResolve))
            inv.htlcs.append(InvoiceHTLC(
                chanID: htlc.chanID, htlcIndex: htlc.htlcIndex, amtMsat: htlc.amountMsat,
                acceptHeight: Int32(truncatingIfNeeded: currentHeight), acceptTime: now, resolveTime: 0,
                expiryHeight: Int32(truncatingIfNeeded: htlc.expiryHeight), state: .accepted,
                customRecords: htlc.customRecords, mppTotalAmtMsat: total))
            held[inv.rHash] = set
            if set.sum < set.totalMsat {
                try store.update(inv)
                return []
            }
            // The whole set is here: LDK's PaymentClaimable.
            lifecycleObserver?(.claimable(inv, amountMsat: set.sum))
            if inv.isHold {
                inv.state = .accepted
                inv.amtPaidMsat = inv.htlcs.filter { $0.state == .accepted }.reduce(0) { $0 + Int64(clamping: $1.amtMsat) }
                try store.update(inv)
                notify(inv)
                return []
            }
            return try settleLocked(&inv, preimage: inv.rPreimage ?? [])
        } catch {
            // Storage failed: undo the in-memory hold of this part and fail it (never settle unrecorded).
            if var set = held[htlc.paymentHash] {
                set.parts.removeAll { $0.chanID == htlc.chanID && $0.htlcIndex == htlc.htlcIndex }
                held[htlc.paymentHash] = set.parts.isEmpty ? nil : set
            }
            return reject
        }
    }

    func createKeysendInvoiceLocked(_ htlc: IncomingHTLC, preimage: [UInt8], currentHeight: UInt32,
                                    now: Int64) throws -> Invoice {
        let amount = htlc.totalMsat ?? htlc.amountMsat
        let delta = htlc.expiryHeight > currentHeight ? UInt64(htlc.expiryHeight - currentHeight) : 0
        var inv = Invoice(memo: "", rPreimage: preimage, rHash: htlc.paymentHash, valueMsat: Int64(clamping: amount),
                          creationDate: now, settleDate: 0, paymentRequest: "", descriptionHash: [],
                          expiry: Self.defaultExpiry, fallbackAddr: "", cltvExpiry: delta, routeHints: [],
                          isPrivate: false, addIndex: 0, settleIndex: 0, amtPaidMsat: 0, state: .open, htlcs: [],
                          features: FeatureVector(bits: [9]), isKeysend: true, paymentAddr: [], isAmp: false,
                          isHold: false)
        inv.addIndex = try store.insert(inv)
        notify(inv)
        return inv
    }

    /// Marks the invoice SETTLED with every accepted HTLC, commits, notifies, and returns the
    /// settle resolutions for the held parts.
    func settleLocked(_ inv: inout Invoice, preimage: [UInt8]) throws -> [PendingResolution] {
        let now = configuration.now()
        var paid: Int64 = 0
        for i in inv.htlcs.indices where inv.htlcs[i].state == .accepted {
            inv.htlcs[i].state = .settled
            inv.htlcs[i].resolveTime = now
            paid += Int64(clamping: inv.htlcs[i].amtMsat)
        }
        inv.state = .settled
        inv.settleDate = now
        inv.amtPaidMsat = paid
        let snapshot = inv
        inv.settleIndex = try store.transaction {
            var s = snapshot
            s.settleIndex = try store.maxSettleIndex() + 1
            try store.update(s)
            return s.settleIndex
        }
        notify(inv)
        lifecycleObserver?(.settled(inv))
        let parts = held.removeValue(forKey: inv.rHash)?.parts ?? []
        return parts.map { ($0.resolve, .settle(preimage: preimage)) }
    }

    /// Marks the invoice CANCELED, its accepted HTLCs canceled, and fails the held parts.
    func cancelLocked(_ inv: inout Invoice) throws -> [PendingResolution] {
        let now = configuration.now()
        for i in inv.htlcs.indices where inv.htlcs[i].state == .accepted {
            inv.htlcs[i].state = .canceled
            inv.htlcs[i].resolveTime = now
        }
        inv.state = .canceled
        try store.update(inv)
        notify(inv)
        let parts = held.removeValue(forKey: inv.rHash)?.parts ?? []
        return parts.map {
            ($0.resolve, .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails, htlcMsat: $0.amountMsat, height: lastHeight)))
        }
    }

    func expireTimedOutSetsLocked() -> [PendingResolution] {
        let now = configuration.now()
        var pending: [PendingResolution] = []
        for (hash, set) in held where set.sum < set.totalMsat && now - set.firstArrival >= configuration.mppTimeoutSeconds {
            held.removeValue(forKey: hash)
            if var inv = try? store.invoice(hash: hash) {
                for i in inv.htlcs.indices where inv.htlcs[i].state == .accepted {
                    inv.htlcs[i].state = .canceled
                    inv.htlcs[i].resolveTime = now
                }
                try? store.update(inv)
            }
            pending += set.parts.map {
                ($0.resolve, .fail(HTLCFailResolution(code: .mppTimeout, htlcMsat: $0.amountMsat, height: lastHeight)))
            }
        }
        return pending
    }
}
