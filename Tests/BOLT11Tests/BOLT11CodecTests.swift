import XCTest
import Crypto
@testable import BOLT11

/// Writer and reader rules beyond the published examples.
final class BOLT11CodecTests: XCTestCase {
    let key = try! PrivateKey(rawRepresentation: Hex.decode("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734")!)
    let hash = [UInt8](0..<32)
    let secret = [UInt8](repeating: 0x11, count: 32)

    func make(_ currency: Currency = .bitcoin, amount: UInt64? = nil, extra: [TaggedField] = [],
              features: [Int] = [8, 14], description: String = "test") throws -> String {
        let fields: [TaggedField] = [.paymentHash(hash), .paymentSecret(secret), .description(description),
                                     .features(FeatureVector(bits: features))] + extra
        return try UnsignedBolt11Invoice(currency: currency, amountMsat: amount, timestamp: 1_496_314_658, fields: fields)
            .sign(with: key).paymentRequest
    }

    func expectError(_ text: String, _ ldk: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Bolt11Invoice.decode(text), file: file, line: line) {
            XCTAssertEqual(($0 as? Bolt11Error)?.ldkDescription, ldk, file: file, line: line)
        }
    }

    /// Rewrites the HRP of a signed invoice (re-checksummed; the signature no longer matches).
    func withHRP(_ text: String, _ hrp: String) throws -> String {
        let (_, data) = try Bech32.decode(text)
        return Bech32.encode(hrp: Array(hrp.utf8), data: data)
    }

    func testShortestAmountForm() throws {
        let cases: [(UInt64, String)] = [(1, "lnbc10p1"), (10, "lnbc100p1"), (100, "lnbc1n1"), (10_000, "lnbc100n1"),
                                         (100_000, "lnbc1u1"), (250_000_000, "lnbc2500u1"), (100_000_000, "lnbc1m1"),
                                         (2_000_000_000, "lnbc20m1"), (100_000_000_000, "lnbc11"),
                                         (2_100_000_000_000_000_000, "lnbc210000001"), (123, "lnbc1230p1")]
        for (msat, prefix) in cases {
            let text = try make(amount: msat)
            XCTAssertTrue(text.hasPrefix(prefix), "\(msat): \(text)")
            XCTAssertEqual(try Bolt11Invoice.decode(text).amountMsat, msat)
        }
        XCTAssertThrowsError(try make(amount: 0)) { XCTAssertEqual($0 as? Bolt11EncodingError, .amountNotPositive) }
        XCTAssertThrowsError(try make(amount: 2_100_000_000_000_000_001))
    }

    func testSignedRoundTripEveryField() throws {
        let hop = HopHint(nodeID: key.publicKey, shortChannelID: 42, feeBaseMsat: 1, feeProportionalMillionths: 2, cltvExpiryDelta: 3)
        let extra: [TaggedField] = [.payee(key.publicKey), .expiry(0), .minFinalCLTVExpiry(144),
                                    .fallback(.segwit(version: 0, program: [UInt8](repeating: 7, count: 20))),
                                    .routeHint([hop, hop]), .routeHint([hop]), .metadata([]), .unknown(type: 2, data: [1, 2, 3])]
        for currency in Currency.allCases {
            let text = try make(currency, amount: 1_234_000, extra: extra)
            let inv = try Bolt11Invoice.decode(text)
            XCTAssertEqual(inv.currency, currency)
            XCTAssertEqual(inv.fields.count, 12)
            XCTAssertEqual(inv.expiry, 0)
            XCTAssertEqual(inv.minFinalCLTVExpiry, 144)
            XCTAssertEqual(inv.routeHints, [[hop, hop], [hop]])
            XCTAssertEqual(inv.metadata, [])
            XCTAssertEqual(inv.payee, key.publicKey)
            XCTAssertEqual(inv.encoded(), text)
            XCTAssertTrue(ECDSASignature.isLowS(inv.signature))
            XCTAssertEqual(try Bolt11Invoice.decode(text.uppercased()), inv)
        }
    }

    func testUnsignedWriterRefusesBadFields() {
        let bad: [(TaggedField, Bolt11EncodingError)] = [
            (.paymentHash([1]), .invalidFieldLength(tag: "p", bytes: 1)),
            (.description(String(repeating: "a", count: 640)), .fieldTooLong(tag: "d", values: 1024)),
            (.fallback(.pubKeyHash([1])), .invalidFallback),
            (.fallback(.segwit(version: 17, program: [1, 2])), .invalidFallback),
        ]
        for (field, error) in bad {
            XCTAssertThrowsError(try UnsignedBolt11Invoice(currency: .bitcoin, amountMsat: nil, timestamp: 1, fields: [field]).dataValues()) {
                XCTAssertEqual($0 as? Bolt11EncodingError, error)
            }
        }
        XCTAssertThrowsError(try UnsignedBolt11Invoice(currency: .bitcoin, amountMsat: nil, timestamp: 1 << 35, fields: []).dataValues())
    }

    func testHRPErrors() throws {
        let good = try make(amount: 1000)
        expectError(try withHRP(good, "xxbc10n"), "ParseError(BadPrefix)")
        expectError(try withHRP(good, "lnxy10n"), "ParseError(UnknownCurrency)")
        expectError(try withHRP(good, "lnbc10x"), "ParseError(UnknownSiPrefix)")
        expectError(try withHRP(good, "lnbc10nn"), "ParseError(UnknownSiPrefix)")
        expectError(try withHRP(good, "lnbc99999999999999999999n"), "ParseError(ParseAmountError(ParseIntError { kind: PosOverflow }))")
        expectError(try withHRP(good, "lnbc999999999999999999m"), "ParseError(IntegerOverflowError)")
        expectError(try withHRP(good, "lnbc11p"), "SemanticError(ImpreciseAmount)")
        // A well-formed HRP that differs from the signed one: the signature (recovery) gives another
        // key, and with `n` present verification fails.
        let withN = try make(amount: 1000, extra: [.payee(key.publicKey)])
        expectError(try withHRP(withN, "lnbc20n"), "SemanticError(InvalidSignature)")
        XCTAssertNotEqual(try Bolt11Invoice.decode(try withHRP(good, "lnbc20n")).payee, key.publicKey)
    }

    func testBech32Errors() throws {
        let good = try make()
        expectError(String(good.dropLast()) + (good.last == "q" ? "p" : "q"), "ParseError(Bech32Error(InvalidChecksum))")
        expectError("lnbc1" + String(repeating: "q", count: 5), "ParseError(Bech32Error(InvalidLength))")
        expectError("1qqqqqqqq", "ParseError(Bech32Error(InvalidLength))")
        expectError(good.replacingOccurrences(of: "lnbc1", with: "lnbc1b"), "ParseError(Bech32Error(InvalidChar('b')))")
        expectError("ln bc1qqqqqqqq", "ParseError(Bech32Error(InvalidChar(' ')))")
        expectError("lnbc1qqqqqqqé", "ParseError(Bech32Error(InvalidChar('é')))")
        expectError("", "ParseError(Bech32Error(MissingSeparator))")
        // Bech32m checksums are not BOLT 11.
        let (hrp, data) = try Bech32.decode(good)
        var chk = Bech32.polymod(hrp: hrp, data: data)
        for _ in 0..<6 { chk = Bech32.polymodStep(chk, 0) }
        chk ^= 0x2bc830a3
        let m = String(decoding: hrp + [0x31] + data.map { Bech32.charset[Int($0)] }
            + (0..<6).map { Bech32.charset[Int((chk >> UInt32(5 * (5 - $0))) & 31)] }, as: UTF8.self)
        expectError(m, "ParseError(Bech32Error(InvalidChecksum))")
    }

    /// The one-pass decoder (two checksum steps at a time, branch-free case tracking) against the
    /// plain definitions, for data of every parity and a bad character at every position.
    func testBech32DecoderAgreesWithDefinitionAtEveryLengthAndPosition() throws {
        var rng = SystemRandomNumberGenerator()
        for length in 0...41 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...31, using: &rng) }
            let text = Bech32.encode(hrp: Array("lntb".utf8), data: data)
            let (hrp, decoded) = try Bech32.decode(text)
            XCTAssertEqual(hrp, Array("lntb".utf8))
            XCTAssertEqual(decoded, data, "length \(length)")
            XCTAssertEqual(try Bech32.decode(text.uppercased()).data, data)
            // The checksum the decoder accepted is the one the definition computes.
            let checksumValues = text.utf8.suffix(6).map { Bech32.reverse[Int($0)] }
            XCTAssertEqual(Bech32.polymod(hrp: hrp, data: data + checksumValues), 1)
            let chars = Array(text)
            let sep = chars.lastIndex(of: "1")!
            for i in (sep + 1)..<chars.count {
                for bad: Character in ["b", "é", "!"] {
                    var c = chars
                    c[i] = bad
                    XCTAssertThrowsError(try Bech32.decode(String(c))) {
                        XCTAssertEqual($0 as? Bech32Error, .invalidChar(bad), "length \(length) position \(i)")
                    }
                }
                if chars[i].isLetter {
                    var c = chars
                    c[i] = Character(chars[i].uppercased())
                    XCTAssertThrowsError(try Bech32.decode(String(c))) {
                        XCTAssertEqual($0 as? Bech32Error, .mixedCase, "length \(length) position \(i)")
                    }
                }
                // Any single substitution breaks the checksum (BCH distance >= 2).
                var c = chars
                c[i] = chars[i] == "q" ? "p" : "q"
                XCTAssertThrowsError(try Bech32.decode(String(c))) {
                    XCTAssertEqual($0 as? Bech32Error, .invalidChecksum, "length \(length) position \(i)")
                }
            }
        }
    }

    /// Packing 5-bit values (8 at a time, then bit by bit) against the bit-by-bit definition.
    func testPaddedPackingMatchesDefinitionForEveryRemainder() {
        var rng = SystemRandomNumberGenerator()
        for count in 0...41 {
            let values = (0..<count).map { _ in UInt8.random(in: 0...31, using: &rng) }
            var bits = values.flatMap { v in (0..<5).reversed().map { (v >> UInt8($0)) & 1 } }
            while bits.count % 8 != 0 { bits.append(0) }
            let expected = stride(from: 0, to: bits.count, by: 8).map { i in bits[i..<(i + 8)].reduce(UInt8(0)) { $0 << 1 | $1 } }
            XCTAssertEqual(FiveBit.toBytesPadded(values[...]), expected, "count \(count)")
            XCTAssertEqual(FiveBit.signedBytes(hrp: [0x6c, 0x6e], data: values[...]), [0x6c, 0x6e] + expected)
        }
    }

    /// Builds a data part by hand to reach field-level errors (signature garbage is fine: these
    /// fail before the signature is checked).
    func raw(_ fields: [(UInt8, [UInt8])], signature: [UInt8]? = nil) -> String {
        var data = [UInt8](repeating: 0, count: 7)
        for (t, v) in fields { data += [t, UInt8(v.count >> 5), UInt8(v.count & 31)] + v }
        if let signature { FiveBit.fromBytes(signature, into: &data) } else { data += [UInt8](repeating: 1, count: 104) }
        return Bech32.encode(hrp: Array("lnbc".utf8), data: data)
    }

    func five(_ bytes: [UInt8]) -> [UInt8] { var o = [UInt8](); FiveBit.fromBytes(bytes, into: &o); return o }

    func testFieldErrors() {
        expectError(raw([(13, five([0xff, 0x41]))]), "ParseError(DescriptionDecodeError(Utf8Error { valid_up_to: 0, error_len: Some(1) }))")
        expectError(raw([(13, five([0x41, 0xe6, 0x9d]))]), "ParseError(DescriptionDecodeError(Utf8Error { valid_up_to: 1, error_len: None }))")
        expectError(raw([(13, [1])]), "ParseError(PaddingError)")
        expectError(raw([(1, [UInt8](repeating: 0, count: 51) + [1])]), "ParseError(PaddingError)")
        expectError(raw([(6, [UInt8](repeating: 31, count: 14))]), "ParseError(IntegerOverflowError)")
        expectError(raw([(9, [17] + five([UInt8](repeating: 0, count: 19)))]), "ParseError(InvalidPubKeyHashLength)")
        expectError(raw([(9, [18] + five([UInt8](repeating: 0, count: 21)))]), "ParseError(InvalidScriptHashLength)")
        expectError(raw([(9, [0] + five([1]))]), "ParseError(InvalidSegWitProgramLength)")
        expectError(raw([(3, five([UInt8](repeating: 2, count: 50)))]), "ParseError(UnexpectedEndOfTaggedFields)")
        expectError(raw([(3, five([UInt8](repeating: 0, count: 51)))]), "ParseError(MalformedSignature(InvalidPublicKey))")
        expectError(raw([(19, five([0x02] + [UInt8](repeating: 0, count: 32)))]), "ParseError(MalformedSignature(InvalidPublicKey))")
        // A field header running past the end.
        var data = [UInt8](repeating: 0, count: 7) + [13, 0]
        data += [UInt8](repeating: 1, count: 104)
        expectError(Bech32.encode(hrp: Array("lnbc".utf8), data: data), "ParseError(UnexpectedEndOfTaggedFields)")
        // Signature: recovery id 4, and r >= n (does not parse; a zero r parses and fails later).
        expectError(raw([], signature: [UInt8](repeating: 1, count: 64) + [4]), "ParseError(MalformedSignature(InvalidRecoveryId))")
        expectError(raw([], signature: [UInt8](repeating: 0xff, count: 64) + [0]), "ParseError(MalformedSignature(InvalidSignature))")
    }

    func testSemanticErrorsInLDKOrder() throws {
        func signed(_ fields: [TaggedField]) throws -> String {
            try UnsignedBolt11Invoice(currency: .bitcoin, amountMsat: nil, timestamp: 1, fields: fields).sign(with: key).paymentRequest
        }
        let f = TaggedField.features(FeatureVector(bits: [8, 14]))
        expectError(try signed([.paymentSecret(secret), .description(""), f]), "SemanticError(NoPaymentHash)")
        expectError(try signed([.paymentHash(hash), .paymentHash(hash), .paymentSecret(secret), .description(""), f]), "SemanticError(MultiplePaymentHashes)")
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), f]), "SemanticError(NoDescription)")
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), .description(""), .descriptionHash(hash), f]), "SemanticError(MultipleDescriptions)")
        expectError(try signed([.paymentHash(hash), .description("")]), "SemanticError(NoPaymentSecret)")
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), .description("")]), "SemanticError(InvalidFeatures)")
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), .description(""), .features(FeatureVector(bits: [8]))]), "SemanticError(InvalidFeatures)")
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), .description(""), .features(FeatureVector(bits: [8, 14, 100]))]), "SemanticError(InvalidFeatures)")
        // Unknown odd bits are fine; `n` naming another key fails the signature.
        XCTAssertNoThrow(try Bolt11Invoice.decode(try signed([.paymentHash(hash), .paymentSecret(secret), .description(""), .features(FeatureVector(bits: [9, 15, 101]))])))
        expectError(try signed([.paymentHash(hash), .paymentSecret(secret), .description(""), f, .payee(PrivateKey.generate().publicKey)]), "SemanticError(InvalidSignature)")
    }

    func testFeatureVectorEncoding() {
        let v = FeatureVector(bits: [8, 14, 99])
        XCTAssertEqual(FeatureVector(fiveBit: v.fiveBit[...]), v)
        XCTAssertEqual(v.fiveBit.count, 20)
        XCTAssertEqual(FeatureVector.empty.fiveBit, [])
        XCTAssertEqual(v.lndFeatureMap[99], FeatureInfo(name: "unknown", isRequired: false, isKnown: false))
        XCTAssertEqual(v.lndFeatureMap[8], FeatureInfo(name: "tlv-onion", isRequired: true, isKnown: true))
        XCTAssertEqual(FeatureVector(bits: [8, 14, 100]).unknownRequiredBits, [100])
    }
}
