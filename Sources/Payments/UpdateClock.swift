#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in unix nanoseconds (CLOCK_REALTIME).
public func unixNanosNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Issues update stamps: strictly increasing, >= the wall clock, and >= every time shown by the
/// snapshot being stamped. Not thread-safe (owned by `PaymentControl` under its lock).
struct UpdateClock {
    private(set) var last: Int64
    let now: @Sendable () -> Int64

    init(last: Int64, now: @escaping @Sendable () -> Int64) {
        self.last = last
        self.now = now
    }

    mutating func stamp(atLeast floor: Int64) -> Int64 {
        let s = max(now(), last &+ 1, floor)
        last = s
        return s
    }
}
