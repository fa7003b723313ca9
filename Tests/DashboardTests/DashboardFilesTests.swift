import Dashboard
import Foundation
import XCTest

/// The page compiled into the binary is exactly Sources/Dashboard/web (run Scripts/gen-dashboard
/// after editing the page), and its policy forbids inline script and other origins.
final class DashboardFilesTests: XCTestCase {
    static let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Dashboard/web").standardizedFileURL

    func testEmbeddedFilesAreTheWebFolder() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.web.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(DashboardFiles.all.map(\.name), names,
                       "Sources/Dashboard/DashboardFiles.swift is stale: run Scripts/gen-dashboard")
        for f in DashboardFiles.all {
            let disk = try Data(contentsOf: Self.web.appendingPathComponent(f.name))
            XCTAssertTrue(Array(disk) == f.bytes, "\(f.name) differs from the embedded copy: run Scripts/gen-dashboard")
        }
        XCTAssertEqual(Set(DashboardFiles.all.map(\.name)), ["index.html", "app.js", "app.css"])
    }

    /// The other served nodes' REST origins (and only those) join connect-src.
    func testPolicyAllowsThePeersOriginsOnly() {
        let csp = Dashboard.contentSecurityPolicy(peers: [DashboardPeer(alias: "bob", origin: "https://127.0.0.1:8081")])
        let connect = csp.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("connect-src") }
        XCTAssertEqual(connect, "connect-src 'self' https://127.0.0.1:8081 wss://127.0.0.1:8081")
        XCTAssertTrue(csp.contains("script-src 'self';"))
    }

    func testContentTypes() {
        let types = Dictionary(uniqueKeysWithValues: DashboardFiles.all.map { ($0.name, $0.contentType) })
        XCTAssertEqual(types["index.html"], "text/html; charset=utf-8")
        XCTAssertEqual(types["app.js"], "text/javascript; charset=utf-8")
        XCTAssertEqual(types["app.css"], "text/css; charset=utf-8")
    }

    func testPolicyForbidsInlineScriptAndOtherOrigins() {
        let csp = Dashboard.contentSecurityPolicy
        let directives = Dictionary(uniqueKeysWithValues: csp.split(separator: ";").map { d -> (String, [String]) in
            let parts = d.split(separator: " ").map(String.init)
            return (parts[0], Array(parts.dropFirst()))
        })
        XCTAssertEqual(directives["default-src"], ["'none'"])
        XCTAssertEqual(directives["script-src"], ["'self'"])
        XCTAssertEqual(directives["style-src"], ["'self'"])
        XCTAssertEqual(directives["connect-src"], ["'self'"])
        XCTAssertEqual(directives["img-src"], ["'self'", "data:"])
        XCTAssertEqual(directives["frame-ancestors"], ["'none'"])
        XCTAssertFalse(csp.contains("unsafe"))
        XCTAssertFalse(csp.contains("*"))
        let names = Dashboard.securityHeaders.entries.map(\.0)
        XCTAssertEqual(names, ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Cache-Control"])
        XCTAssertTrue(Dashboard.securityHeaders.entries.contains { $0 == ("X-Content-Type-Options", "nosniff") })
        XCTAssertTrue(Dashboard.securityHeaders.entries.contains { $0 == ("Referrer-Policy", "no-referrer") })
    }

    /// Under that policy an inline script would not run anyway; the page must not need one.
    func testPageHasNoInlineScriptStyleOrHandlers() throws {
        let html = String(decoding: try XCTUnwrap(DashboardFiles.all.first { $0.name == "index.html" }).bytes, as: UTF8.self)
        let scripts = html.components(separatedBy: "<script").dropFirst()
        XCTAssertEqual(scripts.count, 1)
        for s in scripts { XCTAssertTrue(s.hasPrefix(" src=\"/app.js\""), "only the external app.js") }
        XCTAssertNil(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression), "no inline event handler")
        XCTAssertNil(html.range(of: #"\sstyle\s*="#, options: .regularExpression), "no inline style")
        XCTAssertNil(html.range(of: "<style"), "no style element")
        let js = String(decoding: try XCTUnwrap(DashboardFiles.all.first { $0.name == "app.js" }).bytes, as: UTF8.self)
        XCTAssertNil(js.range(of: "innerHTML"), "values reach the DOM as text only")
        XCTAssertNil(js.range(of: "localStorage"), "the macaroon is never stored")
        XCTAssertNil(js.range(of: "eval("), "no eval")
    }
}
