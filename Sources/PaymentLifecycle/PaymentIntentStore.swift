import Payments

/// The intents of live payments, so a restart (or another replica) can resume them (LND keeps the
/// equivalent in its payment session state). One record per payment hash while the payment is not
/// terminal; written after InitPayment commits, deleted when the lifecycle ends.
///
/// Implementations: `SQLiteIntentStore` (a file in the datadir) and `PostgresIntentStore`; both
/// run `IntentStoreConformance`. Safe from any thread.
public protocol PaymentIntentStore: AnyObject, Sendable {
    /// Stores (or replaces) the intent of `intent.paymentHash`; returns once it is durable.
    func save(_ intent: PaymentIntent) throws
    /// Forgets the intent of `hash` (best effort: a left-over intent of a terminal payment is
    /// ignored by the resume path).
    func delete(_ hash: PaymentHash)
    func intent(for hash: PaymentHash) throws -> PaymentIntent?
}
