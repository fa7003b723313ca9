import Crypto

/// Argument conversions shared by the commands, with lncli-shaped error texts.
enum Parse {
    /// A hex string of exactly `length` bytes (nil `length`: any).
    static func hex(_ text: String, what: String, length: Int? = nil) throws(CLIError) -> [UInt8] {
        guard let bytes = Hex.decode(text) else {
            throw .usage("unable to decode \(what): encoding/hex: invalid hex string \"\(text)\"")
        }
        if let n = length, bytes.count != n {
            throw .usage("\(what) must be exactly \(n) bytes, is instead \(bytes.count)")
        }
        return bytes
    }

    /// A 32-byte payment hash in hex.
    static func paymentHash(_ text: String) throws(CLIError) -> [UInt8] {
        try hex(text, what: "payment hash", length: 32)
    }

    /// lncli's default fee limit when none is given (`lnwallet.DefaultRoutingFeeLimitForAmount`):
    /// the whole amount up to 1,000 sat, 5 % above.
    static func defaultFeeLimitMsat(amountMsat: Int64) -> Int64 {
        amountMsat <= 1_000_000 ? amountMsat : amountMsat * 5 / 100
    }
}
