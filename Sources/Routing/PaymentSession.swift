/// Plans the HTLC shards of one payment (LND `paymentSession` + the shard logic of
/// `paymentLifecycle`), so that a payment lifecycle only has to: ask `nextStep`, send what it
/// says, and report each shard's outcome.
///
/// Splitting follows LND: try the whole remaining amount (capped by `maxShardSizeMsat`); when no
/// path can carry it, halve it while it stays ≥ `minShardAmountMsat` and parts remain under
/// `maxParts`. Keysend and payments without a payment address never split. The fee limit
/// bounds the payment's total fees across all shards.
public struct PaymentSession: Sendable {
    /// LND `DefaultShardMinAmt`: 10,000 sat.
    public static let defaultMinShardAmountMsat: UInt64 = 10_000_000

    /// A route to send as one HTLC. `id` is unique within the session.
    public struct Shard: Sendable, Equatable {
        public let id: UInt64
        public let route: SourceRoute
    }

    /// Why the payment ended without success, in the shape LND reports it.
    public enum Failure: Sendable, Equatable {
        case noRoute(NoRouteReason)
        case payee(FailureOutcome.TerminalReason)

        /// `lnrpc.PaymentFailureReason` raw value (NO_ROUTE 2, ERROR 3, INCORRECT_PAYMENT_DETAILS 4,
        /// INSUFFICIENT_BALANCE 5).
        public var lndFailureReasonRawValue: Int32 {
            switch self {
            case .noRoute(let r): return r.lndFailureReason.rawValue
            case .payee(let t): return t.rawValue
            }
        }
    }

    public enum Step: Sendable, Equatable {
        /// Send these new shards now.
        case send([Shard])
        /// Nothing new to send: wait for an in-flight shard's outcome.
        case wait
        /// The full amount settled (all shards resolved).
        case succeeded
        /// Give up; if shards are still in flight, wait for them before marking the payment failed
        /// (the lifecycle should keep calling `nextStep` until it returns `.failed` with no shard in flight).
        case failed(Failure)
    }

    public let request: RouteRequest
    public let maxParts: Int
    public let maxShardSizeMsat: UInt64
    public let minShardAmountMsat: UInt64
    public private(set) var inFlight: [UInt64: SourceRoute] = [:]
    public private(set) var settledAmountMsat: UInt64 = 0
    public private(set) var settledFeesMsat: UInt64 = 0
    public private(set) var failure: Failure?
    private var nextID: UInt64 = 1

    /// `request.amountMsat` is the payment total. `maxShardSizeMsat` 0 means no cap.
    public init(request: RouteRequest, maxParts: Int = 16, maxShardSizeMsat: UInt64 = 0,
                minShardAmountMsat: UInt64 = PaymentSession.defaultMinShardAmountMsat) {
        self.request = request
        let splittable = !request.isKeysend && request.mppRecord != nil
        self.maxParts = splittable ? maxParts : min(maxParts, 1)
        self.maxShardSizeMsat = maxShardSizeMsat == 0 ? .max : maxShardSizeMsat
        self.minShardAmountMsat = minShardAmountMsat
    }

    public var inFlightAmountMsat: UInt64 { inFlight.values.reduce(0) { $0 + $1.receiverAmountMsat } }
    public var remainingMsat: UInt64 { request.amountMsat - settledAmountMsat - inFlightAmountMsat }

    /// Gives up on sending more (timeout, cancel): later steps only wait for in-flight shards.
    public mutating func abandon(_ reason: Failure) { if failure == nil { failure = reason } }

