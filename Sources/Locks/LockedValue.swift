/// A value reachable only with its lock held (the ``Lock`` family's guarded box: one allocation
/// holding the value and its mutex).
///
/// Contract: `withLock` gives the closure exclusive `inout` access; nothing else reads or writes
/// the value. Keep the closure short and non-blocking.
public final class LockedValue<Value>: @unchecked Sendable {
    @usableFromInline let storage: LockStorage<Value>

    public init(_ value: Value) { storage = LockStorage.create(value: value) }

    @inlinable
    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        storage.lock()
        defer { storage.unlock() }
        return try storage.withUnsafeMutablePointerToHeader { (header) throws(E) -> R in try body(&header.pointee) }
    }
}
