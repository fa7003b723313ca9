import XCTest
import BOLT11
import Crypto
import LightningRPC
import PaymentLifecycle
import Routing
@testable import Services

/// LND's `extractIntentFromSendRequest` checks and texts (spec §5.2).
final class SendPaymentRequestParserTests: XCTestCase {
    let me = PrivateKey.generate()
    let payee = PrivateKey.generate()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    var parser: SendPaymentRequestParser {
        SendPaymentRequestParser(selfNode: NodeID(bytes: me.publicKey.compressed)!, currency: .bitcoinTestnet,
                                 maxCLTVExpiry: 2016, now: { [now] in now })
    }

    func invoice(amountMsat: UInt64?, expiry: UInt64 = 3600, timestamp: UInt64? = nil, secret: Bool = true,
                 currency: Currency = .bitcoinTestnet) throws -> String {
        var fields: [TaggedField] = [.paymentHash([UInt8](repeating: 1, count: 32)), .description("x"), .expiry(expiry),
                                     .minFinalCLTVExpiry(40),
                                     .features(FeatureVector(bits: [8, 14, 17]))]
        if secret { fields.append(.paymentSecret([UInt8](repeating: 7, count: 32))) }
        let unsigned = UnsignedBolt11Invoice(currency: currency, amountMsat: amountMsat,
                                             timestamp: timestamp ?? UInt64(now.timeIntervalSince1970) - 10, fields: fields)
        return try unsigned.sign(with: payee).paymentRequest
    }

    func error(_ r: Routerrpc.SendPaymentRequest) -> String? {
        do { _ = try parser.parse(r); return nil } catch { return error.description }
    }

    func keysendRequest() -> Routerrpc.SendPaymentRequest {
        var r = Routerrpc.SendPaymentRequest()
        r.dest = payee.publicKey.compressed
        r.amt = 1000
        let preimage = [UInt8](repeating: 5, count: 32)
        r.paymentHash = SHA256.hash(preimage)
        r.destCustomRecords = [5_482_373_484: preimage]
        return r
    }

    func testInvoicePaymentBecomesIntent() throws {
        var r = Routerrpc.SendPaymentRequest()
        r.paymentRequest = try invoice(amountMsat: 250_000)
        r.feeLimitSat = 10
        let intent = try parser.parse(r)
        XCTAssertEqual(intent.amountMsat, 250_000)
        XCTAssertEqual(intent.feeLimitMsat, 10_000)
        XCTAssertEqual(intent.destination, NodeID(bytes: payee.publicKey.compressed))
        XCTAssertEqual(intent.finalCLTVDelta, 40)
        XCTAssertEqual(intent.paymentAddr, [UInt8](repeating: 7, count: 32))
        XCTAssertEqual(intent.timeoutSeconds, 60, "timeout_seconds 0 means LND's default of 60")
        XCTAssertEqual(intent.maxParts, 16)
        XCTAssertEqual(intent.paymentRequest, r.paymentRequest)
    }

    /// LND v0.20's field 8 (`outgoing_chan_id`, reserved since v0.21) restricts the first hop
    /// like a one-element `outgoing_chan_ids`; both at once is refused.
    func testLegacyOutgoingChanIDIsHonoured() throws {
        var r = Routerrpc.SendPaymentRequest()
        r.paymentRequest = try invoice(amountMsat: 250_000)
        r.outgoingChanId = 42
        XCTAssertEqual(try parser.parse(r).outgoingChanIDs, [42])
        // On the wire it is field 8, varint (tag 0x40), as a v0.20 client sends it.
        var only = Routerrpc.SendPaymentRequest()
        only.outgoingChanId = 42
        XCTAssertEqual(only.serializedBytes(), [0x40, 42])
        XCTAssertEqual(try Routerrpc.SendPaymentRequest(serializedBytes: [0x40, 42]).outgoingChanId, 42)
        r.outgoingChanIds = [7]
        XCTAssertEqual(error(r), "outgoing_chan_id and outgoing_chan_ids are mutually exclusive")
        r.outgoingChanId = 0
        XCTAssertEqual(try parser.parse(r).outgoingChanIDs, [7])
    }

