import XCTest
import Crypto
import BOLT11
@testable import Invoices

final class AddInvoiceTests: RegistryTestCase {
    func testDefaultsAndSignedPaymentRequest() throws {
        let r = try openRegistry()
        let preimage = [UInt8](repeating: 7, count: 32)
        let res = try add(r, msat: 250_000, memo: "coffee", preimage: preimage)
        XCTAssertEqual(res.rHash, SHA256.hash(preimage))
        XCTAssertEqual(res.addIndex, 1)
        XCTAssertEqual(res.paymentAddr.count, 32)
        XCTAssertTrue(res.paymentRequest.hasPrefix("lntb2500n1"))

        let inv = try Bolt11Invoice.decode(res.paymentRequest)
        XCTAssertEqual(inv.currency, .bitcoinTestnet)
        XCTAssertEqual(inv.amountMsat, 250_000)
        XCTAssertEqual(inv.description, "coffee")
        XCTAssertEqual(inv.expiry, 86_400)
        XCTAssertTrue(inv.hasExplicitExpiry)
        XCTAssertEqual(inv.minFinalCLTVExpiry, 80)
        XCTAssertEqual(inv.features.bits, [8, 14, 17])
        XCTAssertEqual(inv.payee, nodeKey.publicKey)
        XCTAssertEqual(inv.paymentSecret, res.paymentAddr)
        XCTAssertEqual(inv.paymentHash, res.rHash)
        XCTAssertEqual(inv.timestamp, UInt64(clock.now))
        XCTAssertEqual(inv.fields.map(\.tag), ["p", "d", "c", "x", "s", "9"])

        let stored = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(stored.memo, "coffee")
        XCTAssertEqual(stored.rPreimage, preimage)
        XCTAssertEqual(stored.valueMsat, 250_000)
        XCTAssertEqual(stored.value, 250)
        XCTAssertEqual(stored.state, .open)
        XCTAssertEqual(stored.expiry, 86_400)
        XCTAssertEqual(stored.cltvExpiry, 80)
        XCTAssertEqual(stored.creationDate, clock.now)
        XCTAssertEqual(stored.paymentRequest, res.paymentRequest)
        XCTAssertEqual(stored.paymentAddr, res.paymentAddr)
        XCTAssertEqual(stored.featureMap[14], FeatureInfo(name: "payment-addr", isRequired: true, isKnown: true))
        XCTAssertEqual(stored.featureMap[17], FeatureInfo(name: "multi-path-payments", isRequired: false, isKnown: true))
        XCTAssertEqual(stored.settleIndex, 0)
        XCTAssertFalse(stored.settled)
    }

    func testPrefixPerNetwork() throws {
        let cases: [(Currency, String)] = [(.bitcoin, "lnbc1"), (.bitcoinTestnet, "lntb1"), (.regtest, "lnbcrt1"),
                                           (.simnet, "lnsb1"), (.signet, "lntbs1")]
        for (currency, prefix) in cases {
            let r = try openRegistry(currency: currency, path: dir.appendingPathComponent("\(currency).sqlite").path)
            let res = try add(r)
            XCTAssertTrue(res.paymentRequest.hasPrefix(prefix), res.paymentRequest)
            XCTAssertEqual(try Bolt11Invoice.decode(res.paymentRequest).currency, currency)
            XCTAssertNil(try Bolt11Invoice.decode(res.paymentRequest).amountMsat)
        }
        XCTAssertEqual(Currency(network: "testnet"), .bitcoinTestnet)
        XCTAssertEqual(Currency(network: "mainnet"), .bitcoin)
        XCTAssertNil(Currency(network: "litecoin"))
    }

