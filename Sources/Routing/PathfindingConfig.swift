/// Cost parameters of the search, LND's defaults (`routerrpc` config).
public struct PathfindingConfig: Sendable, Equatable {
    /// LND `PaymentAttemptPenalty` (100 sat): the fixed cost of a failed attempt, divided by the
    /// path's success probability to turn probability into msat.
    public var attemptCostMsat: UInt64 = 100_000
    /// LND `AttemptCostPPM`: the part of the attempt cost proportional to the amount.
    public var attemptCostPPM: UInt64 = 1000
    /// LND `RiskFactorBillionths`: cost of locking 1 msat for 1 block is 15e-9 msat.
    public var riskFactorBillionths: UInt64 = 15
    /// LND `MinRouteProbability`: paths less likely than this are not considered.
    public var minProbability: Double = 0.01
    /// Order the search with an admissible lower bound on the cost still to come (A*): same
    /// routes as plain Dijkstra, far fewer nodes visited on large graphs.
    public var useAStar = true

    public init() {}
}
