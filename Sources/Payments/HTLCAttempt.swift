/// What the lifecycle knows when it launches an HTLC (LND `HTLCAttemptInfo`).
public struct HTLCAttemptInfo: Hashable, Sendable {
    /// Unique attempt id (LND draws these from a global sequence; `lnrpc.HTLCAttempt.attempt_id`).
    public var attemptID: UInt64
    /// The onion session key (kept so a restarted lifecycle can decrypt a late failure); may be empty.
    public var sessionKey: [UInt8]
    public var route: Route
    public var attemptTimeNs: Int64
    /// Per-shard hash for AMP attempts; nil means the payment hash.
    public var hash: PaymentHash?

    public init(attemptID: UInt64, sessionKey: [UInt8] = [], route: Route, attemptTimeNs: Int64, hash: PaymentHash? = nil) {
        self.attemptID = attemptID
        self.sessionKey = sessionKey
        self.route = route
        self.attemptTimeNs = attemptTimeNs
        self.hash = hash
    }
}

/// One HTLC attempt with its outcome, if any (LND `HTLCAttempt`).
public struct HTLCAttempt: Hashable, Sendable {
    public enum Status: Int32, Sendable {
        /// lnrpc.HTLCAttempt.HTLCStatus numbering.
        case inFlight = 0, succeeded = 1, failed = 2
    }

    public var info: HTLCAttemptInfo
    public var settle: HTLCSettle?
    public var failure: HTLCFailInfo?

    public init(info: HTLCAttemptInfo, settle: HTLCSettle? = nil, failure: HTLCFailInfo? = nil) {
        self.info = info
        self.settle = settle
        self.failure = failure
    }

    public var attemptID: UInt64 { info.attemptID }
    public var route: Route { info.route }
    public var attemptTimeNs: Int64 { info.attemptTimeNs }

    public var status: Status {
        if settle != nil { return .succeeded }
        if failure != nil { return .failed }
        return .inFlight
    }

    /// Settle or fail time; 0 while in flight (`lnrpc.HTLCAttempt.resolve_time_ns`).
    public var resolveTimeNs: Int64 { settle?.settleTimeNs ?? failure?.failTimeNs ?? 0 }
}
