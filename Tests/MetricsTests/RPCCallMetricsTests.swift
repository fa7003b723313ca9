@testable import Metrics
import XCTest

final class RPCCallMetricsTests: XCTestCase {
    func sample(_ text: String, _ line: String) -> Double? {
        for l in text.split(separator: "\n") where l.hasPrefix(line + " ") { return Double(l.dropFirst(line.count + 1)) }
        return nil
    }

    func testCallsCountByCodeWithLatencyAndStreams() throws {
        let registry = MetricsRegistry()
        let rpc = try RPCCallMetrics(registry: registry)
        let s = rpc.series(api: "grpc", method: "/a.B/C")
        XCTAssertEqual(registry.exposition().contains("/a.B/C"), false, "no series before the first call")
        s.endedOK(nanoseconds: 2_000_000)
        s.ended(code: "OK", nanoseconds: 1_000)
        s.ended(code: "NotFound", nanoseconds: 30_000)
        s.refused(code: "InvalidArgument")
        s.streamOpened(); s.streamOpened(); s.streamClosed()
        let t = registry.exposition()
        XCTAssertEqual(sample(t, #"paytrack_rpc_requests_total{api="grpc",method="/a.B/C",code="OK"}"#), 2)
        XCTAssertEqual(sample(t, #"paytrack_rpc_requests_total{api="grpc",method="/a.B/C",code="NotFound"}"#), 1)
        XCTAssertEqual(sample(t, #"paytrack_rpc_requests_total{api="grpc",method="/a.B/C",code="InvalidArgument"}"#), 1)
        XCTAssertEqual(sample(t, #"paytrack_rpc_duration_seconds_count{api="grpc",method="/a.B/C"}"#), 3, "a refusal is not timed")
        XCTAssertEqual(sample(t, #"paytrack_rpc_duration_seconds_bucket{api="grpc",method="/a.B/C",le="5e-05"}"#), 2)
        XCTAssertEqual(sample(t, #"paytrack_rpc_duration_seconds_bucket{api="grpc",method="/a.B/C",le="0.0025"}"#), 3)
        XCTAssertEqual(sample(t, #"paytrack_rpc_open_streams{api="grpc",method="/a.B/C"}"#), 1)
    }

    func testTwoHandlesOfOneMethodShareSeries() throws {
        let registry = MetricsRegistry()
        let rpc = try RPCCallMetrics(registry: registry)
        rpc.series(api: "rest", method: "m").endedOK(nanoseconds: 1)
        rpc.series(api: "rest", method: "m").endedOK(nanoseconds: 1)
        XCTAssertEqual(sample(registry.exposition(), #"paytrack_rpc_requests_total{api="rest",method="m",code="OK"}"#), 2)
    }

    func testSeriesAreBoundedEvenIfCallersAreNot() throws {
        let registry = MetricsRegistry()
        let rpc = try RPCCallMetrics(registry: registry, maximumSeries: 4)
        for i in 0..<10 { rpc.series(api: "grpc", method: "m\(i)").endedOK(nanoseconds: 1) }
        let t = registry.exposition()
        XCTAssertEqual(sample(t, #"paytrack_rpc_requests_total{api="overflow",method="overflow",code="overflow"}"#), 6)
        XCTAssertEqual(t.split(separator: "\n").filter { $0.hasPrefix("paytrack_rpc_requests_total{") }.count, 5)
    }
}
