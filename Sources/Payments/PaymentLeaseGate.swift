#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Locks

/// Whether this process may drive payment lifecycles now, and with which fencing token: the
/// local half of the replica lease (the database holds the other half, `PaymentLeaseDatabase`).
///
/// Contract:
/// - `grant(token, until)` is called by the lease keeper after the database confirmed the lease;
///   `until` is on the monotonic clock (`monotonicSeconds`), computed from when the confirming
///   request was *sent*, minus a safety margin, so it ends before the database's expiry whatever
///   the two wall clocks say.
/// - `token(now:)` is the token while `now < until`, nil after or once `revoke`d. Lifecycle writes
///   carry it (the store refuses them without one) and a payment run checks it before sending an
///   HTLC, so a replica whose keeper is stuck (a database that stopped answering) still stops
///   acting at `until` without the keeper's help.
/// - Safe from any thread.
public final class PaymentLeaseGate: @unchecked Sendable {
    private let lock = Lock()
    private var current: (token: Int64, until: Double)?
    private let clock: @Sendable () -> Double

    /// `clock`: monotonic seconds (tests inject one).
    public init(clock: @escaping @Sendable () -> Double = monotonicSeconds) {
        self.clock = clock
    }

    public func grant(_ token: Int64, until: Double) {
        lock.withLock { current = (token, until) }
    }

    public func revoke() {
        lock.withLock { current = nil }
    }

    /// The token if the lease is still good locally.
    public func token(now: Double? = nil) -> Int64? {
        let t = now ?? clock()
        return lock.withLock { current.flatMap { t < $0.until ? $0.token : nil } }
    }

    /// True while `token()` is not nil.
    public var mayAct: Bool { token() != nil }
}

/// CLOCK_MONOTONIC in seconds (never jumps with the wall clock).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
