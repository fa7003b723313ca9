/// A step of an incoming payment, as LDK's events name them.
public enum InvoiceLifecycleEvent: Sendable {
    /// Every part of the HTLC set arrived (LDK `Event::PaymentClaimable`); `amountMsat` is what
    /// the set carries. The invoice is a keysend one when `isKeysend`.
    case claimable(Invoice, amountMsat: UInt64)
    /// The invoice is settled and committed (LDK `Event::PaymentClaimed`).
    case settled(Invoice)
}
