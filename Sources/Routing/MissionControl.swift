import Locks
import Foundation

/// What the payment should do after an HTLC failure, per LND's result interpretation.
public enum FailureOutcome: Sendable, Equatable {
    /// Try another route (mission control has learned from the failure).
    case retry
    /// Stop: the payment cannot succeed (LND reason INCORRECT_PAYMENT_DETAILS or ERROR).
    case terminal(TerminalReason)

    public enum TerminalReason: Int32, Sendable {
        /// `lnrpc.PaymentFailureReason` FAILURE_REASON_ERROR.
        case error = 3
        /// FAILURE_REASON_INCORRECT_PAYMENT_DETAILS.
        case incorrectPaymentDetails = 4
    }
}

/// LND's mission control (`routing/missioncontrol.go` + `result_interpretation.go`): remembers,
/// per directed node pair, the last success and failure amounts and times, and turns them into
/// success probabilities for pathfinding. Thread-safe; time is injectable (seconds).
public final class MissionControl: @unchecked Sendable {
    public let estimator: ProbabilityEstimator
    private let clock: @Sendable () -> Double
    private let lock = Lock()
    /// from → to → result.
    private var pairs: [NodeID: [NodeID: ProbabilityEstimator.PairResult]] = [:]
    /// LND `minFailureRelaxInterval`: a failure at a higher amount soon after a lower one is ignored.
    public var minFailureRelaxInterval: Double = 60

    public init(estimator: ProbabilityEstimator = ProbabilityEstimator(),
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.estimator = estimator
        self.clock = clock
    }

    /// A consistent copy for one pathfinding run.
    public struct Snapshot: Sendable {
        public let estimator: ProbabilityEstimator
        public let now: Double
        public let pairs: [NodeID: [NodeID: ProbabilityEstimator.PairResult]]
        public static let empty = Snapshot(estimator: ProbabilityEstimator(), now: 0, pairs: [:])
    }

    public func snapshot() -> Snapshot {
        lock.lock(); defer { lock.unlock() }
        return Snapshot(estimator: estimator, now: clock(), pairs: pairs)
    }

    /// The current result for a pair, if any.
    public func result(from: NodeID, to: NodeID) -> ProbabilityEstimator.PairResult? {
        lock.lock(); defer { lock.unlock() }
        return pairs[from]?[to]
    }

    /// Forgets everything (LND `ResetMissionControl`).
    public func reset() {
        lock.lock(); defer { lock.unlock() }
        pairs = [:]
    }

    // MARK: Learning

    /// Every pair of a settled route forwarded its amount.
    public func reportSuccess(route: SourceRoute) {
        lock.lock(); defer { lock.unlock() }
        let now = clock()
        for i in 0..<route.hops.count { recordSuccess(route, pair: i, now: now) }
    }

