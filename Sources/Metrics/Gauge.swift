import Synchronization

/// A value that goes up and down (Prometheus `gauge`): open streams, connections.
///
/// Contract: lock-free; every operation is one relaxed atomic operation, safe from any thread.
public final class Gauge: Sendable {
    private let current = Atomic<Int64>(0)

    public init() {}

    @inline(__always) public func increment(by amount: Int64 = 1) { current.wrappingAdd(amount, ordering: .relaxed) }
    @inline(__always) public func decrement(by amount: Int64 = 1) { current.wrappingSubtract(amount, ordering: .relaxed) }
    public func set(_ value: Int64) { current.store(value, ordering: .relaxed) }

    public var value: Int64 { current.load(ordering: .relaxed) }
}
