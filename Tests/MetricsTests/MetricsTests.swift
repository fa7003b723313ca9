import Foundation
@testable import Metrics
import XCTest

final class MetricsTests: XCTestCase {
    func testCounterGaugeHistogramValues() {
        let c = Counter(); c.increment(); c.increment(by: 4)
        XCTAssertEqual(c.value, 5)
        let g = Gauge(); g.increment(); g.increment(by: 3); g.decrement(); XCTAssertEqual(g.value, 3)
        g.set(-2); XCTAssertEqual(g.value, -2)
        let h = Histogram(upperBounds: [1, 2, 5])
        for v in [0.5, 1, 1.5, 3, 9, .nan] { h.observe(v) }
        h.observe(nanoseconds: 2_000_000_000)
        let (counts, sum) = h.snapshot()
        XCTAssertEqual(counts, [2, 4, 5, 7])
        XCTAssertEqual(sum, 17, accuracy: 1e-9)
    }

    func testConcurrentUpdatesAreExact() {
        let c = Counter()
        let h = Histogram(upperBounds: [0.5])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { c.increment(); h.observe(1) }
        }
        XCTAssertEqual(c.value, 80_000)
        XCTAssertEqual(h.snapshot().cumulative, [0, 80_000])
        XCTAssertEqual(h.snapshot().sum, 80_000)
    }

    func testShardsSumToOneValue() {
        let c = Counter(), g = Gauge(), h = Histogram(upperBounds: [1])
        for shard in [0, 1, 7, 63, 64, 1000, -1] {
            c.increment(by: 2, shard: shard); g.increment(by: 3, shard: shard); g.decrement(shard: shard + 1)
            h.observe(0.5, shard: shard)
        }
        XCTAssertEqual(c.value, 14)
        XCTAssertEqual(g.value, 14)
        XCTAssertEqual(h.snapshot().cumulative, [7, 7])
        XCTAssertEqual(h.snapshot().sum, 3.5)
        g.set(-5)
        XCTAssertEqual(g.value, -5)
    }

    func testLabelSetIsBounded() throws {
        let r = MetricsRegistry()
        let f = try r.counterFamily("rpc_total", help: "calls", labels: ["method"], maximumSeries: 2)
        XCTAssertTrue(f.series("a") === f.series("a"))
        f.series("a").increment(); f.series("b").increment()
        for i in 0..<1000 { f.series("x\(i)").increment() }
        XCTAssertEqual(f.allSeries().count, 3)
        XCTAssertEqual(f.allSeries().last?.labels, ["overflow"])
        XCTAssertEqual(f.allSeries().last?.series.value, 1000)
    }

    func testRegistrationRules() throws {
        let r = MetricsRegistry()
        _ = try r.counterFamily("a_total", help: "")
        XCTAssertThrowsError(try r.gaugeFamily("a_total", help: "")) { XCTAssertEqual($0 as? MetricsError, .alreadyRegistered("a_total")) }
        XCTAssertThrowsError(try r.gaugeFamily("1bad", help: "")) { XCTAssertEqual($0 as? MetricsError, .invalidName("1bad")) }
        XCTAssertThrowsError(try r.gaugeFamily("ok", help: "", labels: ["__x"])) { XCTAssertEqual($0 as? MetricsError, .invalidLabelName("__x")) }
        XCTAssertThrowsError(try r.histogramFamily("h", help: "", labels: ["le"])) { XCTAssertEqual($0 as? MetricsError, .invalidLabelName("le")) }
    }

    func testExpositionText() throws {
        let r = MetricsRegistry()
        let c = try r.counterFamily("paytrack_rpc_total", help: "RPCs by api,\nmethod \\ code", labels: ["api", "method"])
        c.series("grpc", "a\"b\\c\nd").increment(by: 3)
        let h = try r.histogramFamily("lat_seconds", help: "latency", buckets: [0.001, 0.5])
        h.series().observe(0.25)
        try r.sampled("up", help: "always 1") { 1 }
        XCTAssertEqual(r.exposition(), """
        # HELP paytrack_rpc_total RPCs by api,\\nmethod \\\\ code
        # TYPE paytrack_rpc_total counter
        paytrack_rpc_total{api="grpc",method="a\\"b\\\\c\\nd"} 3
        # HELP lat_seconds latency
        # TYPE lat_seconds histogram
        lat_seconds_bucket{le="0.001"} 0
        lat_seconds_bucket{le="0.5"} 1
        lat_seconds_bucket{le="+Inf"} 1
        lat_seconds_sum 0.25
        lat_seconds_count 1
        # HELP up always 1
        # TYPE up gauge
        up 1

        """)
    }

    /// The exposition of a registry with every kind of metric, read back by the Python
    /// `prometheus_client` parser (the one Prometheus' own Python client uses), must give the same
    /// families, samples, labels and values.
    func testPrometheusClientParsesTheExposition() throws {
        let r = MetricsRegistry()
        let rpcs = try r.counterFamily("paytrack_rpcs_total", help: "RPCs served", labels: ["api", "method", "code"])
        rpcs.series("grpc", "/routerrpc.Router/TrackPaymentV2", "OK").increment(by: 7)
        rpcs.series("rest", "odd \"value\" \\ with\nnewline", "NOT_FOUND").increment()
        let streams = try r.gaugeFamily("paytrack_open_streams", help: "Open streams", labels: ["method"])
        streams.series("TrackPaymentV2").increment(by: 12)
        let latency = try r.histogramFamily("paytrack_rpc_duration_seconds", help: "Latency", labels: ["method"])
        for v in [0.00004, 0.0003, 0.02, 3.0, 42.0] { latency.series("SendPaymentV2").observe(v) }
        try ProcessMetrics.register(in: r)
        let text = r.exposition()

        let script = """
        import sys, json
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for fam in text_string_to_metric_families(sys.stdin.read()):
            out.append({"name": fam.name, "type": fam.type, "samples": [[s.name, s.labels, s.value] for s in fam.samples]})
        print(json.dumps(out))
        """
        let parsed = try runPython(script, stdin: text)
        let families = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(parsed.utf8)) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: families.map { ($0["name"] as! String, $0) })
        // prometheus_client names a counter family without its _total suffix.
        let counter = try XCTUnwrap(byName["paytrack_rpcs"])
        XCTAssertEqual(counter["type"] as? String, "counter")
        let samples = counter["samples"] as! [[Any]]
        XCTAssertEqual(samples.count, 2)
        XCTAssertEqual(samples[0][1] as? [String: String], ["api": "grpc", "method": "/routerrpc.Router/TrackPaymentV2", "code": "OK"])
        XCTAssertEqual(samples[0][2] as? Double, 7)
        XCTAssertEqual((samples[1][1] as? [String: String])?["method"], "odd \"value\" \\ with\nnewline")
        let gauge = try XCTUnwrap(byName["paytrack_open_streams"])
        XCTAssertEqual(((gauge["samples"] as! [[Any]])[0][2] as? Double), 12)
        let hist = try XCTUnwrap(byName["paytrack_rpc_duration_seconds"])
        XCTAssertEqual(hist["type"] as? String, "histogram")
        let hs = hist["samples"] as! [[Any]]
        let buckets = hs.filter { ($0[0] as! String).hasSuffix("_bucket") }
        XCTAssertEqual(buckets.count, Histogram.latencyBuckets.count + 1)
        XCTAssertEqual((buckets.first![1] as! [String: String])["le"], "5e-05")
        XCTAssertEqual(buckets.first![2] as? Double, 1)
        XCTAssertEqual(buckets.last![2] as? Double, 5)
        XCTAssertEqual(hs.first { $0[0] as! String == "paytrack_rpc_duration_seconds_count" }?[2] as? Double, 5)
        XCTAssertEqual(hs.first { $0[0] as! String == "paytrack_rpc_duration_seconds_sum" }?[2] as! Double, 45.02034, accuracy: 1e-9)
        let rss = try XCTUnwrap(byName["process_resident_memory_bytes"])
        XCTAssertGreaterThan((rss["samples"] as! [[Any]])[0][2] as! Double, 1_000_000)
        let fds = try XCTUnwrap(byName["process_open_fds"])
        XCTAssertGreaterThan((fds["samples"] as! [[Any]])[0][2] as! Double, 2)
    }

    /// Runs the repository's venv Python (Scripts/bootstrap installs prometheus-client there).
    private func runPython(_ script: String, stdin: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv/bin/python").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: python), "run Scripts/bootstrap: no \(python)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: err, as: UTF8.self))
        return String(decoding: out, as: UTF8.self)
    }
}
