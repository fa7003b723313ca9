import Foundation
import Metrics
import XCTest
@testable import Node

/// The scrape endpoint's routing and the Prometheus options (flags and `[prometheus]`), no socket.
final class MetricsEndpointTests: XCTestCase {
    func testMetricsPathMethodsAndErrors() throws {
        let registry = MetricsRegistry()
        try registry.counterFamily("t_total", help: "t").series([]).increment()
        var (status, headers, body) = MetricsHTTPApplication.answer(method: "GET", path: "/metrics", registry: registry)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "# HELP t_total t\n# TYPE t_total counter\nt_total 1\n")
        (status, _, _) = MetricsHTTPApplication.answer(method: "HEAD", path: "/metrics", registry: registry)
        XCTAssertEqual(status, 200)
        for path in ["/", "/metrics/", "/Metrics", "/metricsx", "/../metrics"] {
            (status, _, body) = MetricsHTTPApplication.answer(method: "GET", path: path, registry: registry)
            XCTAssertEqual(status, 404, path)
            XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("/metrics"))
        }
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "BREW"] {
            (status, headers, _) = MetricsHTTPApplication.answer(method: method, path: "/metrics", registry: registry)
            XCTAssertEqual(status, 405, method)
            XCTAssertEqual(headers["Allow"], "GET, HEAD")
        }
    }

    func testPrometheusFlagsAndDefaults() throws {
        guard case .run(let d) = try Config.parse([]) else { return XCTFail() }
        XCTAssertFalse(d.prometheusEnable)
        XCTAssertEqual(d.prometheusListen, "127.0.0.1:8989")
        guard case .run(let c) = try Config.parse(["--prometheus.enable", "--prometheus.listen", "127.0.0.1:9999"]) else { return XCTFail() }
        XCTAssertTrue(c.prometheusEnable)
        XCTAssertEqual(c.prometheusListen, "127.0.0.1:9999")
        XCTAssertThrowsError(try Config.parse(["--prometheus.listen", "nowhere"])) { e in
            XCTAssertTrue("\(e)".contains("--prometheus.listen wants HOST:PORT"), "\(e)")
        }
        XCTAssertTrue(Config.usage().contains("--prometheus.enable"))
    }

    func testPrometheusSectionOfTheConfigFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/paytrackd.conf"
        try "[prometheus]\nenable=1\nlisten=127.0.0.1:7000\n".write(toFile: file, atomically: true, encoding: .utf8)
        guard case .run(let c) = try Config.parse(["--datadir", dir]) else { return XCTFail() }
        XCTAssertTrue(c.prometheusEnable)
        XCTAssertEqual(c.prometheusListen, "127.0.0.1:7000")
        guard case .run(let o) = try Config.parse(["--datadir", dir, "--prometheus.listen", "127.0.0.1:7001"]) else { return XCTFail() }
        XCTAssertEqual(o.prometheusListen, "127.0.0.1:7001", "flags override the file")
        try "[prometheus]\nenable=true\nenable=false\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Config.parse(["--datadir", dir])) { e in
            XCTAssertTrue("\(e)".contains("\(file):3") && "\(e)".contains("prometheus.enable"), "\(e)")
        }
        try "[prometheus]\nlisten=here\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Config.parse(["--datadir", dir])) { e in
            XCTAssertTrue("\(e)".contains("\(file):2") && "\(e)".contains("prometheus.listen"), "\(e)")
        }
        try "[prometheus]\nport=1\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Config.parse(["--datadir", dir])) { e in
            XCTAssertTrue("\(e)".contains("\(file)") && "\(e)".contains("prometheus.port"), "\(e)")
        }
    }

    func testNodeMetricsExportTheClosedLabelSetsAtZero() throws {
        let m = try NodeMetrics()
        let t = m.registry.exposition()
        for line in [#"paytrack_payments_total{status="succeeded"} 0"#, #"paytrack_userpass_refusals_total{reason="banned"} 0"#,
                     #"paytrack_macaroon_refusals_total{reason="permission_denied"} 0"#,
                     #"paytrack_connections_accepted_total{listener="metrics"} 0"#, "process_open_fds "] {
            XCTAssertTrue(t.contains(line), line)
        }
        m.paymentStatusObserver(.inFlight)
        m.commitObserver(3_000_000, 5)
        let u = m.registry.exposition()
        XCTAssertTrue(u.contains(#"paytrack_payments_total{status="in_flight"} 1"#))
        XCTAssertTrue(u.contains("paytrack_store_commit_group_size_sum 5\n") && u.contains("paytrack_store_commit_seconds_count 1\n"))
    }
}
