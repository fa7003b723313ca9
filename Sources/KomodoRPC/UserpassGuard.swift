import Locks
import Crypto
import Payments

/// KDF's v2 authentication with its rate limiter (`rpc/rate_limiter.rs`): the `userpass` of a
/// request must equal `rpc_password` (compared in constant time); each wrong one from an IP
/// counts, the first leaving 9 attempts, down to 0 at the 10th; from then on that IP is banned
/// (every request, even with the right password) until the process restarts. Nothing resets a
/// count, a successful call included.
///
/// Memory is bounded: at most `capacity` IPs are tracked. When full, an IP that is not banned is
/// forgotten to make room (a banned IP is forgotten only if every tracked IP is banned).
public final class UserpassGuard: @unchecked Sendable {
    public static let maxFailures = 10
    public enum Outcome: Equatable, Sendable {
        case allowed
        case banned
        case notSet
        case invalid(attemptsLeft: Int)
    }

    private let password: [UInt8]
    private let lock = Lock()
    private var failures: [String: Int] = [:]
    public let capacity: Int

    public init(password: String, capacity: Int = 65_536) {
        self.password = Array(password.utf8)
        self.capacity = capacity
    }

    /// Step 5 of KDF's order: is `ip` banned?
    public func isBanned(_ ip: String) -> Bool {
        lock.withLock { (failures[ip] ?? 0) >= Self.maxFailures }
    }

    /// Step 6: checks `userpass` (nil when the request has none) and counts a wrong one.
    public func check(_ userpass: String?, ip: String) -> Outcome {
        guard let userpass else { return .notSet }
        if ConstantTime.equals(Array(userpass.utf8), password) { return .allowed }
        return lock.withLock {
            if failures[ip] == nil && failures.count >= capacity { evict() }
            let n = min((failures[ip] ?? 0) + 1, Self.maxFailures)
            failures[ip] = n
            return .invalid(attemptsLeft: Self.maxFailures - n)
        }
    }

    /// The legacy (no `mmrpc`) path's check: the same comparison, nothing counted.
    public func matches(_ userpass: String) -> Bool {
        ConstantTime.equals(Array(userpass.utf8), password)
    }

    private func evict() {
        if let victim = failures.first(where: { $0.value < Self.maxFailures })?.key ?? failures.first?.key {
            failures[victim] = nil
        }
    }
}