    func testOptionalFields() throws {
        let r = try openRegistry()
        let hop = HopHint(nodeID: PrivateKey.generate().publicKey, shortChannelID: 0x0102030405060708,
                          feeBaseMsat: 1000, feeProportionalMillionths: 1, cltvExpiryDelta: 40)
        var req = AddInvoiceRequest()
        req.value = 21
        req.memo = "ignored in the invoice: h wins"
        req.descriptionHash = SHA256.hash(Array("long description".utf8))
        req.expiry = 600
        req.cltvExpiry = 144
        req.fallbackAddr = "mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"
        req.routeHints = [[hop]]
        req.isPrivate = true
        let res = try r.addInvoice(req)
        let inv = try Bolt11Invoice.decode(res.paymentRequest)
        XCTAssertEqual(inv.amountMsat, 21_000)
        XCTAssertNil(inv.description)
        XCTAssertEqual(inv.descriptionHash, req.descriptionHash)
        XCTAssertEqual(inv.expiry, 600)
        XCTAssertEqual(inv.minFinalCLTVExpiry, 144)
        XCTAssertEqual(inv.fallbacks.first?.address(on: .bitcoinTestnet), req.fallbackAddr)
        XCTAssertEqual(inv.routeHints, [[hop]])
        let stored = try r.lookupInvoice(rHash: res.rHash)
        XCTAssertEqual(stored.routeHints, [[hop]])
        XCTAssertTrue(stored.isPrivate)
        XCTAssertEqual(stored.fallbackAddr, req.fallbackAddr)
        XCTAssertEqual(stored.descriptionHash, req.descriptionHash)
        XCTAssertEqual(stored.memo, req.memo)
    }

    func testAmpAndHoldFlags() throws {
        let r = try openRegistry()
        var amp = AddInvoiceRequest()
        amp.isAmp = true
        let a = try r.addInvoice(amp)
        let ampInv = try r.lookupInvoice(rHash: a.rHash)
        XCTAssertTrue(ampInv.isAmp)
        XCTAssertNil(ampInv.rPreimage)
        XCTAssertEqual(try Bolt11Invoice.decode(a.paymentRequest).features.bits, [8, 14, 30])

        let hash = SHA256.hash([UInt8](repeating: 9, count: 32))
        let h = try add(r, msat: 1000, hold: hash)
        XCTAssertEqual(h.rHash, hash)
        let hold = try r.lookupInvoice(rHash: hash)
        XCTAssertTrue(hold.isHold)
        XCTAssertNil(hold.rPreimage)
    }

    func testValidationErrorsUseLNDStrings() throws {
        let r = try openRegistry()
        var req = AddInvoiceRequest()
        req.rPreimage = [1, 2, 3]
        assertInvoiceError(try r.addInvoice(req), "invalid preimage length of 3, want 32")
        req = AddInvoiceRequest(); req.value = 1; req.valueMsat = 1000
        assertInvoiceError(try r.addInvoice(req), "sat and msat arguments are mutually exclusive")
        req = AddInvoiceRequest(); req.valueMsat = 4_294_967_296
        assertInvoiceError(try r.addInvoice(req), "payment of 4294967296 mSAT is too large, max payment allowed is 4294967295 mSAT")
        req = AddInvoiceRequest(); req.memo = String(repeating: "x", count: 1025)
        assertInvoiceError(try r.addInvoice(req), "memo too large: 1025 bytes (maxlen=1024)")
        req = AddInvoiceRequest(); req.descriptionHash = [1]
        assertInvoiceError(try r.addInvoice(req), "description hash is 1 bytes, must be 32")
        req = AddInvoiceRequest(); req.cltvExpiry = 10
        assertInvoiceError(try r.addInvoice(req), "CLTV delta of 10 must be greater than minimum of 18")
        req = AddInvoiceRequest(); req.fallbackAddr = "1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"  // mainnet address on testnet
        XCTAssertThrowsError(try r.addInvoice(req))
        // A memo too long for BOLT 11's `d` (639 bytes) is refused by the writer, not truncated.
        req = AddInvoiceRequest(); req.memo = String(repeating: "y", count: 700)
        XCTAssertThrowsError(try r.addInvoice(req)) { XCTAssertEqual($0 as? InvoiceError, .encoding(.fieldTooLong(tag: "d", values: 1120))) }

        let preimage = [UInt8](repeating: 1, count: 32)
        _ = try add(r, preimage: preimage)
        assertInvoiceError(try add(r, preimage: preimage), "invoice with payment hash already exists")
        // Nothing half-written: only the one invoice exists.
        XCTAssertEqual(try r.listInvoices(InvoiceQuery()).invoices.count, 1)
    }

