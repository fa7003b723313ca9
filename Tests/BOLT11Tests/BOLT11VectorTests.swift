import XCTest
import Crypto
@testable import BOLT11

/// Every example of BOLT 11 ("Examples" and "Examples of Invalid Invoices"), with its expected
/// decode or its LDK-named rejection.
final class BOLT11VectorTests: XCTestCase {
    static let specPayee = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
    static let specHash = "0001020304050607080900010203040506070809000102030405060708090102"
    static let secret = String(repeating: "11", count: 32)
    static let h3925 = "3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1"

    func vector(_ id: String) throws -> Vector {
        try XCTUnwrap(Fixtures.vectors().first { $0.id == id }, "missing vector \(id)")
    }

    func decodeValid(_ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> Bolt11Invoice {
        let v = try vector(id)
        XCTAssertTrue(v.valid)
        do { return try Bolt11Invoice.decode(v.invoice) } catch {
            XCTFail("\(id) should decode, got \(error.ldkDescription)", file: file, line: line)
            throw error
        }
    }

    func testFixtureCounts() throws {
        let all = try Fixtures.vectors()
        XCTAssertEqual(all.filter { $0.valid && $0.id.hasPrefix("V") }.count, 16)
        XCTAssertEqual(all.filter { !$0.valid }.count, 10)
    }

    func testEveryValidVectorDecodesAndReencodes() throws {
        for v in try Fixtures.vectors() where v.valid {
            let inv: Bolt11Invoice
            do { inv = try Bolt11Invoice.decode(v.invoice) } catch {
                XCTFail("\(v.id): \(error.ldkDescription)"); continue
            }
            // Our writer reproduces the exact string from the decoded fields and signature.
            XCTAssertEqual(inv.encoded(), v.invoice.lowercased(), v.id)
            XCTAssertEqual(inv.paymentSecret?.count, 32, v.id)
            XCTAssertEqual(inv.paymentHash.count, 32, v.id)
        }
    }

    func testV01DonationNoAmount() throws {
        let inv = try decodeValid("V01")
        XCTAssertEqual(inv.currency, .bitcoin)
        XCTAssertNil(inv.amountMsat)
        XCTAssertEqual(inv.timestamp, 1496314658)
        XCTAssertEqual(Hex.encode(inv.paymentHash), Self.specHash)
        XCTAssertEqual(Hex.encode(inv.paymentSecret!), Self.secret)
        XCTAssertEqual(inv.description, "Please consider supporting this project")
        XCTAssertEqual(inv.features.bits, [8, 14])
        XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee)
        XCTAssertNil(inv.payeeField)
        XCTAssertEqual(inv.recoveryID, 1)
        XCTAssertEqual(inv.expiry, 3600)
        XCTAssertEqual(inv.minFinalCLTVExpiry, 18)
        XCTAssertEqual(Hex.encode(inv.signature),
            "8d3ce9e28357337f62da0162d9454df827f83cfe499aeb1c1db349d4d81127425e434ca29929406c23bba1ae8ac6ca32880b38d4bf6ff874024cac34ba9625f1")
        XCTAssertEqual(Hex.encode(try inv.unsigned.signingHash()),
            "6daf4d488be41ce7cbb487cab1ef2975e5efcea879b20d421f0ef86b07cbb987")
    }

    func testV02V03CoffeeAndUTF8() throws {
        let v2 = try decodeValid("V02")
        XCTAssertEqual(v2.amountMsat, 250_000_000)
        XCTAssertEqual(v2.description, "1 cup coffee")
        XCTAssertEqual(v2.expiry, 60)
        XCTAssertEqual(Hex.encode(v2.payee.compressed), Self.specPayee)
        let v3 = try decodeValid("V03")
        XCTAssertEqual(v3.amountMsat, 250_000_000)
        XCTAssertEqual(v3.description, "ナンセンス 1杯")
        XCTAssertEqual(v3.expiry, 60)
        XCTAssertEqual(Hex.encode(v3.payee.compressed), Self.specPayee)
    }

