import Foundation
import PaymentLifecycle
import PaymentStore
import Payments
import Simnet

/// A served node's part in running as one of several replicas on one PostgreSQL database
/// (`--db.backend postgres`): its payment lease (`PaymentLeaseGate` + `PaymentLeaseKeeper` over
/// `PostgresPaymentLease`) and the shared payment-index sequence. With it, the node resumes at
/// start only the payments of lapsed leases (not every in-flight payment: others may be driving
/// theirs), keeps taking such payments over while it runs, and stops driving its own the moment
/// its lease lapses (docs/ARCHITECTURE.md, "PostgreSQL and replicas"). While it holds its lease it
/// also scans the shared ledger for holds no payment run will resolve (`releaseOrphaned`).
final class PaymentReplica: @unchecked Sendable {
    let gate = PaymentLeaseGate()
    let indexSource: PostgresPaymentIndexSequence
    /// The node's schema: the scope of this lease's tokens as owners of ledger holds.
    let ledgerScope: String
    private let lease: PostgresPaymentLease
    private let timing: PaymentLeaseMachine.Timing
    private let name: String
    private var keeper: PaymentLeaseKeeper?
    private var orphanScan: DispatchSourceTimer?

    init(config: Config, node: String) throws {
        let options = try config.postgresPaymentOptions(node: node)
        timing = PaymentLeaseMachine.Timing(timeout: config.postgresLeaseTimeoutSeconds)
        // A heartbeat that hangs must not outlive the margin it protects.
        lease = try PostgresPaymentLease(store: options, timeoutSeconds: max(0.5, timing.marginSeconds))
        indexSource = try PostgresPaymentIndexSequence(store: options)
        ledgerScope = try Config.postgresSchema(node: node)
        name = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(node) \(config.primaryListeners.first ?? "")"
    }

    /// Starts the keeper and waits (at most the lease timeout) for the first lease; payments
    /// taken over go to `resume` (off the keeper's thread).
    func start(router: ChannelRouter, ledger: any ChannelLedger, log: @escaping @Sendable (String) -> Void,
               resume: @escaping @Sendable ([PaymentSnapshot]) -> Void) throws {
        let keeper = PaymentLeaseKeeper(database: lease, gate: gate, timing: timing, name: name, log: log,
                                        onLost: { router.abandonAll() }, onTakeOver: resume)
        self.keeper = keeper
        keeper.start()
        guard keeper.waitUntilHeld(seconds: timing.timeout) else {
            keeper.stop()
            throw ConfigError(description: "no payment lease from PostgreSQL within \(timing.timeout)s (--db.postgres.leasetimeout)")
        }
        // Every T/2: holds of expired leases that no payment run will resolve (an HTLC of a
        // payment that already ended, a dead replica's held invoice HTLC) give their capacity back.
        let every = max(0.5, timing.timeout / 2)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "paytrack.ledger.orphans"))
        timer.schedule(deadline: .now() + every, repeating: every)
        timer.setEventHandler { [gate] in
            guard gate.mayAct else { return }
            do {
                let n = try ledger.releaseOrphaned(scope: nil)
                if n > 0 { log("released \(n) HTLC hold(s) of expired leases in the simulated network") }
            } catch {
                log("scan of the simulated network's orphaned holds failed: \(error)")
            }
        }
        timer.resume()
        orphanScan = timer
    }

    /// Graceful stop: runs abandoned, the lease released so another replica takes over at once.
    func stop() {
        orphanScan?.cancel()
        keeper?.stop()
    }
}
