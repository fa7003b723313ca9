import Crypto

/// On-chain addresses for BOLT 11 fallbacks: Base58Check P2PKH/P2SH and BIP 173/350 segwit
/// (Bech32 for version 0, Bech32m for 1...16).
extension Fallback {
    /// The address text on `currency`'s chain.
    public func address(on currency: Currency) -> String {
        switch self {
        case .pubKeyHash(let h): return Base58.checkEncode([currency.base58Versions.pubKeyHash] + h)
        case .scriptHash(let h): return Base58.checkEncode([currency.base58Versions.scriptHash] + h)
        case let .segwit(version, program):
            var data: [UInt8] = [version]
            FiveBit.fromBytes(program, into: &data)
            let hrp = Array(currency.segwitHRP.utf8)
            let constant: UInt32 = version == 0 ? 1 : 0x2bc830a3
            var chk = Bech32.polymod(hrp: hrp, data: data)
            for _ in 0..<6 { chk = Bech32.polymodStep(chk, 0) }
            chk ^= constant
            var out = hrp + [0x31]
            for v in data { out.append(Bech32.charset[Int(v)]) }
            for i in 0..<6 { out.append(Bech32.charset[Int((chk >> UInt32(5 * (5 - i))) & 31)]) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Parses an address for `currency`'s chain; nil if it is not a valid address there.
    public init?(address: String, on currency: Currency) {
        let lower = address.lowercased()
        if lower.hasPrefix(currency.segwitHRP + "1") {
            let bytes = Array(address.utf8)
            guard address == lower || address == address.uppercased(),
                  let sep = bytes.lastIndex(of: 0x31) else { return nil }
            let hrp = Array(lower.utf8.prefix(sep))
            guard hrp == Array(currency.segwitHRP.utf8) else { return nil }
            var data = [UInt8]()
            for b in Array(lower.utf8)[(sep + 1)...] {
                let v = Bech32.reverse[Int(b)]
                guard v != 0xff else { return nil }
                data.append(v)
            }
            guard data.count >= 7 else { return nil }
            let chk = Bech32.polymod(hrp: hrp, data: data)
            let version = data[0]
            guard version <= 16, chk == (version == 0 ? 1 : 0x2bc830a3),
                  let program = FiveBit.toBytesStrict(data[1..<(data.count - 6)]),
                  (2...40).contains(program.count),
                  version != 0 || program.count == 20 || program.count == 32 else { return nil }
            self = .segwit(version: version, program: program)
            return
        }
        guard let raw = Base58.checkDecode(address), raw.count == 21 else { return nil }
        let versions = currency.base58Versions
        if raw[0] == versions.pubKeyHash { self = .pubKeyHash(Array(raw[1...])) }
        else if raw[0] == versions.scriptHash { self = .scriptHash(Array(raw[1...])) }
        else { return nil }
    }
}

/// Base58Check (Bitcoin alphabet, 4-byte double-SHA-256 checksum).
enum Base58 {
    static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    static func checkEncode(_ payload: [UInt8]) -> String {
        let bytes = payload + Array(SHA256.hash(SHA256.hash(payload)).prefix(4))
        var digits = [UInt8]()  // base 58, little-endian
        for b in bytes {
            var carry = Int(b)
            for j in 0..<digits.count {
                carry += Int(digits[j]) << 8
                digits[j] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 { digits.append(UInt8(carry % 58)); carry /= 58 }
        }
        var out = [UInt8](repeating: alphabet[0], count: bytes.prefix { $0 == 0 }.count)
        for d in digits.reversed() { out.append(alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func checkDecode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard !chars.isEmpty, chars.count <= 128 else { return nil }
        var bytes = [UInt8]()  // base 256, little-endian
        for c in chars {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            var carry = v
            for j in 0..<bytes.count {
                carry += Int(bytes[j]) * 58
                bytes[j] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 { bytes.append(UInt8(carry & 0xff)); carry >>= 8 }
        }
        let zeros = chars.prefix { $0 == alphabet[0] }.count
        let full = [UInt8](repeating: 0, count: zeros) + bytes.reversed()
        guard full.count >= 5 else { return nil }
        let payload = Array(full.dropLast(4))
        guard Array(SHA256.hash(SHA256.hash(payload)).prefix(4)) == Array(full.suffix(4)) else { return nil }
        return payload
    }
}
