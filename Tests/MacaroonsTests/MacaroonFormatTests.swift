import Crypto
import XCTest
@testable import Macaroons

final class MacaroonFormatTests: XCTestCase {
    /// Known answer: every HMAC of the chain computed independently (Python's hmac module, see
    /// the values' derivation in Tests/Interop/test_macaroons.py inputs) and step by step here.
    func testKnownAnswerSignatureChain() throws {
        let id = Fixture.identifier.encoded()
        XCTAssertEqual(Hex.encode(id),
            "030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e12047265616412057772697465")
        let k = HMACSHA256.authenticate(key: Array("macaroons-key-generator".utf8), message: Fixture.rootKey)
        XCTAssertEqual(Hex.encode(k), "7a48333781979c470801d9e308c78e75f4de306c63cb9435b16e84d60192417d")
        XCTAssertEqual(MacaroonSigner.derivedKey(rootKey: Fixture.rootKey), k)
        let sig0 = HMACSHA256.authenticate(key: k, message: id)
        XCTAssertEqual(Hex.encode(sig0), "659a6c0b7bace98e31d31002b2c085741067bf8fe77266849704e8d367f5ab61")
        let sig1 = HMACSHA256.authenticate(key: sig0, message: Array(Fixture.farFuture.utf8))
        XCTAssertEqual(Hex.encode(sig1), "34fc1019733571b83f866122de9a49a5d9d583b89c91264ae4bd413f24d9e0bd")

        var m = MacaroonSigner.mint(rootKey: Fixture.rootKey, identifier: id)
        XCTAssertEqual(m.signature, sig0)
        MacaroonSigner.addFirstPartyCaveat(Fixture.farFuture, to: &m)
        XCTAssertEqual(m.signature, sig1)
        XCTAssertEqual(try MacaroonSigner.verifySignature(of: m, rootKey: Fixture.rootKey), [Array(Fixture.farFuture.utf8)])
        // The exact v2 bytes: version, loc "lnd", id, EOS, caveat, EOS, EOS, signature.
        XCTAssertEqual(Hex.encode(m.serializedV2()),
            "0201036c6e64022f" + Hex.encode(id) + "00" + "0220" + Hex.encode(Array(Fixture.farFuture.utf8))
            + "00" + "00" + "0620" + Hex.encode(sig1))
    }

    func testRoundTripV2() throws {
        var m = Fixture.mint(caveats: [Fixture.farFuture, "ipaddr 127.0.0.1"])
        m.caveats.append(MacaroonCaveat(identifier: Array("third".utf8), verificationID: [1, 2, 3], location: Array("loc".utf8)))
        let bytes = m.serializedV2()
        let parsed = try Macaroon(binary: bytes)
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(parsed.serializedV2(), bytes)
        XCTAssertEqual(parsed.firstPartyConditions, [Fixture.farFuture, "ipaddr 127.0.0.1"])
        // Without a location.
        var bare = m
        bare.location = []
        XCTAssertEqual(try Macaroon(binary: bare.serializedV2()), bare)
    }

    /// Varints are read as Go's `binary.Uvarint` (go-macaroon, so LND): a non-minimal encoding
    /// (here the header's end-of-section as 0x80 0x00) is accepted and means the same macaroon,
    /// which serializes back in the minimal form (the fuzz target's first finding was its own
    /// invariant expecting the input's bytes back).
    func testNonMinimalVarintsParseAsGoDoes() throws {
        let m = Fixture.mint(caveats: [Fixture.farFuture])
        let canonical = m.serializedV2()
        let idLength = Fixture.identifier.encoded().count
        let eos = 1 + 2 + 3 + 2 + idLength        // version, location packet, identifier packet
        XCTAssertEqual(canonical[eos], 0)
        var padded = canonical
        padded.replaceSubrange(eos...eos, with: [0x80, 0x00])
        let parsed = try Macaroon(binary: padded)
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(parsed.serializedV2(), canonical)
        XCTAssertNoThrow(try MacaroonSigner.verifySignature(of: parsed, rootKey: Fixture.rootKey))
    }

    func testV1IsParsedThenRefusedWithLNDText() throws {
        var m = Fixture.mint(caveats: [Fixture.farFuture])
        m.version = .v1
        let v1 = m.serializedV1()
        XCTAssertEqual(Array(v1.prefix(17)), Array("0011location lnd\n".utf8))
        let parsed = try Macaroon(binary: v1)
        XCTAssertEqual(parsed.version, .v1)
        XCTAssertEqual(parsed.identifier, m.identifier)
        XCTAssertEqual(parsed.signature, m.signature)
        XCTAssertEqual(parsed.firstPartyConditions, [Fixture.farFuture])
        let checker = Fixture.checker()
        XCTAssertMacaroonError("unknown macaroon version: v1") {
            try checker.checkRequest(macaroonValues: [Hex.encode(v1)], fullMethod: "/routerrpc.Router/TrackPaymentV2", peerIP: "127.0.0.1")
        }
    }

