import Locks
import Payments

/// Waits for a payment's terminal snapshot (SUCCEEDED or FAILED) through a tower subscription,
/// without a thread: `done` runs once, on the notifier's thread (or the caller's, if the
/// payment is already terminal), and the subscription is then cancelled. Used by the calls that
/// answer once per payment (legacy SendPaymentSync, SendPayment, EstimateRouteFee's probe).
///
/// A payment with a held HTLC (hold invoice) is not terminal: the wait lasts until the payee
/// settles or cancels, exactly as LND's blocking calls do.
final class TerminalPaymentWaiter: Sendable {
    private let mailbox: PaymentMailbox
    private let done: LockedValue<(@Sendable (PaymentSnapshot) -> Void)?>
    /// Serializes draining (a wake-up may race the first drain).
    private let draining = LockedValue(())

    private init(mailbox: PaymentMailbox, done: @escaping @Sendable (PaymentSnapshot) -> Void) {
        self.mailbox = mailbox
        self.done = LockedValue(done)
    }

    /// Subscribes to `hash` and calls `done` with its terminal snapshot. Throws what
    /// `ControlTower.subscribePayment` throws (`payment isn't initiated`).
    static func wait(tower: ControlTower, hash: PaymentHash,
                     done: @escaping @Sendable (PaymentSnapshot) -> Void) throws(PaymentError) {
        let waiter = TerminalPaymentWaiter(mailbox: try tower.subscribePayment(hash), done: done)
        waiter.mailbox.setWakeup { [waiter] in waiter.drain() }
        waiter.drain()
    }

    private func drain() {
        draining.withLock { _ in
            while let s: PaymentSnapshot = mailbox.poll() {
                guard s.status.isTerminal else { continue }
                let callback = done.withLock { d -> (@Sendable (PaymentSnapshot) -> Void)? in
                    defer { d = nil }
                    return d
                }
                mailbox.cancel()
                callback?(s)
                return
            }
        }
    }
}