    func testValidationTexts() throws {
        var r = Routerrpc.SendPaymentRequest()
        r.timePref = 2
        XCTAssertEqual(error(r), "time preference out of range")

        r = Routerrpc.SendPaymentRequest(); r.cltvLimit = 3000
        XCTAssertEqual(error(r), "total time lock of 3000 exceeds max allowed 2016")

        r = Routerrpc.SendPaymentRequest(); r.feeLimitSat = 1; r.feeLimitMsat = 1
        XCTAssertEqual(error(r), "sat and msat arguments are mutually exclusive")

        r = Routerrpc.SendPaymentRequest(); r.amt = -1; r.dest = payee.publicKey.compressed
        XCTAssertEqual(error(r), "amount cannot be negative")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000); r.dest = [1]
        XCTAssertEqual(error(r), "dest and payment_request cannot appear together")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000); r.paymentHash = [1]
        XCTAssertEqual(error(r), "payment_hash and payment_request cannot appear together")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000); r.finalCltvDelta = 40
        XCTAssertEqual(error(r), "final_cltv_delta and payment_request cannot appear together")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: nil)
        XCTAssertEqual(error(r), "amount must be specified when paying a zero amount invoice")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000); r.amt = 1
        XCTAssertEqual(error(r), "amount must not be specified when paying a non-zero amount invoice")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000, secret: false)
        XCTAssertEqual(error(r), "payment request must contain either a payment address or blinded paths")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000, currency: .bitcoin)
        XCTAssertEqual(error(r), "invoice not for current active network 'testnet3'")

        r = Routerrpc.SendPaymentRequest(); r.dest = payee.publicKey.compressed
        XCTAssertEqual(error(r), "amount must be specified")

        r = Routerrpc.SendPaymentRequest(); r.dest = payee.publicKey.compressed; r.amt = 10; r.paymentHash = [1, 2]
        XCTAssertEqual(error(r), "invalid hash length of 2, want 32")

        r = keysendRequest(); r.dest = me.publicKey.compressed
        XCTAssertEqual(error(r), "self-payments not allowed")

        r = keysendRequest(); r.maxShardSizeMsat = 1000
        XCTAssertEqual(error(r), "keysend payments cannot specify a max shard amount - MPP not supported with keysend payments")

        r = keysendRequest(); r.amp = true
        XCTAssertEqual(error(r), "destination doesn't support AMP payments")

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 1000); r.maxShardSizeMsat = 10; r.maxParts = 1001
        XCTAssertEqual(error(r)?.hasPrefix("requested max_parts (1001) exceeds the allowed upper limit of 1000"), true)

        r = Routerrpc.SendPaymentRequest(); r.paymentRequest = try invoice(amountMsat: 100_000); r.maxShardSizeMsat = 10_000; r.maxParts = 2
        XCTAssertEqual(error(r), "payment amount 100000 mSAT exceeds maximum possible amount 20000 mSAT with max_parts=2 and max_shard_size_msat=10000 mSAT")
    }

    func testExpiredInvoiceText() throws {
        var r = Routerrpc.SendPaymentRequest()
        // Created 2022-07-05 08:07:39 UTC with a one-hour expiry.
        r.paymentRequest = try invoice(amountMsat: 1000, expiry: 3600, timestamp: 1_657_008_459)
        XCTAssertEqual(error(r), "invoice expired. Valid until 2022-07-05 09:07:39 +0000 UTC")
    }

    func testKeysendIsSinglePart() throws {
        let intent = try parser.parse(keysendRequest())
        XCTAssertEqual(intent.maxParts, 1)
        XCTAssertNil(intent.paymentAddr)
        XCTAssertEqual(intent.finalCLTVDelta, SendPaymentRequestParser.defaultFinalCLTVDelta)
    }

    func testInvoiceWithoutMPPFeatureIsSinglePart() throws {
        var fields: [TaggedField] = [.paymentHash([UInt8](repeating: 1, count: 32)), .description("x"),
                                     .paymentSecret([UInt8](repeating: 7, count: 32)), .features(FeatureVector(bits: [8, 14]))]
        fields.append(.expiry(3600))
        let text = try UnsignedBolt11Invoice(currency: .bitcoinTestnet, amountMsat: 5000,
                                             timestamp: UInt64(now.timeIntervalSince1970), fields: fields).sign(with: payee).paymentRequest
        var r = Routerrpc.SendPaymentRequest()
        r.paymentRequest = text
        r.maxParts = 8
        XCTAssertEqual(try parser.parse(r).maxParts, 1)
    }
}
