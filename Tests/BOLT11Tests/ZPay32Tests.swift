import XCTest
@testable import BOLT11
import Crypto

/// LND's zpay32 texts for BOLT 11 failures (LND's API), against BOLT 11's invalid examples and
/// hand-made strings; the Komodo API keeps lightning-invoice's names for the same inputs.
final class ZPay32Tests: XCTestCase {
    func vectors() throws -> [String: String] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "bolt11-vectors", withExtension: "tsv", subdirectory: "Fixtures"))
        var out: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            out[String(cols[0])] = String(cols[2])
        }
        return out
    }

    func lnd(_ s: String, _ net: Currency = .bitcoin) -> String? {
        do { _ = try ZPay32.decode(s, network: net); return nil } catch { return error.text }
    }

    func testInvalidExamplesGetZPay32Texts() throws {
        let v = try vectors()
        // I02: a bad checksum names the expected one (computed independently in Python).
        XCTAssertTrue(lnd(v["I02"]!)!.hasPrefix("checksum failed. Expected "), lnd(v["I02"]!)!)
        XCTAssertTrue(lnd(v["I02"]!)!.hasSuffix(", got " + String(v["I02"]!.suffix(6)) + "."))
        XCTAssertEqual(lnd(v["I03"]!), "invalid index of 1")
        XCTAssertEqual(lnd(v["I04"]!), "string not all lowercase or all uppercase")
        XCTAssertEqual(lnd(v["I06"]!), "short invoice")
        XCTAssertEqual(lnd(v["I07"]!), "unknown multiplier x")
        XCTAssertEqual(lnd(v["I08"]!), "amount 2500000001 pBTC not expressible in msat")
        // I05: recovery code 2 has the overflow bit; R + N would pass the field prime.
        XCTAssertEqual(lnd(v["I05"]!), "signature R + N >= P")
        // LND's reader accepts what lightning-invoice refuses for semantics it leaves to payment:
        // an unknown even feature bit (I01) and a missing `s` (I09).
        XCTAssertNil(lnd(v["I01"]!))
        XCTAssertNil(lnd(v["I09"]!))
        // The same strings keep lightning-invoice's Debug names on the Komodo side.
        XCTAssertThrowsError(try Bolt11Invoice.decode(v["I09"]!)) { XCTAssertEqual(($0 as? Bolt11Error)?.ldkDescription, "SemanticError(NoPaymentSecret)") }
    }

    func testBech32AndHRPTexts() throws {
        XCTAssertEqual(lnd("lnbc1qq"), "invalid bech32 string length 7")
        XCTAssertEqual(lnd("lnbc 1qqqqqqqq"), "invalid character in string: ' '")
        XCTAssertEqual(lnd("lnbc1qqqqqbqq"), "failed converting data to bytes: invalid character not part of charset: 98")
        XCTAssertEqual(lnd("lntb1qqqqqqqqqq"), "checksum failed. Expected enugk6, got qqqqqq.")
        func signed(_ hrp: String, _ values: [UInt8] = [UInt8](repeating: 0, count: 120)) -> String {
            Bech32.encode(hrp: Array(hrp.utf8), data: values)
        }
        XCTAssertEqual(lnd(signed("ln")), "hrp too short")
        XCTAssertEqual(lnd(signed("xxbc")), "prefix should be \"ln\"")
        XCTAssertEqual(lnd(signed("lntb10n")), "invoice not for current active network 'mainnet'")
        // zpay32 checks the signature before the fields: all zeros has R = 0.
        XCTAssertEqual(lnd(signed("lntb10n"), .bitcoinTestnet), "signature R is 0")
        XCTAssertEqual(lnd(signed("lnbc1p")), "minimum amount is 10p")
        XCTAssertEqual(lnd(signed("lnbcn")), "number must be non-empty")
        XCTAssertEqual(lnd(signed("lnbc99999999999999999999")), "strconv.ParseUint: parsing \"99999999999999999999\": value out of range")
        XCTAssertEqual(lnd(signed("lnbc", [UInt8](repeating: 0, count: 100))), "short invoice")
        XCTAssertEqual(lnd(signed("lnbc", [UInt8](repeating: 0, count: 108))), "data too short: 4")
        // Tagged field structure: type 1 claiming 1023 values.
        XCTAssertEqual(lnd(signed("lnbc", [UInt8](repeating: 0, count: 7) + [1, 31, 31] + [UInt8](repeating: 0, count: 104))),
                       "invalid field length")
        XCTAssertEqual(lnd(signed("lnbc", [UInt8](repeating: 0, count: 7) + [1, 0] + [UInt8](repeating: 0, count: 104))),
                       "last tagged field is broken")
        XCTAssertEqual(lnd(String(repeating: "q", count: 8000)), "invoice is too large")
    }

    func testValidInvoiceStillDecodes() throws {
        let key = try PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        let u = UnsignedBolt11Invoice(currency: .bitcoinTestnet, amountMsat: 1000, timestamp: 1_700_000_000,
                                      fields: [.paymentHash([UInt8](repeating: 1, count: 32)), .description("x"),
                                               .paymentSecret([UInt8](repeating: 2, count: 32)), .features(FeatureVector(bits: [8, 14]))])
        let text = try u.sign(with: key).paymentRequest
        let inv = try ZPay32.decode(text, network: .bitcoinTestnet)
        XCTAssertEqual(inv.payee, key.publicKey)
        XCTAssertEqual(lnd(text, .regtest), "invoice not for current active network 'regtest'")
        func sign(_ fields: [TaggedField]) throws -> String {
            try UnsignedBolt11Invoice(currency: .bitcoinTestnet, amountMsat: nil, timestamp: 1_700_000_000, fields: fields)
                .sign(with: key).paymentRequest
        }
        let hash = TaggedField.paymentHash([UInt8](repeating: 1, count: 32))
        XCTAssertEqual(lnd(try sign([.description("x")]), .bitcoinTestnet), "no payment hash found")
        XCTAssertEqual(lnd(try sign([hash, .description("x"), .descriptionHash([UInt8](repeating: 3, count: 32))]), .bitcoinTestnet),
                       "both description and description hash set")
        XCTAssertEqual(lnd(try sign([hash]), .bitcoinTestnet), "neither description nor description hash set")
        let other = try PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32)).publicKey
        XCTAssertEqual(lnd(try sign([hash, .description("x"), .payee(other)]), .bitcoinTestnet), "invalid invoice signature")
        // Duplicates are skipped by zpay32 (the first counts); lightning-invoice refuses them.
        let twice = try sign([hash, hash, .description("x"), .paymentSecret([UInt8](repeating: 2, count: 32))])
        XCTAssertNil(lnd(twice, .bitcoinTestnet))
        XCTAssertThrowsError(try Bolt11Invoice.decode(twice))
    }
}
