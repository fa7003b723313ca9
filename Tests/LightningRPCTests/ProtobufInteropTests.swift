import Foundation
import LightningRPC
import ProtoWire
import XCTest

/// Our encoding against the reference implementation (protoc, C++ runtime): for each sample,
/// our bytes equal `protoc --encode` of the text-format twin in Fixtures/, `protoc --decode` of our
/// bytes prints exactly that text, and we decode protoc's bytes back to the sample.
final class ProtobufInteropTests: XCTestCase {
    func protocArgs(_ mode: String, _ type: String) -> [String] {
        ["-I", "Protos", "--deterministic_output", "--\(mode)=\(type)"] + TestSupport.protoFiles
    }

    func check<M: ProtoMessage>(_ sample: M, fixture: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try TestSupport.fixture(fixture)
        let ours = sample.serializedBytes()
        // 1. Same bytes as protoc for the same text-format message (maps in key order).
        let theirs = Array(try TestSupport.run("protoc", protocArgs("encode", M.protoMessageName), stdin: text))
        XCTAssertEqual(ours, theirs, "\(M.protoMessageName): our bytes differ from protoc --encode", file: file, line: line)
        // 2. protoc reads our bytes back to the same text.
        let decoded = try TestSupport.run("protoc", ["-I", "Protos", "--decode=\(M.protoMessageName)"] + TestSupport.protoFiles, stdin: Data(ours))
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), String(decoding: text, as: UTF8.self), file: file, line: line)
        // 3. We read protoc's bytes to the sample.
        XCTAssertEqual(try M(serializedBytes: theirs), sample, file: file, line: line)
    }

    func testPayment() throws { try check(Samples.payment, fixture: "payment.txtpb") }
    func testSendPaymentRequest() throws { try check(Samples.sendPaymentRequest, fixture: "send-payment-request.txtpb") }
    func testInvoice() throws { try check(Samples.invoice, fixture: "invoice.txtpb") }

    /// The sample really has what point 5 asks for, so the interop above covers it.
    func testSamplesCoverTheInterestingShapes() {
        let p = Samples.payment
        XCTAssertEqual(p.htlcs.count, 3)
        XCTAssertTrue(p.htlcs.allSatisfy { $0.route?.hops.count == 4 })
        XCTAssertEqual(p.htlcs.filter { $0.failure?.channelUpdate != nil }.count, 1)
        XCTAssertNotNil(p.htlcs[1].route?.hops.last?.mppRecord)
        XCTAssertNotNil(p.htlcs[1].route?.hops.last?.ampRecord)
        XCTAssertEqual(p.htlcs[1].route?.hops.last?.customRecords.count, 3)
        XCTAssertEqual(p.firstHopCustomRecords.count, 2)
        XCTAssertFalse(Samples.sendPaymentRequest.routeHints.isEmpty)
        XCTAssertFalse(Samples.sendPaymentRequest.destFeatures.isEmpty)
        XCTAssertEqual(Samples.invoice.features.count, 3)
    }

    /// Unknown fields (here: a whole Payment read as a message without fields) survive a round trip.
    func testUnknownFieldsArePreserved() throws {
        var p = Lnrpc.Payment()
        p.paymentHash = "00"
        p.paymentIndex = 9
        p.htlcs = Samples.payment.htlcs
        let bytes = p.serializedBytes()
        // GetInfoRequest has no fields: everything in a Payment is unknown to it.
        let unknown = try Lnrpc.GetInfoRequest(serializedBytes: bytes)
        XCTAssertEqual(unknown.unknownFields, bytes)
        XCTAssertEqual(unknown.serializedBytes(), bytes)
        XCTAssertEqual(try Lnrpc.Payment(serializedBytes: unknown.serializedBytes()), p)
    }

    /// An enum value this build does not know decodes as `.unrecognized` and re-encodes as is.
    func testUnrecognizedEnumRoundTrips() throws {
        var p = Lnrpc.Payment()
        p.status = .unrecognized(77)
        p.failureReason = .unrecognized(-3)
        let back = try Lnrpc.Payment(serializedBytes: p.serializedBytes())
        XCTAssertEqual(back.status, .unrecognized(77))
        XCTAssertEqual(back.failureReason.rawValue, -3)
        XCTAssertEqual(Lnrpc.Payment.PaymentStatus(rawValue: 1), .inFlight)
        XCTAssertEqual(Lnrpc.Failure.FailureCode(rawValue: 15), .temporaryChannelFailure)
        XCTAssertEqual(Lnrpc.PaymentFailureReason(rawValue: 1), .failureReasonTimeout)
        XCTAssertEqual(Lnrpc.FeatureBit.initialRouingSync.rawValue, 3)
    }

    /// proto3 `optional` distinguishes "unset" from "set to zero" on the wire.
    func testProto3OptionalPresence() throws {
        var c = Lnrpc.BlindedPathConfig()
        XCTAssertEqual(c.serializedBytes(), [])
        c.minNumRealHops = 0
        XCTAssertEqual(c.serializedBytes(), [0x08, 0x00])
        XCTAssertEqual(try Lnrpc.BlindedPathConfig(serializedBytes: [0x08, 0x00]).minNumRealHops, 0)
        XCTAssertNil(try Lnrpc.BlindedPathConfig(serializedBytes: []).minNumRealHops)
    }

    /// A wrong wire type for a known field is a typed error, not a skip or a crash.
    func testWrongWireTypeForKnownField() {
        // Payment.payment_hash (1, string) sent as a varint.
        XCTAssertThrowsError(try Lnrpc.Payment(serializedBytes: [0x08, 0x01])) { error in
            XCTAssertEqual(error as? ProtoDecodingError, .wrongWireType(field: 1, got: .varint))
        }
        // Payment.payment_hash with invalid UTF-8.
        XCTAssertThrowsError(try Lnrpc.Payment(serializedBytes: [0x0A, 0x01, 0xFF])) { error in
            XCTAssertEqual(error as? ProtoDecodingError, .invalidUTF8(field: 1))
        }
    }

    /// Map entries with missing key or value decode to defaults; later duplicates win.
    func testMapEntryEdgeCases() throws {
        // Hop.custom_records (11): entry {value "a"} (no key), then {key 5, value "b"}, then {key 5, value "c"}.
        let bytes: [UInt8] = [0x5A, 0x03, 0x12, 0x01, 0x61, 0x5A, 0x05, 0x08, 0x05, 0x12, 0x01, 0x62, 0x5A, 0x05, 0x08, 0x05, 0x12, 0x01, 0x63]
        let hop = try Lnrpc.Hop(serializedBytes: bytes)
        XCTAssertEqual(hop.customRecords, [0: [0x61], 5: [0x63]])
    }
}