    func testLookupErrors() throws {
        let r = try openRegistry()
        assertInvoiceError(try r.lookupInvoice(rHash: [UInt8](repeating: 0, count: 32)), "there are no existing invoices", code: 5)
        _ = try add(r)
        assertInvoiceError(try r.lookupInvoice(rHash: [UInt8](repeating: 0, count: 32)), "unable to locate invoice", code: 5)
        assertInvoiceError(try r.lookupInvoice(rHash: [1, 2]), "payment hash must be exactly 32 bytes, is instead 2")
        assertInvoiceError(try r.lookupInvoice(rHashStr: "abcd"), "payment hash must be exactly 32 bytes, is instead 2")
        assertInvoiceError(try r.lookupInvoice(rHashStr: "zz"), "encoding/hex: invalid byte: U+007A 'z'")
        assertInvoiceError(try r.lookupInvoice(rHashStr: "abc"), "encoding/hex: odd length hex string")
        let res = try add(r)
        XCTAssertEqual(try r.lookupInvoice(rHashStr: Hex.encode(res.rHash).uppercased()).rHash, res.rHash)
        XCTAssertEqual(try r.lookupInvoice(rHashStr: "", rHash: res.rHash).addIndex, 2)
    }

    func testDecodePayReq() throws {
        let r = try openRegistry()
        let res = try add(r, msat: 1_500, memo: "tea")
        let p = try PayReq.decode(res.paymentRequest, network: .bitcoinTestnet)
        XCTAssertEqual(p.destination, Hex.encode(nodeKey.publicKey.compressed))
        XCTAssertEqual(p.paymentHash, Hex.encode(res.rHash))
        XCTAssertEqual(p.numMsat, 1_500)
        XCTAssertEqual(p.numSatoshis, 1)
        XCTAssertEqual(p.timestamp, clock.now)
        XCTAssertEqual(p.expiry, 86_400)
        XCTAssertEqual(p.description, "tea")
        XCTAssertEqual(p.descriptionHash, "")
        XCTAssertEqual(p.cltvExpiry, 80)
        XCTAssertEqual(p.paymentAddr, res.paymentAddr)
        XCTAssertEqual(Set(p.features.keys), [8, 14, 17])
        XCTAssertThrowsError(try PayReq.decode(res.paymentRequest, network: .bitcoin)) {
            XCTAssertEqual(($0 as? InvoiceError)?.description, "invoice not for current active network 'mainnet'")
        }
        XCTAssertThrowsError(try PayReq.decode("lntb1qqqqqqqqqq", network: .bitcoinTestnet)) {
            XCTAssertEqual(($0 as? InvoiceError)?.description, "checksum failed. Expected enugk6, got qqqqqq.")
        }
    }

    func testDecodePayReqDefaultsFromSpecVector() throws {
        // BOLT 11 V05: testnet, no `x`, no `c`, a P2PKH fallback, an `h`.
        let v05 = "lntb20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9vax37wxq72un989qrsgqdj545axuxtnfemtpwkc45hx9d2ft7x04mt8q7y6t0k2dge9e7h8kpy9p34ytyslj3yu569aalz2xdk8xkd7ltxqld94u8h2esmsmacgpghe9k8"
        let p = try PayReq.decode(v05, network: .bitcoinTestnet)
        XCTAssertEqual(p.expiry, 3600)
        XCTAssertEqual(p.cltvExpiry, 18)
        XCTAssertEqual(p.fallbackAddr, "mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP")
        XCTAssertEqual(p.descriptionHash, "3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1")
        XCTAssertEqual(p.numSatoshis, 2_000_000)
        XCTAssertEqual(p.destination, "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad")
        XCTAssertEqual(p.paymentAddr, [UInt8](repeating: 0x11, count: 32))
    }
}
