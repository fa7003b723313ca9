import Foundation
import PaymentLifecycle
import PaymentStore
import Payments

/// A served node's part in running as one of several replicas on one PostgreSQL database
/// (`--db.backend postgres`): its payment lease (`PaymentLeaseGate` + `PaymentLeaseKeeper` over
/// `PostgresPaymentLease`) and the shared payment-index sequence. With it, the node resumes at
/// start only the payments of lapsed leases (not every in-flight payment: others may be driving
/// theirs), keeps taking such payments over while it runs, and stops driving its own the moment
/// its lease lapses (docs/ARCHITECTURE.md, "PostgreSQL and replicas").
final class PaymentReplica: @unchecked Sendable {
    let gate = PaymentLeaseGate()
    let indexSource: PostgresPaymentIndexSequence
    private let lease: PostgresPaymentLease
    private let timing: PaymentLeaseMachine.Timing
    private let name: String
    private var keeper: PaymentLeaseKeeper?

    init(config: Config, node: String) throws {
        let options = try config.postgresPaymentOptions(node: node)
        timing = PaymentLeaseMachine.Timing(timeout: config.postgresLeaseTimeoutSeconds)
        // A heartbeat that hangs must not outlive the margin it protects.
        lease = try PostgresPaymentLease(store: options, timeoutSeconds: max(0.5, timing.marginSeconds))
        indexSource = try PostgresPaymentIndexSequence(store: options)
        name = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(node) \(config.primaryListeners.first ?? "")"
    }

    /// Starts the keeper and waits (at most the lease timeout) for the first lease; payments
    /// taken over go to `resume` (off the keeper's thread).
    func start(router: ChannelRouter, log: @escaping @Sendable (String) -> Void,
               resume: @escaping @Sendable ([PaymentSnapshot]) -> Void) throws {
        let keeper = PaymentLeaseKeeper(database: lease, gate: gate, timing: timing, name: name, log: log,
                                        onLost: { router.abandonAll() }, onTakeOver: resume)
        self.keeper = keeper
        keeper.start()
        guard keeper.waitUntilHeld(seconds: timing.timeout) else {
            keeper.stop()
            throw ConfigError(description: "no payment lease from PostgreSQL within \(timing.timeout)s (--db.postgres.leasetimeout)")
        }
    }

    /// Graceful stop: runs abandoned, the lease released so another replica takes over at once.
    func stop() {
        keeper?.stop()
    }
}
