#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A condition variable paired with its own ``Lock``.
///
/// Contract: `wait` is called with `lock` held and returns with it held (spurious wake-ups
/// happen: wait in a loop on the predicate); `signal`/`broadcast` may be called with or without it.
/// Never wait on an event-loop thread.
public final class Condition: @unchecked Sendable {
    public let lock = Lock()
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deinitialize(count: 1)
        cond.deallocate()
    }

    /// Waits; the caller holds `lock`.
    public func wait() { pthread_cond_wait(cond, lock.mutex) }
    public func signal() { pthread_cond_signal(cond) }
    public func broadcast() { pthread_cond_broadcast(cond) }
}
