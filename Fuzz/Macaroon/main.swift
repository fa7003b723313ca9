import Crypto
import Macaroons

/// Parses arbitrary bytes as a binary macaroon and runs the whole checker on them (as a
/// metadata value's decoded bytes, and the input as the hex text itself), plus the caveat
/// parsers on the input as text. Invariants: nothing traps; a parsed v2 macaroon re-serializes
/// to a canonical form that parses to it and is stable; nothing verifies without the root key's signature.
let rootKey: [UInt8] = Array(0..<32)
let checker = MacaroonChecker(rootKeys: InMemoryRootKeyStore(keys: [Array("0".utf8): rootKey]))
let cache = MacaroonVerificationCache(peerIP: "127.0.0.1")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let m = try? Macaroon(binary: bytes) {
        if m.version == .v2 {
            // The parser reads varints as Go's binary.Uvarint (what LND's go-macaroon uses), which
            // accepts non-minimal encodings (0x80 0x00 for 0); the serializer writes minimal ones.
            // So the input comes back byte for byte only when it was canonical; in every case the
            // canonical form must parse to the same macaroon and re-serialize to itself.
            let canonical = m.serializedV2()
            let again = try? Macaroon(binary: canonical)
            precondition(again == m && again?.serializedV2() == canonical, "v2 round trip")
        }
        precondition((try? Macaroon(binary: m.serialized())) == m, "re-parse")
        _ = m.description
        if (try? MacaroonSigner.verifySignature(of: m, rootKey: rootKey)) != nil {
            precondition(MacaroonSigner.expectedSignature(of: m, rootKey: rootKey) == m.signature)
        }
    }
    for method in ["/routerrpc.Router/TrackPaymentV2", "/lnrpc.Lightning/BakeMacaroon"] {
        do {
            try checker.checkRequest(macaroonValues: [Hex.encode(bytes)], fullMethod: method, peerIP: "127.0.0.1", cache: cache)
            // Accepted: it must carry a valid signature from the root key.
            let m = try Macaroon(binary: bytes)
            precondition(MacaroonSigner.expectedSignature(of: m, rootKey: rootKey) == m.signature, "accepted forgery")
        } catch {}
    }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? checker.checkRequest(macaroonValues: [text], fullMethod: "/lnrpc.Lightning/GetInfo", peerIP: text)
    _ = try? MacaroonTime.parseRFC3339Nano(text)
    _ = IPAddress(text)
    _ = IPNetwork(cidr: text)
    _ = try? FirstPartyCaveats.check([bytes], context: CaveatContext(peerIP: IPAddress("::1")))
    return 0
}