    func testV04HashedDescription() throws {
        let inv = try decodeValid("V04")
        XCTAssertEqual(inv.amountMsat, 2_000_000_000)
        XCTAssertNil(inv.description)
        XCTAssertEqual(Hex.encode(inv.descriptionHash!), Self.h3925)
        XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee)
    }

    func testFallbacks() throws {
        let cases: [(String, Currency, String)] = [
            ("V05", .bitcoinTestnet, "mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"),
            ("V06", .bitcoin, "1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"),
            ("V07", .bitcoin, "3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX"),
            ("V08", .bitcoin, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
            ("V09", .bitcoin, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
            ("V10", .bitcoin, "bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm"),
        ]
        for (id, currency, address) in cases {
            let inv = try decodeValid(id)
            XCTAssertEqual(inv.currency, currency, id)
            XCTAssertEqual(inv.amountMsat, 2_000_000_000, id)
            XCTAssertEqual(inv.fallbacks.count, 1, id)
            XCTAssertEqual(inv.fallbacks.first?.address(on: currency), address, id)
            XCTAssertEqual(Fallback(address: address, on: currency), inv.fallbacks.first, id)
            XCTAssertEqual(Hex.encode(inv.descriptionHash ?? []), Self.h3925, id)
            XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee, id)
        }
        XCTAssertEqual(try decodeValid("V05").fallbacks.first, .pubKeyHash(Fixtures.hex("3172b5654f6683c8fb146959d347ce303cae4ca7")))
        XCTAssertNil(Fallback(address: "mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP", on: .bitcoin))
    }

    func testV06RouteHints() throws {
        let inv = try decodeValid("V06")
        XCTAssertEqual(inv.routeHints.count, 1)
        let hops = inv.routeHints[0]
        XCTAssertEqual(hops.count, 2)
        XCTAssertEqual(Hex.encode(hops[0].nodeID.compressed), "029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255")
        XCTAssertEqual(hops[0].shortChannelIDString, "66051x263430x1800")
        XCTAssertEqual(hops[0].shortChannelID, 0x0102030405060708)
        XCTAssertEqual(hops[0].feeBaseMsat, 1)
        XCTAssertEqual(hops[0].feeProportionalMillionths, 20)
        XCTAssertEqual(hops[0].cltvExpiryDelta, 3)
        XCTAssertEqual(Hex.encode(hops[1].nodeID.compressed), "039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255")
        XCTAssertEqual(hops[1].shortChannelIDString, "197637x395016x2314")
        XCTAssertEqual(hops[1].feeBaseMsat, 2)
        XCTAssertEqual(hops[1].feeProportionalMillionths, 30)
        XCTAssertEqual(hops[1].cltvExpiryDelta, 4)
        XCTAssertEqual(inv.recoveryID, 0)
    }

    func testV11BlockstreamPico() throws {
        let inv = try decodeValid("V11")
        XCTAssertEqual(inv.amountMsat, 967_878_534)
        XCTAssertEqual(inv.timestamp, 1572468703)
        XCTAssertEqual(Hex.encode(inv.paymentHash), "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f")
        XCTAssertEqual(inv.expiry, 604800)
        XCTAssertEqual(inv.minFinalCLTVExpiry, 10)
        XCTAssertTrue(inv.description!.hasPrefix("Blockstream Store: 88.85 USD for Blockstream Ledger Nano S x 1"))
        XCTAssertEqual(inv.routeHints.first?.first?.shortChannelIDString, "589390x3312x1")
        XCTAssertEqual(inv.routeHints.first?.first?.feeBaseMsat, 1000)
        XCTAssertEqual(inv.routeHints.first?.first?.feeProportionalMillionths, 2500)
        XCTAssertEqual(inv.routeHints.first?.first?.cltvExpiryDelta, 40)
        XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee)
    }

    func testV12V13V14UnknownOddFeatureUppercaseAndSkippedFields() throws {
        let v12 = try decodeValid("V12"), v13 = try decodeValid("V13"), v14 = try decodeValid("V14")
        for inv in [v12, v13, v14] {
            XCTAssertEqual(inv.amountMsat, 2_500_000_000)
            XCTAssertEqual(inv.description, "coffee beans")
            XCTAssertEqual(inv.features.bits, [8, 14, 99])
            XCTAssertEqual(Hex.encode(inv.paymentHash), Self.specHash)
            XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee)
        }
        XCTAssertEqual(v12, v13)
        // V14's extra fields are all skipped: tag 10 ('2'), f version 19, p/h/s of 51 and 53, n of 52 and 54.
        let skipped = v14.fields.compactMap { f -> (UInt8, Int)? in
            if case let .unknown(t, d) = f { return (t, d.count) }; return nil
        }
        XCTAssertEqual(skipped.map { $0.0 }, [10, 9, 1, 1, 23, 23, 16, 16, 19, 19])
        XCTAssertEqual(skipped.map { $0.1 }, [3, 33, 51, 53, 51, 53, 51, 53, 52, 54])
        XCTAssertEqual(v14.recoveryID, 0)
    }

    func testV15Metadata() throws {
        let inv = try decodeValid("V15")
        XCTAssertEqual(inv.amountMsat, 1_000_000_000)
        XCTAssertEqual(inv.description, "payment metadata inside")
        XCTAssertEqual(inv.metadata, [0x01, 0xfa, 0xfa, 0xf0])
        XCTAssertEqual(inv.features.bits, [8, 14, 48])
        XCTAssertEqual(Hex.encode(inv.payee.compressed), Self.specPayee)
    }

    func testV16HighSWithoutPayeeFieldIsAccepted() throws {
        let inv = try decodeValid("V16")
        XCTAssertFalse(ECDSASignature.isLowS(inv.signature))
        XCTAssertNil(inv.payeeField)
        // Plain recovery with the written flag (1), as the fixture notes.
        XCTAssertEqual(Hex.encode(inv.payee.compressed), "02d0139ce7427d6dfffd26a326c18be754ef1e64672b42694ba5b23ef6e6e7803d")
        let v01 = try decodeValid("V01")
        XCTAssertEqual(ECDSASignature.normalized(inv.signature), v01.signature)
    }

    func testKomodoDocsInvoices() throws {
        let k1 = try decodeValid("KDF01")
        XCTAssertEqual(k1.currency, .bitcoinTestnet)
        XCTAssertEqual(k1.amountMsat, 10_000)
        XCTAssertEqual(k1.timestamp, 1683915729)
        XCTAssertEqual(k1.fields.map { $0.tag }, ["d", "n", "p", "s", "9", "c", "x", "r"])
        XCTAssertEqual(k1.description, "For the burger on Tuesday")
        XCTAssertEqual(Hex.encode(k1.payee.compressed), "0262d013f7a524d3ee86a5eef4500755ca13e888bbaff541eb3ab53f9027135121")
        XCTAssertEqual(k1.payeeField, k1.payee)
        XCTAssertEqual(k1.features.bits, [8, 14, 17])
        XCTAssertEqual(k1.minFinalCLTVExpiry, 24)
        XCTAssertEqual(k1.expiry, 600)
        XCTAssertEqual(k1.routeHints.first?.first?.shortChannelIDString, "2432492x48x0")
        XCTAssertEqual(k1.routeHints.first?.first?.feeProportionalMillionths, 1)

        let k2 = try decodeValid("KDF02")
        XCTAssertEqual(k2.amountMsat, 2_000_000)
        XCTAssertEqual(k2.description, "1 Scala Chip Frappuccino")
        XCTAssertEqual(k2.minFinalCLTVExpiry, 30)
        XCTAssertEqual(k2.features.bits, [9, 15, 17])
        XCTAssertEqual(Hex.encode(k2.payee.compressed), "0348cc1a9479697cd52db445ea74149ad40bb01bb2045a3e8acba21b70f94ab7cf")
    }

    func testEveryInvalidVectorIsRejectedWithItsReason() throws {
        let expected: [String: String] = [
            "I01": "SemanticError(InvalidFeatures)",
            "I02": "ParseError(Bech32Error(InvalidChecksum))",
            "I03": "ParseError(Bech32Error(MissingSeparator))",
            "I04": "ParseError(Bech32Error(MixedCase))",
            "I05": "SemanticError(InvalidSignature)",
            "I06": "ParseError(TooShortDataPart)",
            "I07": "ParseError(UnknownSiPrefix)",
            "I08": "SemanticError(ImpreciseAmount)",
            "I09": "SemanticError(NoPaymentSecret)",
            // Two `s` fields: LDK's count check fires before the high-S check.
            "I10": "SemanticError(MultiplePaymentSecrets)",
        ]
        let invalid = try Fixtures.vectors().filter { !$0.valid }
        XCTAssertEqual(Set(invalid.map(\.id)), Set(expected.keys))
        for v in invalid {
            XCTAssertThrowsError(try Bolt11Invoice.decode(v.invoice), v.id) { error in
                XCTAssertEqual((error as? Bolt11Error)?.ldkDescription, expected[v.id], v.id)
            }
        }
    }

    /// I10 without its duplicate `s`: the signature is high-S and `n` is present, so it must fail
    /// as an invalid signature (BOLT 11: with `n`, the signature must be low-S).
    func testHighSWithPayeeFieldIsRejected() throws {
        let v = try vector("I10")
        let (hrp, data) = try Bech32.decode(v.invoice)
        let fields = try Bolt11Invoice.parseTaggedFields(data[7..<(data.count - 104)])
        var seenSecret = false
        let deduped = fields.filter { f in
            if case .paymentSecret = f { defer { seenSecret = true }; return !seenSecret }
            return true
        }
        XCTAssertEqual(deduped.count, fields.count - 1)
        let sig = FiveBit.toBytesPadded(data[(data.count - 104)...])
        XCTAssertFalse(ECDSASignature.isLowS(Array(sig[0..<64])))
        var timestamp: UInt64 = 0
        for x in data[0..<7] { timestamp = timestamp << 5 | UInt64(x) }
        let unsigned = UnsignedBolt11Invoice(currency: .bitcoin, amountMsat: 2_500_000_000, timestamp: timestamp, fields: deduped)
        XCTAssertEqual(try unsigned.hrp(), hrp)
        let text = try unsigned.encoded(signature: Array(sig[0..<64]), recoveryID: sig[64])
        XCTAssertThrowsError(try Bolt11Invoice.decode(text)) { error in
            XCTAssertEqual(error as? Bolt11Error, .semantic(.invalidSignature))
        }
    }
}
