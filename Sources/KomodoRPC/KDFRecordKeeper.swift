import Dispatch
import Foundation
import Invoices
import Payments

/// Keeps the KDF records in step with the engine, as KDF's LDK event handler does
/// (`ln_events.rs`), so a record never disagrees with the payment or invoice it describes:
/// - inbound: the invoice registry's HTLC set complete → Claimable (an inbound keysend gets its
///   row then, description "keysend"); invoice settled → Succeeded;
/// - outbound: the control tower's payment succeeded → Succeeded with the fee, failed → Failed.
/// At `start` every outbound row still Pending is compared with its engine payment (a restart
/// may have missed its outcome). Records only move forward; engine payments without a KDF row
/// (sent over LND's API) are not recorded.
public final class KDFRecordKeeper: @unchecked Sendable {
    let store: any KDFRecordStore
    let tower: ControlTower
    let invoices: InvoiceRegistry
    let log: @Sendable (String) -> Void
    let queue = DispatchQueue(label: "paytrack.kdf.records")
    private var mailbox: AllPaymentsMailbox?
    private var lastStamp: Int64 = 0
    private var stopped = false

    public init(store: any KDFRecordStore, tower: ControlTower, invoices: InvoiceRegistry, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.tower = tower
        self.invoices = invoices
        self.log = log
    }

    public func start() throws {
        let store = self.store, log = self.log
        invoices.setLifecycleObserver { event in
            let now = Int64(Date().timeIntervalSince1970)
            do {
                switch event {
                case .claimable(let inv, let amount):
                    let hash = Hex.encode(inv.rHash)
                    if inv.isKeysend {
                        try store.insertIfAbsent(KDFPaymentRecord(paymentHash: hash, direction: .inbound, description: "keysend",
                                                                  amountMsat: amount, feePaidMsat: nil, status: .claimable,
                                                                  createdAt: now, lastUpdated: now))
                    } else {
                        try store.advanceInbound(hash: hash, to: .claimable, at: now)
                    }
                case .settled(let inv):
                    try store.advanceInbound(hash: Hex.encode(inv.rHash), to: .succeeded, at: now)
                }
            } catch { log("kdf records: \(error)") }
        }
        try queue.sync { try subscribe(replaySince: nil) }
        for hex in try store.pendingOutboundHashes() {
            guard let bytes = Hex.decode(hex), let hash = PaymentHash(bytes), let s = try tower.fetchPayment(hash) else { continue }
            apply(s)
        }
    }

    public func stop() {
        queue.sync {
            stopped = true
            mailbox?.cancel()
            mailbox = nil
        }
        invoices.setLifecycleObserver(nil)
    }

    /// On the queue.
    private func subscribe(replaySince: Int64?) throws {
        let mb = try tower.subscribeAllPayments(replaySince: replaySince)
        mailbox = mb
        mb.setWakeup { [weak self] in
            guard let keeper = self else { return }
            keeper.queue.async { keeper.drain() }
        }
    }

    private func drain() {
        guard !stopped, let mb = mailbox else { return }
        while let s = mb.poll() {
            lastStamp = max(lastStamp, s.lastUpdateNs)
            apply(s)
        }
        if mb.isFinished && mb.overflowed {
            do { try subscribe(replaySince: lastStamp) } catch { log("kdf records: resubscribe: \(error)") }
        }
    }

    func apply(_ s: PaymentSnapshot) {
        let hash = s.paymentHash.hex
        let at = s.lastUpdateNs / 1_000_000_000
        do {
            switch s.status {
            case .succeeded:
                try store.markOutboundTerminal(hash: hash, succeeded: true, feePaidMsat: UInt64(max(0, s.feesMsat)), at: at)
            case .failed:
                try store.markOutboundTerminal(hash: hash, succeeded: false, feePaidMsat: nil, at: at)
            case .initiated, .inFlight:
                break
            }
        } catch { log("kdf records: \(hash): \(error)") }
    }
}

import LightningPrimitives