    /// Decides what to do next. `currentHeight` and `localBandwidthMsat` (the sender's spendable
    /// amount per channel now, excluding HTLCs already in flight) refresh the request.
    public mutating func nextStep(router: Router, currentHeight: UInt32,
                                  localBandwidthMsat: [ShortChannelID: UInt64]? = nil) -> Step {
        if let failure { return inFlight.isEmpty ? .failed(failure) : .wait }
        let remaining = remainingMsat
        if remaining == 0 { return inFlight.isEmpty ? .succeeded : .wait }

        var planned: [Shard] = []
        var committed = committedPerChannel()
        var bandwidth = localBandwidthMsat
        var feesCommitted = settledFeesMsat + inFlight.values.reduce(0) { $0 + $1.totalFeesMsat }
        var left = remaining
        var amount = min(left, maxShardSizeMsat)
        while left > 0 {
            if inFlight.count + planned.count >= maxParts {
                break
            }
            var r = request
            r.amountMsat = amount
            r.currentHeight = currentHeight
            r.localBandwidthMsat = bandwidth
            r.feeLimitMsat = request.feeLimitMsat == .max ? .max
                : (request.feeLimitMsat > feesCommitted ? request.feeLimitMsat - feesCommitted : 0)
            if var mpp = request.mppRecord {
                mpp.totalAmountMsat = request.amountMsat
                r.mppRecord = mpp
            }
            do {
                let route = try router.findRoute(r, inFlightMsat: committed)
                planned.append(Shard(id: nextID, route: route))
                nextID += 1
                left -= amount
                amount = min(left, maxShardSizeMsat)
                feesCommitted += route.totalFeesMsat
                add(route, to: &committed)
                if let first = route.hops.first, bandwidth != nil, let b = bandwidth?[first.chanID] {
                    bandwidth?[first.chanID] = b > route.totalAmountMsat ? b - route.totalAmountMsat : 0
                }
            } catch {
                let canSplit = maxParts > 1 && amount / 2 >= minShardAmountMsat
                    && inFlight.count + planned.count + 1 < maxParts
                var splittable = false
                switch error {
                case .insufficientLiquidity, .noPath: splittable = true
                default: break
                }
                if splittable && canSplit {
                    amount = (amount + 1) / 2
                    continue
                }
                if planned.isEmpty && inFlight.isEmpty {
                    // Nothing in flight can complete the payment: fail now.
                    var reason = error
                    if case .noPath = error, amount < min(remaining, maxShardSizeMsat) {
                        reason = .insufficientLiquidity(amountMsat: remaining)
                    }
                    failure = .noRoute(reason)
                    return .failed(.noRoute(reason))
                }
                break
            }
        }
        if planned.isEmpty {
            if inFlight.isEmpty {
                failure = .noRoute(.insufficientLiquidity(amountMsat: remaining))
                return .failed(failure!)
            }
            return .wait
        }
        for s in planned { inFlight[s.id] = s.route }
        return .send(planned)
    }

    /// A shard settled: mission control learns the route worked.
    public mutating func shardSucceeded(_ id: UInt64, router: Router) {
        guard let route = inFlight.removeValue(forKey: id) else { return }
        settledAmountMsat += route.receiverAmountMsat
        settledFeesMsat += route.totalFeesMsat
        router.reportSuccess(route: route)
    }

    /// A shard failed: mission control learns, the graph takes any channel update, and a
    /// terminal failure (payee rejected the payment) stops the session.
    @discardableResult
    public mutating func shardFailed(_ id: UInt64, failure htlcFailure: HTLCFailure, router: Router) -> FailureOutcome {
        guard let route = inFlight.removeValue(forKey: id) else { return .retry }
        let outcome = router.reportFailure(route: route, failure: htlcFailure)
        if case .terminal(let reason) = outcome, failure == nil { failure = .payee(reason) }
        return outcome
    }

    private func committedPerChannel() -> [ShortChannelID: UInt64] {
        var m: [ShortChannelID: UInt64] = [:]
        for r in inFlight.values { add(r, to: &m) }
        return m
    }

    private func add(_ route: SourceRoute, to m: inout [ShortChannelID: UInt64]) {
        for (i, hop) in route.hops.enumerated() where i > 0 {
            m[hop.chanID, default: 0] += route.incomingAmountMsat(ofHop: i)
        }
    }
}
