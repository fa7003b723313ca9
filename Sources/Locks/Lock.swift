#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The code base's one mutual-exclusion lock: a `pthread_mutex_t` stored in the lock object's own
/// allocation (one heap object per lock, its address stable for the lock's life).
///
/// Used instead of actors because callers include transport event-loop threads, which must never
/// suspend. Contract: a lock is held only for short, non-blocking critical sections; where a
/// component takes two locks it documents the order. ``Condition`` waits on a `Lock`;
/// ``LockedValue`` pairs one with the value it guards; ``Latch`` is a one-shot hand-off built on both.
public final class Lock: @unchecked Sendable {
    @usableFromInline let storage: LockStorage<Void>

    public init() { storage = LockStorage.create(value: ()) }

    @inlinable public func lock() { storage.lock() }
    @inlinable public func unlock() { storage.unlock() }

    /// Runs `body` with the lock held.
    @inlinable
    public func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        storage.lock()
        defer { storage.unlock() }
        return try body()
    }

    /// The mutex itself, for ``Condition``.
    @usableFromInline var mutex: UnsafeMutablePointer<pthread_mutex_t> { storage.mutex }
}

/// A value and the `pthread_mutex_t` that guards it in one allocation (a `ManagedBuffer` whose
/// header is the value and whose single element is the mutex). The storage of ``Lock`` and
/// ``LockedValue``.
public final class LockStorage<Value>: ManagedBuffer<Value, pthread_mutex_t> {
    static func create(value: Value) -> LockStorage<Value> {
        let buffer = Self.create(minimumCapacity: 1) { _ in value }
        let storage = unsafeDowncast(buffer, to: LockStorage<Value>.self)
        storage.withUnsafeMutablePointerToElements { m in
            m.initialize(to: pthread_mutex_t())
            pthread_mutex_init(m, nil)
        }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { m in
            pthread_mutex_destroy(m)
            m.deinitialize(count: 1)
        }
    }

    @inlinable var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        withUnsafeMutablePointerToElements { $0 }
    }

    @inlinable func lock() { pthread_mutex_lock(mutex) }
    @inlinable func unlock() { pthread_mutex_unlock(mutex) }
}
