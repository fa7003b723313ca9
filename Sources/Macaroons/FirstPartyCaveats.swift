/// The first-party caveat checkers LND registers (bakery std `time-before`, `declared`,
/// `error`; LND `ipaddr`, `iprange`, `lnd-custom`), with their exact error texts.
///
/// Contract: conditions are checked in order and the first failure is returned, wrapped as
/// the bakery does: `caveat "<condition>" not satisfied: <reason>` (or
/// `cannot parse caveat "<condition>": <reason>`). Anything else is
/// `caveat "<condition>" not satisfied: caveat not recognized`.
public struct CaveatContext: Sendable {
    /// The wall clock for `time-before`.
    public var now: MacaroonTime
    /// Whether the connection's peer address is known at all (LND: `peer.FromContext`).
    public var hasPeer: Bool
    /// The caller's IP (from the connection), for `ipaddr`/`iprange`; nil when the peer address
    /// is not an IP (then no IP caveat is satisfied).
    public var peerIP: IPAddress?
    /// Custom caveat names some middleware handles (`lnd-custom <name> …`); PayTrack
    /// registers none, so every `lnd-custom` caveat is refused.
    public var customCaveatNames: Set<String>

    public init(now: MacaroonTime = .now(), peerIP: IPAddress?, hasPeer: Bool? = nil,
                customCaveatNames: Set<String> = []) {
        self.now = now
        self.peerIP = peerIP
        self.hasPeer = hasPeer ?? (peerIP != nil)
        self.customCaveatNames = customCaveatNames
    }
}

public enum FirstPartyCaveats {
    public static let timeBefore = "time-before"
    public static let declared = "declared"
    public static let error = "error"
    public static let ipAddr = "ipaddr"
    public static let ipRange = "iprange"
    public static let lndCustom = "lnd-custom"

    /// What a successful check depends on beyond the connection: the earliest `time-before`.
    public struct Outcome: Sendable, Equatable {
        /// The macaroon stops being valid at this instant (nil: never expires).
        public var expiry: MacaroonTime?
    }

    /// Checks every condition of one macaroon (bakery `newAllowContext` loop).
    public static func check(_ conditions: [[UInt8]], context: CaveatContext) throws(MacaroonError) -> Outcome {
        var outcome = Outcome(expiry: nil)
        var declaredMap: [String: String]? = nil
        for raw in conditions {
            let cav = String(decoding: raw, as: UTF8.self)
            guard !raw.isEmpty else {
                throw MacaroonError("cannot parse caveat \(goQuote(raw)): empty caveat")
            }
            let name: Substring
            let arg: Substring
            if let space = cav.utf8.firstIndex(of: 0x20) {
                if space == cav.utf8.startIndex {
                    throw MacaroonError("cannot parse caveat \(goQuote(raw)): caveat starts with space character")
                }
                name = cav[..<space]
                arg = cav[cav.utf8.index(after: space)...]
            } else {
                name = cav[...]
                arg = ""
            }
            func unsatisfied(_ reason: String) -> MacaroonError {
                MacaroonError("caveat \(goQuote(raw)) not satisfied: \(reason)")
            }
            switch String(name) {
            case timeBefore:
                let t: MacaroonTime
                do { t = try MacaroonTime.parseRFC3339Nano(String(arg)) } catch { throw unsatisfied(error.message) }
                guard context.now < t else { throw unsatisfied("macaroon has expired") }
                if outcome.expiry.map({ t < $0 }) ?? true { outcome.expiry = t }
            case declared:
                let parts = arg.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw unsatisfied("declared caveat has no value") }
                if declaredMap == nil { declaredMap = inferDeclared(conditions) }
                let key = String(parts[0]), want = String(parts[1])
                guard let got = declaredMap![key] else {
                    throw unsatisfied("got \(key)=null, expected \(goQuote(want))")
                }
                if got != want { throw unsatisfied("got \(key)=\(goQuote(got)), expected \(goQuote(want))") }
            case error:
                throw unsatisfied("bad caveat")
            case ipAddr:
                guard context.hasPeer else { throw unsatisfied("unable to get peer info from context") }
                guard let locked = IPAddress(arg), let peer = context.peerIP, locked == peer else {
                    throw unsatisfied("macaroon locked to different IP address")
                }
            case ipRange:
                guard context.hasPeer else { throw unsatisfied("unable to get peer info from context") }
                guard let net = IPNetwork(cidr: arg) else { throw unsatisfied("unable to parse macaroon IP range") }
                guard let peer = context.peerIP, net.contains(peer) else { throw unsatisfied("macaroon locked to different IP range") }
            case lndCustom:
                if arg != trimmingGoSpace(arg) {
                    throw unsatisfied("unexpected white space found in caveat condition")
                }
                if arg.isEmpty { throw unsatisfied("expected custom caveat, got empty string") }
                let customName = String(arg.split(separator: " ", omittingEmptySubsequences: false)[0])
                guard context.customCaveatNames.contains(customName) else {
                    throw unsatisfied("cannot accept macaroon with custom caveat '\(customName)', no middleware registered to handle it")
                }
            default:
                throw unsatisfied("caveat not recognized")
            }
        }
        return outcome
    }

    /// Bakery `InferDeclaredFromConditions`: `declared k v` pairs; a key declared with two
    /// different values is dropped.
    static func inferDeclared(_ conditions: [[UInt8]]) -> [String: String] {
        var info: [String: String] = [:]
        var conflicts: [String] = []
        for raw in conditions {
            let cav = String(decoding: raw, as: UTF8.self)
            let parts = cav.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == declared else { continue }
            let kv = parts[1].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { continue }
            let k = String(kv[0]), v = String(kv[1])
            if let old = info[k], old != v { conflicts.append(k); continue }
            info[k] = v
        }
        for k in conflicts { info[k] = nil }
        return info
    }

    /// Go `strings.TrimSpace` (Unicode White_Space).
    static func trimmingGoSpace(_ s: Substring) -> Substring {
        func isSpace(_ c: Character) -> Bool {
            c.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
        }
        var t = s
        while let f = t.first, isSpace(f) { t = t.dropFirst() }
        while let l = t.last, isSpace(l) { t = t.dropLast() }
        return t
    }
}
