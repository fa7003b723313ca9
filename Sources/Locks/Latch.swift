/// A one-shot hand-off of a value: a producer `fulfil`s (the first call wins), consumers `wait`
/// until it has. Used by the blocking wrappers over asynchronous work (group-committed store
/// mutations, client calls, event-loop start and exit).
///
/// Contract: `wait` blocks its thread; never call it on an event-loop thread.
public final class Latch<Value>: @unchecked Sendable {
    private let condition = Condition()
    private var value: Value?

    public init() {}

    /// Stores the value unless one is stored already, and wakes every waiter.
    public func fulfil(_ v: Value) {
        condition.lock.withLock {
            if value == nil { value = v }
        }
        condition.broadcast()
    }

    /// Blocks until fulfilled, then returns the value.
    public func wait() -> Value {
        condition.lock.lock()
        defer { condition.lock.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
