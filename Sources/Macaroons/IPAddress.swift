/// An IP address as Go's `net.ParseIP` reads it, for the `ipaddr`/`iprange` caveats.
///
/// Stored as 16 bytes; IPv4 addresses (and IPv4-mapped IPv6 ones, which Go treats as equal)
/// are `::ffff:a.b.c.d`.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// True for IPv4 and IPv4-mapped IPv6 addresses (Go `To4() != nil`).
    public var isIPv4: Bool {
        bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
    }

    public var description: String {
        if isIPv4 { return bytes[12..<16].map { String($0) }.joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    init(raw: [UInt8]) { bytes = raw }

    /// Go `net.ParseIP`: dotted-quad IPv4 (no leading zeros) or RFC 4291 IPv6 text (with `::`
    /// and a trailing dotted quad). Zones and brackets are refused. Nil when not an address.
    public init?(_ text: some StringProtocol) {
        let s = Array(text.utf8)
        if s.contains(0x2e) && !s.contains(0x3a) {
            guard let v4 = Self.parseIPv4(s[...]) else { return nil }
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + v4
            return
        }
        guard let v6 = Self.parseIPv6(s) else { return nil }
        bytes = v6
    }

    static func parseIPv4(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = s.split(separator: 0x2e, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            if p.count > 1 && p.first == 0x30 { return nil }
            let n = p.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard n <= 255 else { return nil }
            out.append(UInt8(n))
        }
        return out
    }

    static func parseIPv6(_ s: [UInt8]) -> [UInt8]? {
        guard !s.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: 16)
        var i = 0
        var n = 0
        var ellipsis = -1
        if s.count >= 2 && s[0] == 0x3a && s[1] == 0x3a {
            ellipsis = 0
            i = 2
            if i == s.count { return out }
        }
        while i < s.count && n < 16 {
            // Hex group of 1…4 digits.
            var v = 0
            var k = i
            while k < s.count, k - i < 5, let d = hexValue(s[k]) { v = v << 4 | d; k += 1 }
            if k == i || k - i > 4 { return nil }
            if k < s.count && s[k] == 0x2e {
                // Trailing IPv4.
                if ellipsis < 0 && n != 12 { return nil }
                guard n + 4 <= 16, let v4 = parseIPv4(s[i...]) else { return nil }
                out[n] = v4[0]; out[n + 1] = v4[1]; out[n + 2] = v4[2]; out[n + 3] = v4[3]
                n += 4
                i = s.count
                break
            }
            out[n] = UInt8(v >> 8); out[n + 1] = UInt8(v & 0xff)
            n += 2
            i = k
            if i == s.count { break }
            guard s[i] == 0x3a, i + 1 < s.count else { return nil }
            i += 1
            if s[i] == 0x3a {
                if ellipsis >= 0 { return nil }
                ellipsis = n
                i += 1
                if i == s.count { break }
            }
        }
        if i != s.count { return nil }
        if n < 16 {
            guard ellipsis >= 0 else { return nil }
            let tail = n - ellipsis
            for k in stride(from: tail - 1, through: 0, by: -1) {
                out[16 - tail + k] = out[ellipsis + k]
            }
            for k in ellipsis..<(16 - tail) { out[k] = 0 }
        } else if ellipsis >= 0 {
            return nil
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c - 0x30)
        case 0x61...0x66: return Int(c - 0x61 + 10)
        case 0x41...0x46: return Int(c - 0x41 + 10)
        default: return nil
        }
    }
}

/// A network as Go's `net.ParseCIDR` returns it, with `IPNet.Contains` semantics (an IPv4
/// network only contains IPv4 addresses, an IPv6 one only non-IPv4 ones).
public struct IPNetwork: Sendable, Hashable {
    public let address: IPAddress
    /// Prefix length in the address family's own bit width (≤ 32 for IPv4).
    public let prefixLength: Int

    /// `a.b.c.d/n` or `v6/n`; nil when Go's ParseCIDR would fail.
    public init?(cidr text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPAddress(parts[0]),
              !parts[1].isEmpty, parts[1].utf8.count <= 3,
              parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let bits = Int(parts[1]) else { return nil }
        let textIsV4 = !parts[0].contains(":")
        let width = textIsV4 ? 32 : 128
        guard bits <= width else { return nil }
        var prefix = bits
        if !textIsV4 && ip.isIPv4 { prefix = max(0, bits - 96) }  // Go masks the 4-byte form.
        address = ip
        prefixLength = prefix
    }

    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.isIPv4 == address.isIPv4 else { return false }
        let offset = address.isIPv4 ? 12 : 0
        var bits = prefixLength
        var k = offset
        while bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if ip.bytes[k] & mask != address.bytes[k] & mask { return false }
            bits -= 8
            k += 1
        }
        return true
    }
}
