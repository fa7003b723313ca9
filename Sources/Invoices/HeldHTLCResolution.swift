extension InvoiceRegistry {
    /// Resolves HTLCs this registry holds (hold invoices, MPP parts) whose invoice was resolved
    /// in the store by someone else: another replica on the same database settled or canceled it
    /// (invoicesrpc SettleInvoice / CancelInvoice served there). Each held part is looked up in
    /// the stored invoice by its circuit (channel, HTLC id): SETTLED settles it with the stored
    /// preimage, CANCELED fails it as `cancelInvoice` does; a part still ACCEPTED stays held.
    /// Only `hashes` are looked at (every held invoice when nil). Returns the parts resolved.
    /// Resolutions are delivered outside the lock, each exactly once (a part resolved here is no
    /// longer held, so a later settle or cancel on this registry does not resolve it again).
    @discardableResult
    public func resolveHeldFromStore(hashes: [[UInt8]]? = nil) -> Int {
        let pending = withLock { () -> [PendingResolution] in
            var out: [PendingResolution] = []
            let candidates = hashes.map { $0.filter { held[$0] != nil } } ?? Array(held.keys)
            for hash in candidates {
                guard var set = held[hash], let inv = try? store.invoice(hash: hash) else { continue }
                var states: [String: InvoiceHTLCState] = [:]
                for h in inv.htlcs { states["\(h.chanID):\(h.htlcIndex)"] = h.state }
                set.parts.removeAll { part in
                    switch states["\(part.chanID):\(part.htlcIndex)"] {
                    case .settled?:
                        out.append((part.resolve, .settle(preimage: inv.rPreimage ?? [])))
                        return true
                    case .canceled?:
                        out.append((part.resolve, .fail(HTLCFailResolution(code: .incorrectOrUnknownPaymentDetails,
                                                                    htlcMsat: part.amountMsat, height: lastHeight))))
                        return true
                    default:
                        return false
                    }
                }
                held[hash] = set.parts.isEmpty ? nil : set
            }
            return out
        }
        for p in pending { p.resolve(p.resolution) }
        return pending.count
    }
}
