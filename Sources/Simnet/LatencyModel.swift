/// Per-hop delay of a simulated HTLC: `base` plus a uniform jitter in [0, jitter], drawn from the
/// network's seeded generator. `.zero` (the default for tests and benchmarks) never sleeps.
public struct LatencyModel: Sendable, Equatable {
    public var baseNanoseconds: UInt64
    public var jitterNanoseconds: UInt64

    public init(baseNanoseconds: UInt64, jitterNanoseconds: UInt64 = 0) {
        self.baseNanoseconds = baseNanoseconds
        self.jitterNanoseconds = jitterNanoseconds
    }

    public static let zero = LatencyModel(baseNanoseconds: 0)
    /// A plausible internet hop: 30 ms ± 20 ms.
    public static let realistic = LatencyModel(baseNanoseconds: 30_000_000, jitterNanoseconds: 20_000_000)

    public var isZero: Bool { baseNanoseconds == 0 && jitterNanoseconds == 0 }

    func sample(_ rng: inout SeededGenerator) -> UInt64 {
        jitterNanoseconds == 0 ? baseNanoseconds : baseNanoseconds + UInt64.random(in: 0...jitterNanoseconds, using: &rng)
    }
}

/// How the simulator waits; tests inject one that returns at once or records the delays.
public protocol SimulationSleeper: Sendable {
    func sleep(nanoseconds: UInt64) async
}

/// Real time: `Task.sleep`.
public struct TaskSleeper: SimulationSleeper {
    public init() {}
    public func sleep(nanoseconds: UInt64) async {
        if nanoseconds > 0 { try? await Task.sleep(nanoseconds: nanoseconds) }
    }
}
