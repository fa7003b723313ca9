import Locks
import Dispatch
import Foundation
import Payments
import Routing
import Simnet

/// Sends payments from one node over the simulated network (LND `ChannelRouter` +
/// `paymentLifecycle`): every step is first committed through `PaymentControl` (which notifies
/// the control tower), then carried out on the network.
///
/// Contract:
/// - `initiate` commits the Initiated state (or throws LND's AlreadyExists errors) and records the
///   intent; nothing is attempted until `launch`.
/// - A launched payment tries shards from `PaymentSession` until it succeeds, fails, or its
///   timeout passes. At the timeout (LND: `timeout_seconds`) the payment gets failure reason
///   TIMEOUT and no new attempt starts, but HTLCs in flight are still awaited; `cancel` does the
///   same with reason CANCELED.
/// - `resumePayments` (at startup) fails the attempts whose HTLCs were lost with the process
///   (UNKNOWN_FAILURE, as LND's `failStaleAttempt`) and relaunches each unfinished payment from
///   its recorded intent, with the rest of its timeout. `resume` does the same for payments taken
///   over from a replica whose lease lapsed.
/// - Replicas (`leaseGate` set): an HTLC is sent only while the gate says this process holds its
///   lease; a run whose change the store refused for want of the lease (fencing), or every run on
///   `abandonAll` (lease lost), stops at once without writing anything more and keeps its intent,
///   for the replica that takes the payment over.
public final class ChannelRouter: @unchecked Sendable {
    public let source: NodeID
    let network: SimulatedNetwork
    let router: Router
    let control: PaymentControl
    let intents: any PaymentIntentStore
    let maxCLTVExpiry: UInt32
    let log: @Sendable (String) -> Void
    /// Replicas: this process's lease (nil: one process, always allowed).
    let leaseGate: PaymentLeaseGate?
    /// Replicas: the scope of `leaseGate`'s tokens in the shared ledger (the node's schema): the
    /// holds of the HTLCs this router sends belong to (scope, token), and a payment taken over
    /// has its dead owner's holds resolved under it. Nil: no leases.
    let ledgerScope: String?
    private let lock = Lock()
    private var runs: [PaymentHash: PaymentRun] = [:]
    private var nextAttemptID: UInt64

    public init(source: NodeID, network: SimulatedNetwork, control: PaymentControl, intents: any PaymentIntentStore,
                maxCLTVExpiry: UInt32 = 2016, leaseGate: PaymentLeaseGate? = nil, ledgerScope: String? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.source = source
        self.network = network
        self.router = Router(graph: network.publicGraph())
        self.control = control
        self.intents = intents
        self.maxCLTVExpiry = maxCLTVExpiry
        self.log = log
        self.leaseGate = leaseGate
        self.ledgerScope = leaseGate == nil ? nil : ledgerScope
        // Attempt ids must never repeat, also across restarts: start from the clock in ms,
        // leaving 2^12 ids per ms of uptime before the next start could overlap.
        nextAttemptID = UInt64(Date().timeIntervalSince1970 * 1000) << 12
    }

    func allocateAttemptID() -> UInt64 {
        lock.withLock { nextAttemptID += 1; return nextAttemptID }
    }

    /// LND `InitPayment` for `intent` (Initiated, new payment_index), then records the intent.
    public func initiate(_ intent: PaymentIntent) throws(PaymentError) -> PaymentHash {
        guard let hash = PaymentHash(intent.paymentHash) else { throw .notInitiated }
        let info = PaymentCreationInfo(paymentIdentifier: hash, valueMsat: Int64(intent.amountMsat),
                                       creationTimeNs: intent.creationTimeNs, paymentRequest: Array(intent.paymentRequest.utf8),
                                       firstHopCustomRecords: intent.firstHopCustomRecords)
        _ = try control.initPayment(info)
        do { try intents.save(intent) } catch {
            log("payment \(hash): cannot record intent: \(error)")
        }
        return hash
    }

    /// Finds a route for the whole of `intent` now, without sending (LDK's `find_route` before
    /// `send_payment`): the reason there is none, in LDK's check order, or the route. When the
    /// intent may be split (`maxParts` > 1) and only the single-path liquidity is short while the
    /// total outbound balance suffices, the payment session's splitting decides instead: nil.
    public func preflightRoute(_ intent: PaymentIntent) -> NoRouteReason? {
        router.updateGraph { $0 = network.publicGraph() }
        var request = intent.routeRequest(source: source, currentHeight: network.blockHeight, maxCLTVExpiry: maxCLTVExpiry)
        request.localBandwidthMsat = network.localBandwidth(of: source)
        do {
            _ = try router.findRoute(request)
            return nil
        } catch {
            if intent.maxParts > 1, case .insufficientLiquidity = error { return nil }
            return error
        }
    }

    /// Starts the lifecycle of an initiated payment.
    public func launch(_ intent: PaymentIntent) {
        guard let hash = PaymentHash(intent.paymentHash) else { return }
        let run = PaymentRun(intent: intent, hash: hash, owner: self)
        lock.withLock { runs[hash] = run }
        run.start()
    }

