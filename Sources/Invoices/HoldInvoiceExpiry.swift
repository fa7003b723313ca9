extension InvoiceRegistry {
    /// LND's default `--invoices.holdexpirydelta` (lncfg/invoices.go: 16 + 2 blocks): an accepted
    /// hold invoice is canceled this many blocks before its earliest HTLC expires, so that the
    /// channel never has to be force-closed to claim it back.
    public static let defaultHoldExpiryDelta: UInt32 = 18

    /// The height watcher of LND's invoice_expiry_watcher.go: at `height`, cancels every
    /// ACCEPTED hold invoice with `height + holdExpiryDelta ≥ min(expiry of its accepted HTLCs)`,
    /// failing its held HTLCs back with INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS (as CancelInvoice).
    /// Regular invoices are never in this watcher. Call on every new block. Returns the number of
    /// invoices canceled.
    @discardableResult
    public func cancelExpiringHoldInvoices(height: UInt32, holdExpiryDelta: UInt32 = defaultHoldExpiryDelta) -> Int {
        var canceled = 0
        let pending = withLock { () -> [PendingResolution] in
            lastHeight = max(lastHeight, height)
            var pending: [PendingResolution] = []
            for hash in held.keys {
                guard var inv = try? store.invoice(hash: hash), inv.isHold, inv.state == .accepted else { continue }
                let expiries = inv.htlcs.filter { $0.state == .accepted }.map { Int64($0.expiryHeight) }
                guard let first = expiries.min(), Int64(height) + Int64(holdExpiryDelta) >= first else { continue }
                if let p = try? cancelLocked(&inv) {
                    pending += p
                    canceled += 1
                }
            }
            return pending
        }
        for p in pending { p.resolve(p.resolution) }
        return canceled
    }
}
