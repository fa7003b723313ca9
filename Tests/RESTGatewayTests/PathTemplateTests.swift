import XCTest
@testable import RESTGateway

final class PathTemplateTests: XCTestCase {
    func testLiteralAndVariableSegments() {
        let t = PathTemplate("/v1/channels/{channel_point.funding_txid_str}/{channel_point.output_index}")
        XCTAssertEqual(t.segments, [.literal("v1"), .literal("channels"),
                                    .variable(["channel_point", "funding_txid_str"]), .variable(["channel_point", "output_index"])])
        let m = t.match(["v1", "channels", "abcd", "1"])
        XCTAssertEqual(m?.map(\.value), ["abcd", "1"])
        XCTAssertNil(t.match(["v1", "channels", "abcd"]))
        XCTAssertNil(t.match(["v1", "channel", "abcd", "1"]))
        XCTAssertNil(t.match(["v1", "channels", "", "1"]), "a variable never binds an empty segment")
    }

    /// Each segment is percent-decoded on its own: `%2F` is a "/" inside a value, not a separator.
    func testPercentEncodedSlashStaysInItsSegment() {
        XCTAssertEqual(PathTemplate.segments(ofPath: "/v2/router/track/ab%2Fcd%3D"), ["v2", "router", "track", "ab/cd="])
        XCTAssertEqual(PathTemplate.segments(ofPath: "/v2/router/track/ab/cd"), ["v2", "router", "track", "ab", "cd"])
        XCTAssertNil(PathTemplate.segments(ofPath: "/v2/router/track/%zz"))
    }

    func testGatewayResolvesVerbsAndPrefersLiterals() {
        let g = RESTGateway(services: [], interceptors: [])
        guard case .found(let b, let v) = g.resolve(verb: "GET", path: "/v2/router/track/AAAA") else { return XCTFail() }
        XCTAssertEqual(b.method, "/routerrpc.Router/TrackPaymentV2")
        XCTAssertEqual(v.first?.field, ["payment_hash"])
        guard case .wrongVerb = g.resolve(verb: "POST", path: "/v2/router/track/AAAA") else { return XCTFail() }
        guard case .notFound = g.resolve(verb: "GET", path: "/v2/router/nothing/here/at/all") else { return XCTFail() }
        guard case .found(let s, _) = g.resolve(verb: "GET", path: "/v1/invoices/subscribe") else { return XCTFail() }
        XCTAssertEqual(s.method, "/lnrpc.Lightning/SubscribeInvoices")
        guard case .found(let p, _) = g.resolve(verb: "POST", path: "/v1/graph/routes/02ab/1000") else { return XCTFail() }
        XCTAssertEqual(p.method, "/lnrpc.Lightning/QueryRoutes")
        guard case .found(let legacy, _) = g.resolve(verb: "POST", path: "/v1/channels/transactions") else { return XCTFail() }
        XCTAssertEqual(legacy.method, "/lnrpc.Lightning/SendPaymentSync")
    }
}
