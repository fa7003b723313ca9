import LightningPrimitives

/// Go `encoding/hex.DecodeString`, with its exact errors (LND decodes the metadata value with
/// it): `encoding/hex: invalid byte: U+0067 'g'`, `encoding/hex: odd length hex string`.
/// Either case is accepted. Codec, Go's order of checks and texts are the shared `Hex`.
enum GoHex {
    static func decode(_ text: String) throws(MacaroonError) -> [UInt8] {
        if let bytes = Hex.decode(text) { return bytes }
        // decode failed, so decodeFailure names why; `.oddLength` only guards the impossible nil.
        throw MacaroonError((Hex.decodeFailure(text) ?? .oddLength).description)
    }
}
