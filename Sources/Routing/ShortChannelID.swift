/// BOLT 7 `short_channel_id`: the funding output's position in the chain, packed as
/// 3 bytes block height, 3 bytes transaction index, 2 bytes output index (big-endian u64).
/// LND's `chan_id` is this same u64; its human form is `BLOCKxTXxOUTPUT`.
public struct ShortChannelID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Returns nil if a component does not fit its field (height and tx index are 24 bits).
    public init?(blockHeight: UInt32, txIndex: UInt32, outputIndex: UInt16) {
        guard blockHeight < 1 << 24, txIndex < 1 << 24 else { return nil }
        rawValue = UInt64(blockHeight) << 40 | UInt64(txIndex) << 16 | UInt64(outputIndex)
    }

    /// Parses `BLOCKxTXxOUTPUT` (e.g. `539268x845x1`) or a decimal u64.
    public init?(string: String) {
        let parts = string.split(separator: "x", omittingEmptySubsequences: false)
        if parts.count == 3, let b = UInt32(parts[0]), let t = UInt32(parts[1]), let o = UInt16(parts[2]) {
            self.init(blockHeight: b, txIndex: t, outputIndex: o)
        } else if parts.count == 1, let v = UInt64(string) {
            self.init(rawValue: v)
        } else {
            return nil
        }
    }

    public var blockHeight: UInt32 { UInt32(rawValue >> 40) }
    public var txIndex: UInt32 { UInt32((rawValue >> 16) & 0xFF_FFFF) }
    public var outputIndex: UInt16 { UInt16(rawValue & 0xFFFF) }

    public var description: String { "\(blockHeight)x\(txIndex)x\(outputIndex)" }

    public static func < (lhs: ShortChannelID, rhs: ShortChannelID) -> Bool { lhs.rawValue < rhs.rawValue }
}
