import Dispatch
import Payments
import Routing
import Simnet

/// One payment's lifecycle, serialized on its own queue: ask the session for shards, register
/// each attempt (commit + notify), send it over the network, record its outcome (commit +
/// notify), repeat until the session succeeds or fails, or the payment is stopped and its last
/// HTLC resolved.
final class PaymentRun: @unchecked Sendable {
    let intent: PaymentIntent
    let hash: PaymentHash
    /// Strong: a run may outlive the caller's reference to its router (a pending timeout);
    /// the router drops the run when it finishes, which breaks the cycle.
    let owner: ChannelRouter
    private let queue: DispatchQueue
    private var session: PaymentSession
    private var attemptIDs: [UInt64: UInt64] = [:]   // shard id → attempt id
    private var stopped = false
    private var reportedFailure = false
    private var done = false

    init(intent: PaymentIntent, hash: PaymentHash, owner: ChannelRouter) {
        self.intent = intent
        self.hash = hash
        self.owner = owner
        queue = DispatchQueue(label: "paytrack.payment.\(hash.description.prefix(12))")
        let request = intent.routeRequest(source: owner.source, currentHeight: owner.network.blockHeight,
                                          maxCLTVExpiry: owner.maxCLTVExpiry)
        session = PaymentSession(request: request, maxParts: Int(intent.maxParts), maxShardSizeMsat: intent.maxShardSizeMsat)
    }

    func start() {
        let remaining = intent.deadlineNs - unixNanosNow()
        if remaining <= 0 {
            // The timeout already passed (e.g. while the daemon was down): stop before the first
            // step, so no attempt starts (`stop` would only enqueue behind that step).
            queue.async { self.stopOnQueue(.timeout) }
        } else {
            queue.asyncAfter(deadline: .now() + .nanoseconds(Int(remaining))) { self.stop(.timeout) }
        }
        queue.async { self.step() }
    }

    /// Timeout or cancel: record the reason now (status stays IN_FLIGHT while HTLCs are out),
    /// make no new attempt.
    func stop(_ reason: FailureReason) {
        queue.async { [self] in stopOnQueue(reason) }
    }

    private func stopOnQueue(_ reason: FailureReason) {
        guard !done, !stopped else { return }
        stopped = true
        fail(reason)
        step()
    }

    private func fail(_ reason: FailureReason) {
        guard !reportedFailure else { return }
        reportedFailure = true
        do { _ = try owner.control.failPayment(hash, reason: reason) } catch {
            owner.log("payment \(hash): fail payment: \(error)")
            if error == .leaseNotHeld { abandonOnQueue() }
        }
    }

    /// The lease is gone (replicas): stop here, write nothing more, keep the intent for the
    /// replica that takes the payment over. HTLCs already sent are its business now.
    func abandon() {
        queue.async { [self] in abandonOnQueue() }
    }

    private func abandonOnQueue() {
        guard !done else { return }
        done = true
        attemptIDs.removeAll()
        owner.log("payment \(hash): abandoned (payment lease not held)")
        owner.abandoned(hash)
    }

    /// Decides and performs the next move (queue only).
    private func step() {
        guard !done else { return }
        // A lost lease stops a run before it decides anything (`abandonAll` may still be queued).
        if !owner.mayAct {
            abandonOnQueue()
            return
        }
        if stopped {
            if session.inFlight.isEmpty { finish() }
            return
        }
        owner.router.updateGraph { $0 = owner.network.publicGraph() }
        let next = session.nextStep(router: owner.router, currentHeight: owner.network.blockHeight,
                                    localBandwidthMsat: owner.network.localBandwidth(of: owner.source))
        if let failure = session.failure, !reportedFailure {
            fail(Self.reason(failure))
        }
        switch next {
        case .send(let shards):
            for shard in shards { send(shard) }
        case .wait:
            break
        case .succeeded, .failed:
            finish()
        }
    }

    private func send(_ shard: PaymentSession.Shard) {
        let attemptID = owner.allocateAttemptID()
        attemptIDs[shard.id] = attemptID
        let info = HTLCAttemptInfo(attemptID: attemptID, route: RouteConversion.route(shard.route),
                                   attemptTimeNs: unixNanosNow())
        do { _ = try owner.control.registerAttempt(hash, info) } catch .leaseNotHeld {
            abandonOnQueue()
            return
        } catch {
            // The payment cannot take attempts any more (e.g. failed elsewhere): stop here.
            owner.log("payment \(hash): register attempt: \(error)")
            session.shardFailed(shard.id, failure: HTLCFailure(message: FailureMessage(code: .internalFailure),
                                                                failureSourceIndex: 0), router: owner.router)
            stopped = true
            fail(.error)
            return
        }
        // The attempt is recorded; the HTLC goes out only while the lease still holds (the store
        // checked it a moment ago by the database's clock; this checks the local deadline, which
        // ends a safety margin before anyone may take the payment over).
        let right = owner.sendRight
        guard right.mayAct else {
            abandonOnQueue()
            return
        }
        owner.network.send(route: shard.route, paymentHash: intent.paymentHash, owner: right.owner) { [self] result in
            queue.async { self.resolved(shard, result) }
        }
    }

    private func resolved(_ shard: PaymentSession.Shard, _ result: HTLCResult) {
        guard !done, let attemptID = attemptIDs.removeValue(forKey: shard.id) else { return }
        let now = unixNanosNow()
        switch result {
        case .settled(let preimage):
            if let p = Preimage(preimage) {
                do { _ = try owner.control.settleAttempt(hash, attemptID: attemptID, HTLCSettle(preimage: p, settleTimeNs: now)) } catch {
                    owner.log("payment \(hash): settle attempt \(attemptID): \(error)")
                    if error == .leaseNotHeld { return abandonOnQueue() }
                }
            }
            session.shardSucceeded(shard.id, router: owner.router)
        case .failed(let failure):
            do { _ = try owner.control.failAttempt(hash, attemptID: attemptID, RouteConversion.failure(failure, timeNs: now)) } catch {
                owner.log("payment \(hash): fail attempt \(attemptID): \(error)")
                if error == .leaseNotHeld { return abandonOnQueue() }
            }
            session.shardFailed(shard.id, failure: failure, router: owner.router)
        }
        step()
    }

    private func finish() {
        guard !done else { return }
        done = true
        owner.finished(hash)
    }

    /// The LND failure reason of a session failure.
    static func reason(_ f: PaymentSession.Failure) -> FailureReason {
        let rpc = f.lndFailureReasonRawValue
        return FailureReason(rawValue: UInt8(clamping: max(1, rpc) - 1)) ?? .error
    }
}
