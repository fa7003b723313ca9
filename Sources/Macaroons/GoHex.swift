import LightningPrimitives

/// Go `encoding/hex.DecodeString`, with its exact errors (LND decodes the metadata value with
/// it): `encoding/hex: invalid byte: U+0067 'g'`, `encoding/hex: odd length hex string`.
/// Either case is accepted. The codec and Go's order of checks are the shared `Hex`; this adds
/// Go's error texts.
enum GoHex {
    static func decode(_ text: String) throws(MacaroonError) -> [UInt8] {
        if let bytes = Hex.decode(text) { return bytes }
        switch Hex.decodeFailure(text) {
        case .invalidByte(let b): throw invalid(b)
        case .oddLength, nil: throw MacaroonError("encoding/hex: odd length hex string")
        }
    }

    static func invalid(_ b: UInt8) -> MacaroonError {
        MacaroonError("encoding/hex: invalid byte: \(goRuneU(b))")
    }
}
