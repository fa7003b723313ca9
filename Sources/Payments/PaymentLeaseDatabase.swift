/// The database half of the replica lease (`PostgresPaymentLease`): which process may drive which
/// payment's lifecycle. Each acquisition registers a new holder with a new fencing token (tokens
/// only grow); every payment records the token of its owner when it is initiated; the store
/// applies a lifecycle change (attempt registered, settled or failed, payment failed) only if it
/// carries the owner's token while that lease is current by the *database's* clock.
///
/// Times here are the database's; the caller keeps its own, conservative, local deadline
/// (`PaymentLeaseGate`). Every method blocks on one round trip (or a few) and may throw when the
/// database cannot be reached.
public protocol PaymentLeaseDatabase: AnyObject, Sendable {
    /// Registers a new holder named `name` (for operators: host, pid, listeners) with a lease of
    /// `seconds`, of which the last `marginSeconds` the holder itself may no longer write in.
    /// Returns the new fencing token.
    func acquire(name: String, seconds: Double, marginSeconds: Double) throws -> Int64
    /// Extends `token`'s lease to `seconds` from now. False when it had already lapsed (then it is
    /// never extended again: the holder must stop and acquire a new token).
    func renew(_ token: Int64, seconds: Double, marginSeconds: Double) throws -> Bool
    /// Re-owns, in one statement, every unfinished payment (Initiated or InFlight) whose owner's
    /// lease has expired (or that has no owner), giving it `token`, provided `token`'s own lease is
    /// current; returns those payments as committed after the change.
    func takeOver(_ token: Int64) throws -> [PaymentSnapshot]
    /// Ends `token`'s lease now (graceful stop), so others take its payments over without waiting.
    func release(_ token: Int64)
}

/// Where new payment indexes come from (LND's payment sequence number) when several writers share
/// one database: `PaymentControl.Options.indexSource`. Without one, a `PaymentControl` counts from
/// its store's high-water mark (one writer per store: SQLite).
public protocol PaymentIndexSource: AnyObject, Sendable {
    /// An index no other caller, in this process or another, ever receives. Blocks (a round trip).
    func nextPaymentIndex() throws(PaymentError) -> UInt64
}
