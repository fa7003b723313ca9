#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LND's apriori probability estimator (`routing/probability_apriori.go`), which mission control
/// uses to turn past pair results into a success probability for the next attempt.
///
/// - With no history a hop succeeds with `aprioriHopProbability`, scaled down as the amount nears
///   the channel capacity (`capacityFactor`).
/// - A node's other pairs pull that towards 0 (failures) or `prevSuccessProbability`
///   (successes), weighted against the apriori value by `aprioriWeight`.
/// - A pair that failed at ≤ this amount recovers from 0 with half-life `penaltyHalfLife`;
///   a pair that succeeded at ≥ this amount gets `prevSuccessProbability`.
public struct ProbabilityEstimator: Sendable, Equatable {
    public var aprioriHopProbability: Double = 0.6
    public var aprioriWeight: Double = 0.5
    /// Seconds.
    public var penaltyHalfLife: Double = 3600
    public var prevSuccessProbability: Double = 0.95
    /// LND `capacityCutoffFraction` / `capacitySmearingFraction`.
    public var capacityCutoffFraction: Double = 0.75
    public var capacitySmearingFraction: Double = 0.1

    public init() {}

    /// Results of one directed pair (LND `TimedPairResult`, merged as in `setLastPairResult`).
    public struct PairResult: Sendable, Equatable {
        /// Seconds; nil if never failed.
        public var failTime: Double?
        /// Amounts ≥ this failed (0 = every amount).
        public var failAmtMsat: UInt64 = 0
        public var successTime: Double?
        /// Amounts ≤ this succeeded.
        public var successAmtMsat: UInt64 = 0
        public init() {}
    }

    /// `2^(-age / halfLife)`: 1 for a fresh result, halving every half-life.
    @inlinable
    public func weight(age: Double) -> Double {
        exp2(-max(0, age) / penaltyHalfLife)
    }

    /// LND `capacityFactor`: ~1 well below the cutoff, 0.5 at `cutoff·capacity`, → 0 at capacity.
    @inlinable
    public func capacityFactor(amountMsat: UInt64, capacityMsat: UInt64) -> Double {
        guard capacityMsat > 0 && capacityMsat != .max else { return 1 }
        let amt = Double(amountMsat), cap = Double(capacityMsat)
        if amountMsat > capacityMsat { return 0 }
        let exponent = -(amt - cap * capacityCutoffFraction) / (cap * capacitySmearingFraction)
        return 1 - 1 / (1 + exp(exponent))
    }

    /// Probability that the node with these results (by peer) forwards `amountMsat` to some peer
    /// it has no history with.
    public func nodeProbability(results: [Int32: PairResult], amountMsat: UInt64, capacityMsat: UInt64, now: Double) -> Double {
        let apriori = aprioriHopProbability * capacityFactor(amountMsat: amountMsat, capacityMsat: capacityMsat)
        if aprioriWeight >= 1 || results.isEmpty { return apriori }
        let aprioriFactor = 1 / (1 - aprioriWeight) - 1
        var total = apriori * aprioriFactor
        var weights = aprioriFactor
        for r in results.values {
            if let t = r.successTime, amountMsat <= r.successAmtMsat {
                let w = weight(age: now - t)
                total += prevSuccessProbability * w
                weights += w
            } else if let t = r.failTime, amountMsat >= r.failAmtMsat {
                weights += weight(age: now - t)
            }
        }
        return total / weights
    }

    /// LND `calculateProbability`: the pair's own last result refines the node probability.
    public func pairProbability(nodeProbability: Double, result: PairResult?, amountMsat: UInt64, now: Double) -> Double {
        guard let r = result else { return nodeProbability }
        if r.successTime != nil && amountMsat <= r.successAmtMsat { return prevSuccessProbability }
        guard let t = r.failTime, amountMsat >= r.failAmtMsat else { return nodeProbability }
        return nodeProbability * (1 - weight(age: now - t))
    }
}
