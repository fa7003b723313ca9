/// A BOLT 9 feature vector as carried in the BOLT 11 `9` field: bit 0 is the least significant
/// bit of the last 5-bit value; even bits are "required", odd bits "optional" (it's OK to be odd).
public struct FeatureVector: Sendable, Equatable, Hashable {
    /// The set bits, ascending.
    public private(set) var bits: [Int]

    public init(bits: some Sequence<Int>) {
        self.bits = Array(Set(bits.filter { $0 >= 0 })).sorted()
    }

    public static let empty = FeatureVector(bits: [])

    public var isEmpty: Bool { bits.isEmpty }
    public func contains(_ bit: Int) -> Bool { bits.contains(bit) }
    /// True when either the required (even) or optional (odd) bit of the pair holding `bit` is set.
    public func supports(_ bit: Int) -> Bool { contains(bit & ~1) || contains(bit | 1) }

    // BOLT 9 bits that are meaningful in invoices.
    public static let varOnionOptinRequired = 8, varOnionOptinOptional = 9
    public static let paymentSecretRequired = 14, paymentSecretOptional = 15
    public static let basicMPPRequired = 16, basicMPPOptional = 17
    public static let ampRequired = 30, ampOptional = 31
    public static let paymentMetadataRequired = 48, paymentMetadataOptional = 49

    /// Bits a reader of this codebase understands in an invoice; an unknown *even* bit makes the
    /// invoice unpayable (BOLT 11 "Feature Bits"), unknown odd bits are ignored.
    public static let knownInvoiceBits: Set<Int> = [8, 9, 14, 15, 16, 17, 30, 31, 48, 49]

    /// The unknown even (required) bits that are set.
    public var unknownRequiredBits: [Int] {
        bits.filter { $0 % 2 == 0 && !Self.knownInvoiceBits.contains($0) }
    }

    /// LND's feature names (lnwire `Features`) for `lnrpc.Feature.name`; nil for bits LND does not name.
    public static func lndName(bit: Int) -> String? {
        switch bit {
        case 0, 1: return "data-loss-protect"
        case 3: return "initial-routing-sync"
        case 4, 5: return "upfront-shutdown-script"
        case 6, 7: return "gossip-queries"
        case 8, 9: return "tlv-onion"
        case 10, 11: return "ext-gossip-queries"
        case 12, 13: return "static-remote-key"
        case 14, 15: return "payment-addr"
        case 16, 17: return "multi-path-payments"
        case 18, 19: return "wumbo-channels"
        case 20, 21: return "anchor-commitments"
        case 22, 23: return "anchors-zero-fee-htlc-tx"
        case 24, 25: return "route-blinding"
        case 30, 31: return "amp"
        case 44, 45: return "explicit-commitment-type"
        case 46, 47: return "scid-alias"
        case 48, 49: return "payment-metadata"
        case 50, 51: return "zero-conf"
        case 54, 55: return "keysend"
        case 2022, 2023: return "script-enforced-lease"
        default: return nil
        }
    }

    /// Decodes the `9` field's 5-bit values.
    init(fiveBit values: ArraySlice<UInt8>) {
        var set = [Int]()
        let n = values.count
        for (i, v) in values.enumerated() where v != 0 {
            let base = (n - 1 - i) * 5
            for b in 0..<5 where (v >> UInt8(b)) & 1 == 1 { set.append(base + b) }
        }
        bits = set.sorted()
    }

    /// The minimal 5-bit encoding (empty when no bit is set).
    var fiveBit: [UInt8] {
        guard let top = bits.last else { return [] }
        let n = top / 5 + 1
        var out = [UInt8](repeating: 0, count: n)
        for b in bits { out[n - 1 - b / 5] |= UInt8(1 << (b % 5)) }
        return out
    }
}

/// One entry of an LND `features` map (`lnrpc.Feature`): name, required (even bit), known.
public struct FeatureInfo: Sendable, Equatable, Hashable {
    public var name: String
    public var isRequired: Bool
    public var isKnown: Bool

    public init(name: String, isRequired: Bool, isKnown: Bool) {
        self.name = name
        self.isRequired = isRequired
        self.isKnown = isKnown
    }
}

extension FeatureVector {
    /// The `map<uint32, Feature>` LND returns for invoices and decoded payment requests: every set
    /// bit, named as LND names it ("unknown" when it has no name).
    public var lndFeatureMap: [UInt32: FeatureInfo] {
        var map = [UInt32: FeatureInfo]()
        for bit in bits {
            let name = Self.lndName(bit: bit)
            map[UInt32(bit)] = FeatureInfo(name: name ?? "unknown", isRequired: bit % 2 == 0, isKnown: name != nil)
        }
        return map
    }
}