    /// Learns from a failed HTLC and says whether to keep trying (LND
    /// `interpretResult`). Pair `i` is `node(atSourceIndex: i) → hops[i]`.
    @discardableResult
    public func reportFailure(route: SourceRoute, failure: HTLCFailure) -> FailureOutcome {
        lock.lock(); defer { lock.unlock() }
        let now = clock()
        let k = failure.failureSourceIndex
        let n = route.hops.count
        let code = failure.message.code
        guard k >= 0, k <= n else {
            // An index outside the route: unreadable; penalize nothing specific.
            return .retry
        }
        if k == n {
            // The payee failed it.
            switch code {
            case .incorrectOrUnknownPaymentDetails, .incorrectPaymentAmount, .finalExpiryTooSoon:
                for i in 0..<n { recordSuccess(route, pair: i, now: now) }
                return .terminal(.incorrectPaymentDetails)
            case .mppTimeout:
                for i in 0..<n { recordSuccess(route, pair: i, now: now) }
                return .retry
            case .finalIncorrectCltvExpiry, .finalIncorrectHtlcAmount:
                // The hop before the payee altered the HTLC; with a direct channel it is terminal.
                if n == 1 { return .terminal(.error) }
                for i in 0..<(n - 1) { recordSuccess(route, pair: i, now: now) }
                recordFailure(route, pair: n - 1, amountMsat: 0, now: now)
                return .retry
            case .invalidOnionPayload:
                return .terminal(.error)
            default:
                failNode(route.hops[n - 1].pubKey, now: now)
                return .retry
            }
        }
        // A forwarding node (or ourselves at k == 0) failed its outgoing pair k.
        let failingNode = route.node(atSourceIndex: k)!
        for i in 0..<k { recordSuccess(route, pair: i, now: now) }
        switch code {
        case .temporaryChannelFailure:
            recordFailure(route, pair: k, amountMsat: route.incomingAmountMsat(ofHop: k), now: now)
        case .unknownNextPeer, .permanentChannelFailure, .channelDisabled, .requiredChannelFeatureMissing:
            recordFailure(route, pair: k, amountMsat: 0, now: now)
        case .feeInsufficient, .incorrectCltvExpiry, .amountBelowMinimum, .expiryTooSoon:
            // Policy failures: the carried channel_update corrects our view of the policy. Without
            // one the node gives us nothing to go on, so avoid the pair.
            if failure.message.channelUpdate == nil {
                recordFailure(route, pair: k, amountMsat: 0, now: now)
            }
        case .temporaryNodeFailure, .permanentNodeFailure, .requiredNodeFeatureMissing:
            failNode(failingNode, now: now)
        case .invalidOnionVersion, .invalidOnionHmac, .invalidOnionKey, .invalidOnionBlinding:
            // The previous hop corrupted the onion: avoid the incoming pair.
            if k > 0 { recordFailure(route, pair: k - 1, amountMsat: 0, now: now) } else { return .terminal(.error) }
        default:
            failNode(failingNode, now: now)
        }
        return .retry
    }

    // MARK: Pair bookkeeping (lock held)

    private func endpoints(_ route: SourceRoute, pair i: Int) -> (NodeID, NodeID) {
        (route.node(atSourceIndex: i)!, route.hops[i].pubKey)
    }

    private func recordSuccess(_ route: SourceRoute, pair i: Int, now: Double) {
        let (from, to) = endpoints(route, pair: i)
        let amt = route.incomingAmountMsat(ofHop: i)
        var r = pairs[from]?[to] ?? ProbabilityEstimator.PairResult()
        r.successTime = now
        r.successAmtMsat = max(r.successAmtMsat, amt)
        // A success above the failure amount invalidates the failure (LND setLastPairResult).
        if r.failTime != nil && r.failAmtMsat <= amt { r.failAmtMsat = amt + 1 }
        pairs[from, default: [:]][to] = r
    }

    private func recordFailure(_ route: SourceRoute, pair i: Int, amountMsat: UInt64, now: Double) {
        let (from, to) = endpoints(route, pair: i)
        var r = pairs[from]?[to] ?? ProbabilityEstimator.PairResult()
        if let t = r.failTime, amountMsat > r.failAmtMsat, now - t < minFailureRelaxInterval {
            // Keep the fresher, lower failure amount.
        } else {
            r.failTime = now
            r.failAmtMsat = amountMsat
        }
        if amountMsat == 0 {
            r.successAmtMsat = 0
            r.successTime = nil
        } else if r.successAmtMsat >= amountMsat {
            r.successAmtMsat = amountMsat - 1
        }
        pairs[from, default: [:]][to] = r
    }

    /// LND `failNode`: every known pair out of the node fails at any amount. Pairs with no
    /// history get an entry through the node probability (all its results are failures).
    private func failNode(_ node: NodeID, now: Double) {
        var byPeer = pairs[node] ?? [:]
        for (peer, var r) in byPeer {
            r.failTime = now; r.failAmtMsat = 0; r.successAmtMsat = 0; r.successTime = nil
            byPeer[peer] = r
        }
        // A sentinel pair so the node probability drops even for peers never tried.
        var sentinel = ProbabilityEstimator.PairResult()
        sentinel.failTime = now
        sentinel.failAmtMsat = 0
        byPeer[MissionControl.nodeSentinel] = sentinel
        pairs[node] = byPeer
    }

    /// Not a real key (prefix 0x02, all-zero x is not on the curve): marks a node-level failure.
    static let nodeSentinel = NodeID(bytes: [2] + [UInt8](repeating: 0, count: 32))!
}