    func testMalformedBinaryErrors() {
        let good = Fixture.mint(caveats: [Fixture.farFuture]).serializedV2()
        let cases: [([UInt8], String)] = [
            ([], "empty macaroon data"),
            ([0x07], "cannot determine data format of binary-encoded macaroon"),
            ([2], "unmarshal v2: section extends past end of buffer"),
            ([2, 0], "unmarshal v2: invalid macaroon header"),
            ([2, 2, 5, 1], "unmarshal v2: field data extends past end of buffer"),
            ([2, 2, 0xff], "unmarshal v2: varint value extends past end of buffer"),
            ([2, 2, 0xff, 0xff, 0xff, 0xff, 0x0f], "unmarshal v2: varint value out of range"),
            ([2, 2, 1, 0x41, 1, 1, 0x41, 0], "unmarshal v2: fields out of order"),
            ([2, 2, 1, 0x41, 0, 4, 1, 0x41, 0], "unmarshal v2: no identifier in caveat"),
            ([2, 2, 1, 0x41, 0, 1, 1, 0x6c, 2, 1, 0x63, 0], "unmarshal v2: location not allowed in first party caveat"),
            ([2, 2, 1, 0x41, 0, 2, 1, 0x63, 6, 1, 0x78, 0], "unmarshal v2: invalid field found in caveat"),
            ([2, 2, 1, 0x41, 0, 2, 1, 0x63, 4, 1, 0x76, 6, 1, 0x78, 0], "unmarshal v2: extra fields found in caveat"),
            ([2, 2, 1, 0x41, 0, 0, 0], "unmarshal v2: unexpected field found instead of signature"),
            ([2, 2, 1, 0x41, 0, 0, 6, 1, 0x00], "unmarshal v2: signature has unexpected length"),
            ([2, 2, 1, 0x41, 0, 0], "unmarshal v2: varint value extends past end of buffer"),
            (good + [0], "unmarshal v2: unexpected data after signature"),
            (Array("0005x".utf8) + [0x0a], "unmarshal v1: cannot parse field name"),
            (Array("00zzlocation".utf8), "unmarshal v1: cannot parse size"),
            (Array("0fff location x\n".utf8), "unmarshal v1: packet size too big"),
            (Array("0011identifier x\n".utf8), "unmarshal v1: unexpected field \"identifier\"; expected location"),
            (Array("0010identifier x\n".utf8), "unmarshal v1: no terminating newline found"),
        ]
        for (input, message) in cases {
            XCTAssertThrowsError(try Macaroon(binary: input), Hex.encode(input)) { error in
                XCTAssertEqual((error as? MacaroonError)?.message, message, Hex.encode(input))
            }
        }
    }

    func testDescriptionRedactsSignature() {
        let m = Fixture.mint(caveats: [Fixture.farFuture])
        for text in [m.description, m.debugDescription, "\(m)", String(reflecting: m)] {
            XCTAssertFalse(text.contains(Hex.encode(m.signature)), text)
            XCTAssertTrue(text.contains("<redacted>"), text)
        }
        var dumped = ""
        dump(m, to: &dumped)
        XCTAssertFalse(dumped.contains(Hex.encode(m.signature)), dumped)
        XCTAssertFalse(dumped.contains("\(m.signature)"), dumped)
        let store = try! MacaroonStoreTests.temporaryStore()
        let key = try! store.rootKey(id: RootKeyID.default)
        for text in [store.description, "\(store)", String(reflecting: store)] {
            XCTAssertFalse(text.contains(Hex.encode(key)), text)
        }
        var dumpedStore = ""
        dump(store, to: &dumpedStore)
        XCTAssertFalse(dumpedStore.contains("\(key)"), dumpedStore)
        XCTAssertFalse(dumpedStore.contains(Hex.encode(key)), dumpedStore)
        let mem = Fixture.store()
        var dumpedMem = ""
        dump(mem, to: &dumpedMem)
        XCTAssertFalse(dumpedMem.contains("\(Fixture.rootKey)"), dumpedMem)
    }

    func testGoTextHelpers() {
        XCTAssertEqual(goQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"")
        XCTAssertEqual(goQuote([0x41, 0xff, 0x00]), "\"A\\xff\\x00\"")
        XCTAssertEqual(goRuneU(0x67), "U+0067 'g'")
        XCTAssertEqual(goRuneU(0x00), "U+0000")
        XCTAssertEqual(goRuneU(0xc3), "U+00C3 'Ã'")
    }

    /// GoHex's texts come from the shared `Hex.DecodeFailure`: the same `%#U` as `goRuneU` for
    /// every byte, so the metadata errors are unchanged.
    func testGoHexTextsMatchGoRuneU() {
        for b in UInt8.min...UInt8.max {
            XCTAssertEqual(Hex.DecodeFailure.invalidByte(b).description, "encoding/hex: invalid byte: " + goRuneU(b), "\(b)")
        }
    }
}
