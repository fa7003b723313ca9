import Foundation
import JSON
import LightningRPC
import XCTest

/// LND REST gateway JSON (spec §10): golden files for the samples, the lenient input forms, and
/// typed errors.
final class GatewayJSONTests: XCTestCase {
    func golden(_ name: String) throws -> String {
        String(decoding: try TestSupport.fixture(name), as: UTF8.self)
    }

    func check<M: GatewayJSONMessage>(_ sample: M, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // Encoding is byte-exact against the golden file.
        XCTAssertEqual(sample.gatewayJSONString() + "\n", try golden("\(name).json"), file: file, line: line)
        // The golden decodes to the sample.
        XCTAssertEqual(try M(gatewayJSONString: try golden("\(name).json")), sample, file: file, line: line)
        // So does the reference runtime's own JSON (Python protobuf json_format): lowerCamelCase
        // names, enums as numbers, pretty-printed, unset messages omitted.
        XCTAssertEqual(try M(gatewayJSONString: try golden("\(name).python-camel.json")), sample, file: file, line: line)
    }

    func testPaymentGolden() throws { try check(Samples.payment, "payment") }
    func testSendPaymentRequestGolden() throws { try check(Samples.sendPaymentRequest, "send-payment-request") }
    func testInvoiceGolden() throws { try check(Samples.invoice, "invoice") }

    func testUnpopulatedFieldsAreEmitted() {
        XCTAssertEqual(Lnrpc.Route().gatewayJSONString(),
                       #"{"total_time_lock":0,"total_fees":"0","total_amt":"0","hops":[],"total_fees_msat":"0","total_amt_msat":"0","first_hop_amount_msat":"0","custom_channel_data":""}"#)
        XCTAssertEqual(Lnrpc.HTLCAttempt().gatewayJSONString(),
                       #"{"attempt_id":"0","status":"IN_FLIGHT","route":null,"attempt_time_ns":"0","resolve_time_ns":"0","failure":null,"preimage":""}"#)
        XCTAssertEqual(Lnrpc.BlindedPathConfig().gatewayJSONString(), #"{"node_omission_list":[],"incoming_channel_list":[]}"#)
        var hop = Lnrpc.Hop()
        hop.customRecords = [65536: [0xFB, 0xFF]]
        XCTAssertTrue(hop.gatewayJSONString().contains(#""custom_records":{"65536":"+/8="}"#))
    }

    func testLenientInputForms() throws {
        let json = """
        {"paymentHash":"q83vEjRWeJA=", "noInflightUpdates": true}
        """
        let r = try Routerrpc.TrackPaymentRequest(gatewayJSONString: json)
        XCTAssertEqual(r.paymentHash, [0xAB, 0xCD, 0xEF, 0x12, 0x34, 0x56, 0x78, 0x90])
        XCTAssertTrue(r.noInflightUpdates)
        // URL-safe, unpadded base64; 64-bit ints as numbers; enum by number and by name; nulls.
        let p = try Lnrpc.Payment(gatewayJSONString: """
        {"value_msat": 1000, "fee_msat": "-5", "status": 2, "failure_reason": "FAILURE_REASON_NO_ROUTE",
         "htlcs": [{"preimage": "-_8", "route": null}], "first_hop_custom_records": {"65536": "_w"}, "payment_request": null}
        """)
        XCTAssertEqual(p.valueMsat, 1000)
        XCTAssertEqual(p.feeMsat, -5)
        XCTAssertEqual(p.status, .succeeded)
        XCTAssertEqual(p.failureReason, .failureReasonNoRoute)
        XCTAssertEqual(p.htlcs.first?.preimage, [0xFB, 0xFF])
        XCTAssertNil(p.htlcs.first?.route)
        XCTAssertEqual(p.firstHopCustomRecords, [65536: [0xFF]])
        // 1e3 is an integer; strings holding numbers are accepted for 32-bit fields too.
        let h = try Lnrpc.Hop(gatewayJSONString: #"{"amt_to_forward_msat": 1e3, "expiry": "40"}"#)
        XCTAssertEqual(h.amtToForwardMsat, 1000)
        XCTAssertEqual(h.expiry, 40)
        // Doubles: numbers and the special strings.
        XCTAssertTrue(try Routerrpc.SendPaymentRequest(gatewayJSONString: #"{"time_pref":"NaN"}"#).timePref.isNaN)
        XCTAssertEqual(try Routerrpc.SendPaymentRequest(gatewayJSONString: #"{"time_pref":0.25}"#).timePref, 0.25)
    }

    func testTypedErrors() {
        func error<M: GatewayJSONMessage>(_ type: M.Type, _ json: String) -> GatewayJSONError? {
            do { _ = try M(gatewayJSONString: json); return nil } catch { return error }
        }
        XCTAssertEqual(error(Lnrpc.Payment.self, #"{"nope":1}"#), .unknownField(message: "lnrpc.Payment", field: "nope"))
        XCTAssertEqual(error(Lnrpc.Payment.self, "[]"), .expectedObject(message: "lnrpc.Payment"))
        XCTAssertEqual(error(Lnrpc.Payment.self, #"{"value": 1.5}"#), .invalidValue(field: "value", reason: "not a Int64: 1.5"))
        XCTAssertEqual(error(Lnrpc.Hop.self, #"{"expiry": 4294967296}"#), .invalidValue(field: "expiry", reason: "not a UInt32: 4294967296"))
        XCTAssertEqual(error(Lnrpc.Hop.self, #"{"chan_id": "-1"}"#), .invalidValue(field: "chan_id", reason: "not a UInt64: -1"))
        XCTAssertEqual(error(Lnrpc.Payment.self, #"{"status": "BOGUS"}"#), .invalidValue(field: "status", reason: "unknown enum value BOGUS"))
        XCTAssertEqual(error(Lnrpc.Hop.self, #"{"metadata": "a*b="}"#), .invalidValue(field: "metadata", reason: "invalid base64"))
        XCTAssertEqual(error(Lnrpc.Hop.self, #"{"tlv_payload": 1}"#), .invalidValue(field: "tlv_payload", reason: "expected true or false"))
        XCTAssertEqual(error(Lnrpc.Payment.self, #"{"htlcs": {}}"#), .invalidValue(field: "htlcs", reason: "expected an array"))
        XCTAssertEqual(error(Lnrpc.Payment.self, #"{"payment_index": "1""#), .syntax(.unexpectedEnd))
        XCTAssertEqual(error(Lnrpc.Hop.self, #"{"custom_records": {"x": ""}}"#), .invalidValue(field: "custom_records", reason: "invalid map key x"))
    }

}
