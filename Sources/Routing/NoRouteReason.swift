/// LND's `lnrpc.PaymentFailureReason` values a routing failure maps to (raw values are the
/// RPC enum's numbers: NO_ROUTE = 2, ERROR = 3, INSUFFICIENT_BALANCE = 5).
public enum LNDFailureReason: Int32, Sendable {
    case noRoute = 2
    case error = 3
    case insufficientBalance = 5
}

/// Why no route exists, precise enough to give both LDK's synchronous `find_route` error string
/// (komodo §9.1, in LDK's check order) and LND's payment failure reason.
public enum NoRouteReason: Sendable, Equatable, Error, CustomStringConvertible {
    /// Payee is the source.
    case routeToSelf
    /// Amount above 21e6 BTC.
    case amountExceedsMaximum
    /// Amount is zero.
    case zeroAmount
    /// A route hint hop starts at the payee.
    case routeHintHasPayeeAsSource
    /// `cltvLimit` ≤ final CLTV delta: no path can fit.
    case cltvLimitBelowFinalDelta(cltvLimit: UInt32, finalCLTVDelta: UInt32)
    /// `maxParts` was 0.
    case noPathsAllowed
    /// The source has no usable (enabled, active) channel, after `outgoingChanIDs`.
    case noOutboundChannels
    /// The source's total spendable outbound liquidity is below the amount (LND
    /// `errInsufficientBalance` → FAILURE_REASON_INSUFFICIENT_BALANCE).
    case insufficientLocalBalance(availableMsat: UInt64, requiredMsat: UInt64)
    /// The payee is neither in the graph nor reachable through a route hint.
    case targetUnknown
    /// No path at all under the restrictions (topology, disabled channels, hop limit, last hop,
    /// outgoing channels, mission-control penalties).
    case noPath
    /// Paths exist for small amounts but none (or no split within the part limits) carries this
    /// amount: channel capacities/max HTLC/local liquidity are too small.
    case insufficientLiquidity(amountMsat: UInt64)
    /// Paths exist but the lowest-fee one costs `requiredFeeMsat`, more than the fee limit.
    case feeLimitExceeded(requiredFeeMsat: UInt64, feeLimitMsat: UInt64)
    /// Paths within the fee limit exist but the one locking the fewest blocks locks
    /// `requiredBlocks` (total time lock − height), more than `cltvLimit`.
    case cltvLimitExceeded(requiredBlocks: UInt32, cltvLimit: UInt32)

    /// LDK's error text (lightning 0.0.113 `router.rs`; the fee limit text is LDK 0.2's).
    public var ldkMessage: String {
        switch self {
        case .routeToSelf: return "Cannot generate a route to ourselves"
        case .amountExceedsMaximum: return "Cannot generate a route of more value than all existing satoshis"
        case .zeroAmount: return "Cannot send a payment of 0 msat"
        case .routeHintHasPayeeAsSource: return "Route hint cannot have the payee as the source."
        case .cltvLimitBelowFinalDelta:
            return "Can't find a route where the maximum total CLTV expiry delta is below the final CLTV expiry."
        case .noPathsAllowed: return "Can't find a route with no paths allowed."
        case .noOutboundChannels: return "Cannot route when there are no outbound routes away from us"
        case .targetUnknown, .noPath, .cltvLimitExceeded: return "Failed to find a path to the given destination"
        case .insufficientLocalBalance, .insufficientLiquidity:
            return "Failed to find a sufficient route to the given destination"
        case .feeLimitExceeded: return "Failed to find route that adheres to the maximum total fee limit"
        }
    }

    /// LND's payment failure reason. Request-validation cases (self payment, zero amount, ...)
    /// are errors LND rejects before a payment starts; they map to ERROR if they ever reach here.
    public var lndFailureReason: LNDFailureReason {
        switch self {
        // LND sums the outbound bandwidth first: with no usable channel the total is 0 < amount.
        case .insufficientLocalBalance, .noOutboundChannels: return .insufficientBalance
        case .routeToSelf, .amountExceedsMaximum, .zeroAmount, .routeHintHasPayeeAsSource,
             .cltvLimitBelowFinalDelta, .noPathsAllowed:
            return .error
        case .targetUnknown, .noPath, .insufficientLiquidity, .feeLimitExceeded,
             .cltvLimitExceeded:
            return .noRoute
        }
    }

    public var description: String {
        switch self {
        case let .insufficientLocalBalance(a, r): return "insufficient local balance: \(a) msat available, \(r) msat needed"
        case let .feeLimitExceeded(f, l): return "lowest route fee \(f) msat exceeds fee limit \(l) msat"
        case let .cltvLimitExceeded(b, l): return "shortest route locks \(b) blocks, above cltv limit \(l)"
        case let .insufficientLiquidity(a): return "no route can carry \(a) msat"
        default: return ldkMessage
        }
    }
}
