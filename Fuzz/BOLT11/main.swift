import Crypto
import BOLT11

/// BOLT 11 decoder fuzz target.
///
/// Mode (first byte, low bit):
/// - 0: the rest is the invoice text, decoded as is.
/// - 1: the rest is `hrp` + 0x31 + data bytes (each taken mod 32), given a *valid* checksum before
///   decoding, so the fuzzer reaches the HRP, field and signature parsers instead of stopping at
///   the checksum.
/// For anything that decodes: (a) re-encoding with its own signature, when it reproduces the
/// input, decodes to the same invoice; (b) the same fields (with `n` replaced) re-signed with a
/// fixed key decode to exactly what the writer returned, with that key as payee.
let fuzzKey = try! PrivateKey(rawRepresentation: [UInt8](repeating: 0x01, count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0, size < 4096 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text: String
    if bytes[0] & 1 == 0 {
        text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    } else {
        let rest = Array(bytes.dropFirst())
        let sep = rest.firstIndex(of: 0x31) ?? rest.count
        let hrp = rest[..<sep].map { b -> UInt8 in
            let c = b & 0x7f
            let printable = c < 33 || c > 126 ? UInt8(ascii: "l") : c
            return printable >= 0x41 && printable <= 0x5a ? printable + 0x20 : printable
        }
        let values = rest[min(sep + 1, rest.count)...].map { $0 & 31 }
        text = Bech32.encode(hrp: hrp.isEmpty ? Array("lnbc".utf8) : hrp, data: values)
    }
    guard let inv = try? Bolt11Invoice.decode(text) else { return 0 }

    let again = inv.encoded()
    if again == text.lowercased() {
        guard let d = try? Bolt11Invoice.decode(again), d == inv else { fatalError("self re-encoding does not decode back: \(text)") }
    }

    let fields = inv.fields.map { f -> TaggedField in
        if case .payee = f { return .payee(fuzzKey.publicKey) }
        return f
    }
    let unsigned = UnsignedBolt11Invoice(currency: inv.currency, amountMsat: inv.amountMsat, timestamp: inv.timestamp,
                                         fields: fields)
    do {
        let (request, written) = try unsigned.sign(with: fuzzKey)
        let decoded: Bolt11Invoice
        do { decoded = try Bolt11Invoice.decode(request) } catch {
            fatalError("re-signed invoice does not decode (\(error.ldkDescription)): \(request) from \(text)")
        }
        precondition(decoded == written, "re-signed invoice decodes differently: \(request)")
        precondition(decoded.payee == fuzzKey.publicKey)
        // The signature is over sha256(hrp || data). (Calling SHA256 here also makes the linker keep
        // Crypto's SHA256 for BOLT11: Scripts/fuzz links the module archives in dependency order.)
        let hrpHash = SHA256.hash(try unsigned.hrp())
        let signingHash = try unsigned.signingHash()
        precondition(hrpHash.count == 32 && fuzzKey.publicKey.verify(signature: written.signature, hash: signingHash))
        precondition(decoded.paymentHash == inv.paymentHash && decoded.amountMsat == inv.amountMsat
                     && decoded.features == inv.features && decoded.description == inv.description)
    } catch {
        // The only thing a reader accepts that a writer refuses: a zero HRP amount.
        precondition(error == .amountNotPositive && inv.amountMsat == 0, "writer refused a decoded invoice: \(error) \(text)")
    }
    return 0
}
