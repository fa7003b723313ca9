import Synchronization

/// The series of one (api, method) of ``RPCCallMetrics``: what a face keeps per served method and
/// updates per call.
///
/// Contract: the OK counter, the latency histogram and the open-streams gauge are found in their
/// families once, on first use (after that one relaxed atomic load of a pointer: the standard
/// library's `AtomicLazyReference.load` is not specialized across modules and cost ~650
/// instructions per call, Benchmarks/transport/callgrind); other status codes are looked up in
/// the family per call (a lock: failures are the rare path). Thread-safe.
public final class RPCMethodSeries: @unchecked Sendable {
    public let api: String
    public let method: String
    private let metrics: RPCCallMetrics
    /// The retained `Resolved`, as its address bits (0 until first use); set once.
    private let resolved = Atomic<UInt>(0)

    final class Resolved: Sendable {
        let ok: Counter
        let duration: Histogram
        let openStreams: Gauge
        init(ok: Counter, duration: Histogram, openStreams: Gauge) {
            self.ok = ok; self.duration = duration; self.openStreams = openStreams
        }
    }

    init(metrics: RPCCallMetrics, api: String, method: String) {
        self.metrics = metrics
        self.api = api
        self.method = method
    }

    deinit {
        let bits = resolved.load(ordering: .acquiring)
        if bits != 0 { Unmanaged<Resolved>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release() }
    }

    @inline(__always) private var series: Resolved {
        let bits = resolved.load(ordering: .acquiring)
        if bits != 0 { return Unmanaged<Resolved>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).takeUnretainedValue() }
        return resolve()
    }

    private func resolve() -> Resolved {
        let r = Resolved(ok: metrics.requests.series(api, method, "OK"), duration: metrics.duration.series(api, method),
                         openStreams: metrics.openStreams.series(api, method))
        let bits = UInt(bitPattern: Unmanaged.passRetained(r).toOpaque())
        let (won, current) = resolved.compareExchange(expected: 0, desired: bits, ordering: .acquiringAndReleasing)
        if won { return r }
        Unmanaged<Resolved>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release()
        // Another thread resolved first: the family gave it the same series objects.
        return Unmanaged<Resolved>.fromOpaque(UnsafeRawPointer(bitPattern: current)!).takeUnretainedValue()
    }

    /// One call ended with `code` ("OK" takes the fast path) after `nanoseconds`.
    public func ended(code: String, nanoseconds: UInt64) {
        let s = series
        if code == "OK" { s.ok.increment() } else { metrics.requests.series(api, method, code).increment() }
        s.duration.observe(nanoseconds: nanoseconds)
    }

    /// One call ended with OK after `nanoseconds` (no label comparison).
    @inline(__always)
    public func endedOK(nanoseconds: UInt64) {
        let s = series
        s.ok.increment()
        s.duration.observe(nanoseconds: nanoseconds)
    }

    /// A request refused before it became a call (no route, undecodable request): counted with
    /// `code`, not timed.
    public func refused(code: String) {
        if code == "OK" { series.ok.increment() } else { metrics.requests.series(api, method, code).increment() }
    }

    /// A server stream of this method opened / closed.
    public func streamOpened() { series.openStreams.increment() }
    public func streamClosed() { series.openStreams.decrement() }
}
