import Synchronization

/// Mutual exclusion for the mutable state of the enclosing class (root keys, verification
/// cache): the standard library's `Synchronization.Mutex` (no pthread code of our own; the
/// module does not depend on Foundation). Only scoped `withLock` is offered.
final class Lock: Sendable {
    private let mutex = Mutex(())

    @inline(__always)
    func withLock<T: Sendable, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try mutex.withLock { (_: inout ()) throws(E) -> T in try body() }
    }
}
