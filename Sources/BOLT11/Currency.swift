/// The chain an invoice is for, named by its BOLT 11 HRP prefix after `ln`.
public enum Currency: String, CaseIterable, Sendable, Equatable, Hashable {
    /// Bitcoin mainnet, `lnbc`.
    case bitcoin = "bc"
    /// Bitcoin testnet (testnet3/testnet4), `lntb`.
    case bitcoinTestnet = "tb"
    /// Bitcoin regtest, `lnbcrt`.
    case regtest = "bcrt"
    /// btcd simnet, `lnsb`.
    case simnet = "sb"
    /// Bitcoin signet, `lntbs`.
    case signet = "tbs"

    /// The full HRP prefix, e.g. `lntb`.
    public var prefix: String { "ln" + rawValue }

    /// The currency for an LND `--network` name (`mainnet`, `testnet`, `testnet3`, `testnet4`,
    /// `regtest`, `simnet`, `signet`; `bitcoin` is accepted for mainnet); nil if unknown.
    public init?(network: String) {
        switch network.lowercased() {
        case "mainnet", "bitcoin": self = .bitcoin
        case "testnet", "testnet3", "testnet4": self = .bitcoinTestnet
        case "regtest": self = .regtest
        case "simnet": self = .simnet
        case "signet": self = .signet
        default: return nil
        }
    }

    /// The chain-params name LND prints in `invoice not for current active network '%s'`.
    public var lndNetworkName: String {
        switch self {
        case .bitcoin: return "mainnet"
        case .bitcoinTestnet: return "testnet3"
        case .regtest: return "regtest"
        case .simnet: return "simnet"
        case .signet: return "signet"
        }
    }

    /// The segwit address HRP for fallback addresses on this chain.
    public var segwitHRP: String {
        switch self {
        case .bitcoin: return "bc"
        case .bitcoinTestnet, .signet: return "tb"
        case .regtest: return "bcrt"
        case .simnet: return "sb"
        }
    }

    /// Base58 version bytes for P2PKH and P2SH addresses on this chain.
    public var base58Versions: (pubKeyHash: UInt8, scriptHash: UInt8) {
        switch self {
        case .bitcoin: return (0x00, 0x05)
        case .bitcoinTestnet, .signet, .regtest: return (0x6f, 0xc4)
        case .simnet: return (0x3f, 0x7b)
        }
    }
}

/// HRP amounts (BOLT 11 "Human-Readable Part"): a decimal number of bitcoin with an optional
/// multiplier `m` (1e-3), `u` (1e-6), `n` (1e-9) or `p` (1e-12). A `p` amount must end in 0 so
/// that it is a whole number of millisatoshis.
enum HRPAmount {
    static let msatPerBTC: UInt64 = 100_000_000_000

    /// Pico-bitcoin per unit of each multiplier.
    static func picoMultiplier(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "m"): return 1_000_000_000
        case UInt8(ascii: "u"): return 1_000_000
        case UInt8(ascii: "n"): return 1_000
        case UInt8(ascii: "p"): return 1
        default: return nil
        }
    }

    /// The shortest HRP text for `msat` (largest multiplier that represents it exactly).
    static func encode(msat: UInt64) throws(Bolt11EncodingError) -> String {
        guard msat > 0 else { throw .amountNotPositive }
        guard msat <= 21_000_000 * msatPerBTC else { throw .amountTooLarge(msat) }
        if msat % msatPerBTC == 0 { return String(msat / msatPerBTC) }
        if msat % 100_000_000 == 0 { return "\(msat / 100_000_000)m" }
        if msat % 100_000 == 0 { return "\(msat / 100_000)u" }
        if msat % 100 == 0 { return "\(msat / 100)n" }
        return "\(msat * 10)p"
    }
}