    /// Stops new attempts of a live payment with reason CANCELED (LND `cancelable` streams).
    public func cancel(_ hash: PaymentHash) {
        lock.withLock { runs[hash] }?.stop(.canceled)
    }

    func finished(_ hash: PaymentHash) {
        intents.delete(hash)
        lock.withLock { _ = runs.removeValue(forKey: hash) }
    }

    /// Whether an HTLC may be sent now (the lease, when there is one).
    var mayAct: Bool { leaseGate?.mayAct ?? true }

    /// Whether an HTLC may be sent now and, if so, the ledger owner its holds get (the lease's
    /// token read once, so the right and the owner agree; nil owner without leases).
    var sendRight: (mayAct: Bool, owner: LedgerHoldOwner?) {
        guard let leaseGate else { return (true, nil) }
        guard let token = leaseGate.token() else { return (false, nil) }
        return (true, ledgerScope.map { LedgerHoldOwner(scope: $0, token: token) })
    }

    /// A run that stopped because its lease is gone: forgotten here, its intent kept.
    func abandoned(_ hash: PaymentHash) {
        lock.withLock { _ = runs.removeValue(forKey: hash) }
    }

    /// The lease was lost: every run stops where it is, writing nothing more (the store would
    /// refuse it anyway) and sending no HTLC; the payments wait in the database for a takeover.
    public func abandonAll() {
        let all = lock.withLock { () -> [PaymentRun] in
            defer { runs.removeAll() }
            return Array(runs.values)
        }
        for run in all { run.abandon() }
        if !all.isEmpty { log("lease lost: abandoned \(all.count) payment run(s)") }
    }

    /// Payments this process is driving now.
    public var liveRuns: Int { lock.withLock { runs.count } }

    /// Startup: resolve attempts lost with the previous process, then resume unfinished payments.
    ///
    /// `settledPreimage(destination, hash)` tells whether the attempt's final node (a payee of
    /// this same process) already settled `hash`, and with which preimage: such an attempt is
    /// settled (LND learns the fulfil again when the channel re-establishes), since the payee has
    /// the money. Every other attempt still in flight is failed as UNKNOWN_FAILURE.
    public func resumePayments(settledPreimage: (NodeID, PaymentHash) -> [UInt8]? = { _, _ in nil }) throws {
        try resume(control.inFlightPayments(), settledPreimage: settledPreimage)
    }

    /// Resumes `payments` (unfinished, their HTLCs lost with the process that sent them: a restart,
    /// or a replica whose lease lapsed), as `resumePayments` does at startup. A payment already
    /// running here is left alone. Replicas (`ledgerScope` set): first, in the same step, the
    /// shared ledger's holds of those HTLCs (reserved under the dead owner's expired lease) are
    /// settled when the payee already settled, else released, so their capacity comes back now.
    public func resume(_ payments: [PaymentSnapshot], settledPreimage: (NodeID, PaymentHash) -> [UInt8]? = { _, _ in nil }) throws {
        let now = unixNanosNow()
        for snapshot in payments {
            let hash = snapshot.paymentHash
            if lock.withLock({ runs[hash] != nil }) { continue }
            control.reload(hash)
            let stale = snapshot.attempts.filter { $0.status == .inFlight }
            let settled = stale.map { attempt -> Preimage? in
                guard let last = attempt.route.hops.last, let destination = NodeID(bytes: last.pubKey),
                      let bytes = settledPreimage(destination, hash) else { return nil }
                return Preimage(bytes)
            }
            if let ledgerScope, !stale.isEmpty {
                // Before the attempts are recorded resolved: a failure here leaves the holds to the
                // ledger's scan of orphaned holds once the payment ends (capacity locked, never overdrawn).
                do {
                    let n = try network.ledger.resolveAbandoned(paymentHash: hash.bytes, scope: ledgerScope,
                                                                settle: settled.contains { $0 != nil })
                    if n > 0 { log("payment \(hash): resolved \(n) HTLC hold(s) of the lapsed owner in the ledger") }
                } catch {
                    log("payment \(hash): cannot resolve the lapsed owner's HTLC holds: \(error)")
                }
            }
            for (attempt, preimage) in zip(stale, settled) {
                if let preimage {
                    _ = try? control.settleAttempt(hash, attemptID: attempt.attemptID,
                                                   HTLCSettle(preimage: preimage, settleTimeNs: now))
                    continue
                }
                _ = try? control.failAttempt(hash, attemptID: attempt.attemptID,
                                             HTLCFailInfo(failTimeNs: now, reason: .unknown))
            }
            let current = try control.fetchPayment(hash) ?? snapshot
            if current.status.isTerminal || current.hasSettledAttempt {
                finished(hash)
                continue
            }
            guard let intent = try intents.intent(for: hash) else {
                log("payment \(hash): no recorded intent after restart; failing it")
                _ = try? control.failPayment(hash, reason: .error)
                continue
            }
            if current.failureReason != nil {
                // It had already stopped before the restart; nothing is in flight any more.
                finished(hash)
                continue
            }
            log("payment \(hash): resuming (\(snapshot.attempts.count) attempt(s) before)")
            launch(intent)
        }
    }
}

/// Unix time in nanoseconds.
func unixNanosNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
