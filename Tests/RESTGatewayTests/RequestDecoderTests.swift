import LightningPrimitives
import XCTest
import LightningRPC
import RPCCore
@testable import RESTGateway

final class RequestDecoderTests: XCTestCase {
    let gateway = RESTGateway(services: [TrackStub()], interceptors: [])

    /// A service whose only purpose is to make the gateway's method table hold TrackPaymentV2,
    /// SendPaymentV2 and AddInvoice (the decoder needs their types; the handlers are not run).
    struct TrackStub: RPCService {
        let serviceName = "routerrpc.Router"
        var methods: [String: RPCHandler] {
            ["TrackPaymentV2": .serverStreaming { _, _, w in w.finish() },
             "SendPaymentV2": .serverStreaming { _, _, w in w.finish() }]
        }
    }

    func decodeTrack(_ path: String, query: String? = nil) throws(GRPCStatus) -> Routerrpc.TrackPaymentRequest {
        guard case .found(let b, let v) = gateway.resolve(verb: "GET", path: path), let m = gateway.methods[b.method] else {
            XCTFail("no route \(path)"); return Routerrpc.TrackPaymentRequest()
        }
        let head = HTTPRequestHeadFixture.make("GET", path + (query.map { "?\($0)" } ?? ""))
        let bytes = try gateway.decoder.decode(method: m, binding: b, pathValues: v, query: head.queryItems, body: nil)
        return try! Routerrpc.TrackPaymentRequest(serializedBytes: bytes)
    }

    let hash: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xff) }

    func testHashAsPaddedBase64URLStdAndHex() throws {
        let url = Base64.encode(hash, urlSafe: true)
        XCTAssertEqual(try decodeTrack("/v2/router/track/\(url)").paymentHash, hash)
        let std = Base64.encode(hash).replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B")
        XCTAssertEqual(try decodeTrack("/v2/router/track/\(std)").paymentHash, hash, "standard base64 with %2F (lnd #5090)")
        let hex = hash.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(try decodeTrack("/v2/router/track/\(hex)").paymentHash, hash, "64 hex characters (lnd #7821)")
    }

    func testBadBase64GivesTheGatewaysText() {
        XCTAssertThrowsError(try decodeTrack("/v2/router/track/abc")) { e in
            XCTAssertEqual(e as? GRPCStatus, GRPCStatus(.invalidArgument, "type mismatch, parameter: payment_hash, error: illegal base64 data at input byte 0"))
        }
        XCTAssertThrowsError(try decodeTrack("/v2/router/track/ab*d")) { e in
            XCTAssertEqual((e as? GRPCStatus)?.message, "type mismatch, parameter: payment_hash, error: illegal base64 data at input byte 2")
        }
    }

    func testQueryParametersAreTypedAsGo() throws {
        let url = Base64.encode(hash, urlSafe: true)
        XCTAssertTrue(try decodeTrack("/v2/router/track/\(url)", query: "no_inflight_updates=true").noInflightUpdates)
        XCTAssertTrue(try decodeTrack("/v2/router/track/\(url)", query: "noInflightUpdates=1").noInflightUpdates)
        XCTAssertFalse(try decodeTrack("/v2/router/track/\(url)", query: "no_inflight_updates=F").noInflightUpdates)
        XCTAssertFalse(try decodeTrack("/v2/router/track/\(url)", query: "unknown_param=1&method=GET").noInflightUpdates,
                       "unknown query parameters are ignored (grpc-gateway v2)")
        XCTAssertThrowsError(try decodeTrack("/v2/router/track/\(url)", query: "no_inflight_updates=yes")) { e in
            XCTAssertEqual(e as? GRPCStatus, GRPCStatus(.invalidArgument, "strconv.ParseBool: parsing \"yes\": invalid syntax"))
        }
        // A path-bound field in the query does not override the path.
        XCTAssertEqual(try decodeTrack("/v2/router/track/\(url)", query: "payment_hash=AAAA").paymentHash, hash)
    }

    func decodeSend(_ body: String) throws(GRPCStatus) -> Routerrpc.SendPaymentRequest {
        guard case .found(let b, let v) = gateway.resolve(verb: "POST", path: "/v2/router/send"), let m = gateway.methods[b.method] else {
            XCTFail(); return Routerrpc.SendPaymentRequest()
        }
        let bytes = try gateway.decoder.decode(method: m, binding: b, pathValues: v, query: [], body: Array(body.utf8))
        return try! Routerrpc.SendPaymentRequest(serializedBytes: bytes)
    }

    func testBodyAsGoJSONDecoderReadsIt() throws {
        XCTAssertEqual(try decodeSend(""), Routerrpc.SendPaymentRequest(), "an empty body is the empty request (io.EOF)")
        XCTAssertEqual(try decodeSend(#"{"amt":"1000","timeout_seconds":60}"#).amt, 1000)
        XCTAssertEqual(try decodeSend(#"{"amt":1000} trailing"#).amt, 1000, "only the first value is read")
        XCTAssertThrowsError(try decodeSend(#"{"amt":"#)) { e in
            XCTAssertEqual(e as? GRPCStatus, GRPCStatus(.invalidArgument, "unexpected EOF"))
        }
        XCTAssertThrowsError(try decodeSend("xyz")) { e in
            XCTAssertEqual(e as? GRPCStatus, GRPCStatus(.invalidArgument, "invalid character 'x' looking for beginning of value"))
        }
        XCTAssertThrowsError(try decodeSend(#"{"bogus":1}"#)) { e in
            XCTAssertEqual(e as? GRPCStatus, GRPCStatus(.invalidArgument, "proto: unknown field \"bogus\""))
        }
    }
}

import Transport
enum HTTPRequestHeadFixture {
    static func make(_ method: String, _ target: String) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: (1, 1), headers: HTTPHeaders())
    }
}
