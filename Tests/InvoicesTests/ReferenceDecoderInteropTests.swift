import XCTest
import Foundation
import Crypto
import BOLT11
@testable import Invoices

/// Invoices we write, decoded by an independent Python reader (Tests/Interop/bolt11_ref.py: its
/// own bech32, field parsing and pure-Python secp256k1 recovery), run with the project's
/// .venv/bin/python. A missing venv is a failure, not a skip.
final class ReferenceDecoderInteropTests: RegistryTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func referenceDecode(_ invoices: [String]) throws -> [[String: Any]] {
        let python = Self.root.appendingPathComponent(".venv/bin/python")
        let script = Self.root.appendingPathComponent("Tests/Interop/bolt11_ref.py")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            XCTFail("\(python.path) is missing: create the venv with Scripts/bootstrap before running these tests")
            throw CocoaError(.fileNoSuchFile)
        }
        let p = Process()
        p.executableURL = python
        p.arguments = [script.path, "-"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data(invoices.joined(separator: "\n").utf8 + [0x0a]))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: err, as: UTF8.self))
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, invoices.count)
        return try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    static let networkNames: [Currency: String] = [.bitcoin: "bitcoin", .bitcoinTestnet: "testnet", .regtest: "regtest",
                                                   .simnet: "simnet", .signet: "signet"]

    /// Asserts the reference decode equals our own decode of the same string, field by field.
    func assertSame(_ text: String, _ ref: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(ref["ok"] as? Bool, true, "\(ref["error"] ?? "") for \(text)", file: file, line: line)
        let inv = try Bolt11Invoice.decode(text)
        func eq<T: Equatable>(_ key: String, _ value: T?) {
            XCTAssertEqual(ref[key] as? T, value, "\(key) of \(text)", file: file, line: line)
        }
        eq("network", Self.networkNames[inv.currency])
        eq("amount_msat", inv.amountMsat.map { Int($0) })
        eq("timestamp", Int(inv.timestamp))
        eq("payment_hash", Hex.encode(inv.paymentHash))
        eq("payment_secret", inv.paymentSecret.map { Hex.encode($0) })
        eq("description", inv.description)
        eq("description_hash", inv.descriptionHash.map { Hex.encode($0) })
        eq("payee_field", inv.payeeField.map { Hex.encode($0.compressed) })
        eq("expiry", Int(inv.expiry))
        eq("min_final_cltv_expiry", Int(inv.minFinalCLTVExpiry))
        eq("features", inv.features.bits)
        eq("metadata", inv.metadata.map { Hex.encode($0) })
        eq("payee", Hex.encode(inv.payee.compressed))
        eq("signature", Hex.encode(inv.signature))
        eq("recovery_id", Int(inv.recoveryID))
        eq("signing_hash", Hex.encode(try inv.unsigned.signingHash()))
        let fallbacks = (ref["fallbacks"] as? [[String: Any]] ?? []).map { "\($0["version"]!)/\($0["program"]!)" }
        XCTAssertEqual(fallbacks, inv.fallbacks.map { f -> String in
            switch f {
            case let .segwit(v, p): return "\(v)/\(Hex.encode(p))"
            case .pubKeyHash(let h): return "17/\(Hex.encode(h))"
            case .scriptHash(let h): return "18/\(Hex.encode(h))"
            }
        }, file: file, line: line)
        let hints = (ref["route_hints"] as? [[[String: Any]]] ?? []).map { route in
            route.map { "\($0["node_id"]!)/\($0["scid"]!)/\($0["fee_base_msat"]!)/\($0["fee_ppm"]!)/\($0["cltv_expiry_delta"]!)" }
        }
        XCTAssertEqual(hints, inv.routeHints.map { route in
            route.map { "\(Hex.encode($0.nodeID.compressed))/\($0.shortChannelID)/\($0.feeBaseMsat)/\($0.feeProportionalMillionths)/\($0.cltvExpiryDelta)" }
        }, file: file, line: line)
    }

    func testRegistryInvoicesRoundTripThroughTheReferenceDecoder() throws {
        var made = [String]()
        let amounts: [Int64] = [0, 1, 9, 10, 999, 1_000, 123_456, 100_000, 2_500_000, 100_000_000, 100_000_000_000,
                                123_456_789_012, 2_100_000_000_000_000_000]
        for currency in Currency.allCases {
            let r = try openRegistry(currency: currency, path: dir.appendingPathComponent("\(currency).sqlite").path) {
                $0.maxPaymentMsat = 2_100_000_000_000_000_000
            }
            for (i, msat) in amounts.enumerated() {
                var req = AddInvoiceRequest()
                req.valueMsat = msat
                req.memo = i % 3 == 0 ? "" : "memo \(i) ナンセンス 1杯 \u{1F600}"
                if i % 4 == 1 { req.descriptionHash = SHA256.hash(Array("desc \(i)".utf8)) }
                req.expiry = [0, 1, 60, 31_536_000][i % 4]
                req.cltvExpiry = [0, 18, 40, 65_535][i % 4]
                req.isAmp = i % 5 == 4
                let fallbacks: [Fallback] = [.pubKeyHash([UInt8](repeating: UInt8(i), count: 20)),
                                             .scriptHash([UInt8](repeating: 0xab, count: 20)),
                                             .segwit(version: 0, program: [UInt8](repeating: 1, count: 20)),
                                             .segwit(version: 0, program: [UInt8](repeating: 2, count: 32)),
                                             .segwit(version: 1, program: [UInt8](repeating: 3, count: 32))]
                if i % 2 == 0 { req.fallbackAddr = fallbacks[i % fallbacks.count].address(on: currency) }
                if i % 3 == 1 {
                    req.routeHints = (0..<(i % 4 + 1)).map { k in
                        (0...k).map { j in
                            HopHint(nodeID: PrivateKey.generate().publicKey, shortChannelID: UInt64(i * 1000 + j) << 40 | 0x1234,
                                    feeBaseMsat: UInt32(j * 1000), feeProportionalMillionths: UInt32.max - UInt32(j),
                                    cltvExpiryDelta: UInt16(40 + j))
                        }
                    }
                }
                made.append(try r.addInvoice(req).paymentRequest)
            }
        }
        let refs = try referenceDecode(made)
        for (text, ref) in zip(made, refs) {
            try assertSame(text, ref)
            XCTAssertEqual(ref["payee"] as? String, Hex.encode(nodeKey.publicKey.compressed))
        }
    }

    func testWriterFieldsRoundTripThroughTheReferenceDecoder() throws {
        let key = PrivateKey.generate()
        var made = [String]()
        let longUTF8 = String(repeating: "杯", count: 213)  // 639 bytes, the most `d` can hold
        let variants: [[TaggedField]] = [
            [.payee(key.publicKey), .description(longUTF8), .metadata([0x01, 0xfa, 0xfa, 0xf0]),
             .features(FeatureVector(bits: [8, 14, 48, 99, 255]))],
            [.description("x"), .expiry(UInt64(1) << 40), .minFinalCLTVExpiry(UInt64.max >> 4),
             .features(FeatureVector(bits: [9, 15, 17, 31]))],
            [.unknown(type: 10, data: [0, 0, 0]), .description("with unknown field"), .payee(key.publicKey),
             .features(FeatureVector(bits: [8, 14]))],
        ]
        for (i, extra) in variants.enumerated() {
            let fields: [TaggedField] = [.paymentHash(SecureRandom.bytes(32)), .paymentSecret(SecureRandom.bytes(32))] + extra
            let unsigned = UnsignedBolt11Invoice(currency: Currency.allCases[i % 5], amountMsat: [nil, 1, 777][i],
                                                 timestamp: [0, 1_496_314_658, (1 << 35) - 1][i], fields: fields)
            made.append(try unsigned.sign(with: key).paymentRequest)
        }
        let refs = try referenceDecode(made)
        for (text, ref) in zip(made, refs) {
            try assertSame(text, ref)
            XCTAssertEqual(ref["payee"] as? String, Hex.encode(key.publicKey.compressed))
        }
    }

    /// The reference reader itself agrees with BOLT 11's examples (so agreement above means something).
    func testReferenceDecoderAgreesWithSpecVectors() throws {
        let tsv = try String(contentsOf: Self.root.appendingPathComponent("Tests/BOLT11Tests/Fixtures/bolt11-vectors.tsv"), encoding: .utf8)
        let rows = tsv.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t").map(String.init) }
        let refs = try referenceDecode(rows.map { $0[2] })
        XCTAssertEqual(refs.count, 28)
        for (row, ref) in zip(rows, refs) {
            XCTAssertEqual(ref["ok"] as? Bool, row[1] == "valid", "\(row[0]): \(ref["error"] ?? "")")
            if row[1] == "valid" { try assertSame(row[2], ref) }
        }
    }
}
