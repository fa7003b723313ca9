import Payments

/// The replica lease as a state machine (pure: no clock, no database). `PaymentLeaseKeeper` feeds
/// it the monotonic time and the database's answers and carries out the `Action`s it returns.
///
/// The rules it keeps (with T = `--db.postgres.leasetimeout`, `Timing`):
/// - The database grants a lease for `leaseSeconds` (0.8 T) from the moment it handles a request
///   (its own clock). Locally the holder may act until `sentAt + leaseSeconds − marginSeconds`,
///   counted from when the request was *sent*, which is earlier: it stops at least `marginSeconds`
///   (0.1 T) before anyone may take its payments over, whatever the two wall clocks say (only a
///   difference in clock *rate* of more than margin / lease, 12 %, could break it).
/// - It renews every `renewEvery` (0.2 T), retries a failed renewal every `retryEvery`, and when
///   its local deadline passes without a confirmed renewal it stops acting (`stopActing`: abandon
///   every run, write nothing) and acquires a new lease with a new token. A renewal the database
///   refuses (the lease had lapsed there) stops it at once. It never renews a lapsed token.
/// - While holding, it looks for payments of lapsed leases every `scanEvery` (0.1 T) and on
///   acquiring (`takeOver`), so a crashed replica's payments move within 0.8 T + 0.1 T + one
///   round trip of its last renewal: under T.
public struct PaymentLeaseMachine: Sendable {
    public struct Timing: Sendable, Equatable {
        /// `--db.postgres.leasetimeout` in seconds.
        public var timeout: Double
        public init(timeout: Double) { self.timeout = timeout }
        /// How long the database grants each (re)newal.
        public var leaseSeconds: Double { timeout * 0.8 }
        /// How long before the database's expiry the holder stops writing and sending.
        public var marginSeconds: Double { timeout * 0.1 }
        public var renewEvery: Double { timeout * 0.2 }
        public var scanEvery: Double { timeout * 0.1 }
        public var retryEvery: Double { min(0.5, timeout * 0.05) }
    }

    public enum State: Equatable, Sendable {
        /// No lease: ask for one at `acquireAt`.
        case unheld(acquireAt: Double)
        /// A request for a new lease was sent at `sentAt`.
        case acquiring(sentAt: Double)
        /// Holding `token`: may act until `actUntil`; renew at `renewAt`.
        case holding(token: Int64, actUntil: Double, renewAt: Double)
        /// Holding `token`; a renewal sent at `sentAt` is unanswered.
        case renewing(token: Int64, actUntil: Double, sentAt: Double)
        /// Stopped for good (shutdown).
        case closed
    }

    public enum Action: Equatable, Sendable {
        /// Register a new holder (`PaymentLeaseDatabase.acquire`), then report `acquired` or `acquireFailed`.
        case acquire
        /// Extend `token` (`PaymentLeaseDatabase.renew`), then report `renewed` or `renewFailed`.
        case renew(Int64)
        /// Let lifecycle writes and HTLC sends use `token` until `until` (`PaymentLeaseGate.grant`).
        case grant(Int64, until: Double)
        /// Lease lost: revoke the gate, abandon every payment run without writing; the payments
        /// stay in the database for whoever takes them over.
        case stopActing(Int64)
        /// Re-own the payments of lapsed leases and resume them (`PaymentLeaseDatabase.takeOver`).
        case takeOver(Int64)
        /// End `token`'s lease in the database at once (`PaymentLeaseDatabase.release`).
        case release(Int64)
    }

    public let timing: Timing
    public private(set) var state: State
    private var scanAt = 0.0

    public init(timing: Timing, now: Double) {
        self.timing = timing
        state = .unheld(acquireAt: now)
    }

    /// Whether runs may act at `now` (what the gate says, for tests).
    public func mayAct(now: Double) -> Bool {
        switch state {
        case .holding(_, let until, _), .renewing(_, let until, _): return now < until
        default: return false
        }
    }

    /// When `tick` has something to do next.
    public func nextDeadline() -> Double {
        switch state {
        case .unheld(let at): return at
        case .acquiring: return .infinity
        case .holding(_, let until, let renewAt): return min(until, renewAt, scanAt)
        case .renewing(_, let until, _): return min(until, scanAt)
        case .closed: return .infinity
        }
    }

    /// Time passed: start what is due.
    public mutating func tick(now: Double) -> [Action] {
        switch state {
        case .unheld(let at) where now >= at:
            state = .acquiring(sentAt: now)
            return [.acquire]
        case .holding(let token, let until, _) where now >= until, .renewing(let token, let until, _) where now >= until:
            state = .unheld(acquireAt: now)
            return [.stopActing(token)]
        case .holding(let token, let until, let renewAt):
            var actions: [Action] = []
            if now >= scanAt {
                scanAt = now + timing.scanEvery
                actions.append(.takeOver(token))
            }
            if now >= renewAt {
                state = .renewing(token: token, actUntil: until, sentAt: now)
                actions.append(.renew(token))
            }
            return actions
        case .renewing(let token, _, _) where now >= scanAt:
            scanAt = now + timing.scanEvery
            return [.takeOver(token)]
        default:
            return []
        }
    }

    /// The database registered `token` for a request sent at `sentAt`.
    public mutating func acquired(_ token: Int64, sentAt: Double, now: Double) -> [Action] {
        guard case .acquiring = state else {
            // Closed meanwhile: give it back.
            return [.release(token)]
        }
        let until = sentAt + timing.leaseSeconds - timing.marginSeconds
        guard now < until else {
            // The answer came too late to act on: give it back and ask again.
            state = .unheld(acquireAt: now)
            return [.release(token)]
        }
        state = .holding(token: token, actUntil: until, renewAt: sentAt + timing.renewEvery)
        scanAt = now + timing.scanEvery
        return [.grant(token, until: until), .takeOver(token)]
    }

    public mutating func acquireFailed(now: Double) -> [Action] {
        guard case .acquiring = state else { return [] }
        state = .unheld(acquireAt: now + timing.retryEvery)
        return []
    }

    /// The renewal sent at `sentAt` was confirmed.
    public mutating func renewed(sentAt: Double, now: Double) -> [Action] {
        guard case .renewing(let token, let until, _) = state else { return [] }
        let extended = max(until, sentAt + timing.leaseSeconds - timing.marginSeconds)
        guard now < extended else {
            state = .unheld(acquireAt: now)
            return [.stopActing(token)]
        }
        state = .holding(token: token, actUntil: extended, renewAt: sentAt + timing.renewEvery)
        return [.grant(token, until: extended)]
    }

    /// The renewal failed: `refused` when the database answered that the lease had lapsed (stop
    /// now), else it could not be asked (retry until the local deadline).
    public mutating func renewFailed(refused: Bool, now: Double) -> [Action] {
        guard case .renewing(let token, let until, _) = state else { return [] }
        if refused || now >= until {
            state = .unheld(acquireAt: refused ? now : now + timing.retryEvery)
            return [.stopActing(token)]
        }
        state = .holding(token: token, actUntil: until, renewAt: now + timing.retryEvery)
        return []
    }

    /// Shutdown: stop acting and release the lease so others take over at once.
    public mutating func close() -> [Action] {
        defer { state = .closed }
        switch state {
        case .holding(let token, _, _), .renewing(let token, _, _): return [.stopActing(token), .release(token)]
        default: return []
        }
    }
}
