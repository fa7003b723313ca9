import Glibc

/// A plain pthread mutex. Used only for the cross-thread hand-off queue of an `EventLoop` and for
/// the blocking client helpers; nothing on a loop's hot path blocks on it for long.
public final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    public init() { pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    @inline(__always) public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}

/// A one-shot latch with a value: `wait` blocks the calling (non-loop) thread until `fulfil`.
public final class Latch<Value>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var value: Value?
    public init() { pthread_mutex_init(&mutex, nil); pthread_cond_init(&cond, nil) }
    deinit { pthread_cond_destroy(&cond); pthread_mutex_destroy(&mutex) }
    /// Stores the value (first call wins) and wakes waiters.
    public func fulfil(_ v: Value) {
        pthread_mutex_lock(&mutex)
        if value == nil { value = v }
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }
    /// Blocks until fulfilled. Never call on an event loop thread.
    public func wait() -> Value {
        pthread_mutex_lock(&mutex)
        while value == nil { pthread_cond_wait(&cond, &mutex) }
        let v = value!
        pthread_mutex_unlock(&mutex)
        return v
    }
}

/// Monotonic clock in nanoseconds.
@inline(__always) public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
