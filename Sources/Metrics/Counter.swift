import Synchronization

/// A monotonically increasing count (Prometheus `counter`): requests served, refusals, bytes.
///
/// Contract: lock-free; `increment` is one relaxed atomic add (a few ns uncontended), safe from
/// any thread; the value wraps at 2^64 (never reached in practice).
public final class Counter: Sendable {
    private let count = Atomic<UInt64>(0)

    public init() {}

    @inline(__always)
    public func increment(by amount: UInt64 = 1) { count.wrappingAdd(amount, ordering: .relaxed) }

    public var value: UInt64 { count.load(ordering: .relaxed) }
}
