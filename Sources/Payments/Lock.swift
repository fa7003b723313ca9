#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain mutual-exclusion lock over `pthread_mutex_t` (heap allocated so its address is stable).
///
/// Used instead of actors on the hot paths (control tower notify, mailbox poll) because callers
/// include transport event-loop threads that must never suspend. Contract: never held across a
/// blocking call other than another `PaymentLock` taken in the documented order
/// (`PaymentControl` state → writer queue; `ControlTower` → mailbox).
public final class PaymentLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    @inline(__always) public func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) public func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    public func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    fileprivate var raw: UnsafeMutablePointer<pthread_mutex_t> { mutex }
}

/// A condition variable paired with a `PaymentLock`.
public final class PaymentCondition: @unchecked Sendable {
    public let lock = PaymentLock()
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
    public func wait() { pthread_cond_wait(cond, lock.raw) }
    public func signal() { pthread_cond_signal(cond) }
    public func broadcast() { pthread_cond_broadcast(cond) }
}

/// A one-shot rendezvous: a producer `fulfil`s once, a consumer `wait`s for the value.
/// Used by the synchronous wrappers over the asynchronous (group-committed) mutation API.
public final class PaymentPromise<T: Sendable>: @unchecked Sendable {
    private let condition = PaymentCondition()
    private var value: T?

    public init() {}

    public func fulfil(_ v: T) {
        condition.lock.lock()
        value = v
        condition.signal()
        condition.lock.unlock()
    }

    public func wait() -> T {
        condition.lock.lock()
        defer { condition.lock.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
