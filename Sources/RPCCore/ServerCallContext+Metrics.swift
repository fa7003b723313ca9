import Metrics
import Transport

/// The RPC metrics of a call, kept in one place for every face: a face calls
/// `metricsBegin` when the call is routed (with its method's series, nil when metrics are off),
/// `metricsStreamOpened` when a server stream starts, and `metricsEnd` exactly where the call
/// ends (its done flag is set), whatever the reason (answer, error, refusal, client cancel). The
/// call then counts once in `paytrack_rpc_requests_total` with its code, once in the latency
/// histogram, and its stream leaves `paytrack_rpc_open_streams`. Loop thread only, like the call.
extension ServerCallContext {
    /// Starts measuring this call for `series` (no-op when nil).
    @inline(__always)
    package final func metricsBegin(_ series: RPCMethodSeries?) {
        guard let series else { return }
        metricsSeries = series
        metricsStartNanos = monotonicNanos()
    }

    /// The call is a server stream from now on (counted in the open-streams gauge until its end).
    @inline(__always)
    package final func metricsStreamOpened() {
        guard let s = metricsSeries, !metricsStreamOpen else { return }
        metricsStreamOpen = true
        s.streamOpened()
    }

    /// The call ended with `code`; later calls are ignored (each call counts once).
    @inline(__always)
    package final func metricsEnd(_ code: GRPCStatus.Code) {
        guard let s = metricsSeries else { return }
        metricsSeries = nil
        let elapsed = monotonicNanos() &- metricsStartNanos
        if code == .ok { s.endedOK(nanoseconds: elapsed) } else { s.ended(code: code.name, nanoseconds: elapsed) }
        if metricsStreamOpen {
            metricsStreamOpen = false
            s.streamClosed()
        }
    }
}
