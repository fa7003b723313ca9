/// Per-connection memory of macaroons already verified, so that checking a call costs
/// well under a microsecond after the first one (issue point 5).
///
/// Contract:
/// - Bound to one connection: created with that connection's peer IP, so cached `ipaddr` /
///   `iprange` results stay true for its lifetime. Never share one across connections.
/// - Keys are the exact metadata values (hex text, compared in full and in constant time: the
///   text contains the signature, and a connection may be shared by a proxy); values are the granted
///   permissions and the earliest `time-before`. An entry is used only while `now` is before
///   that expiry; after it the macaroon is verified again (and fails with LND's text).
/// - Only successful verifications are cached; at most ``capacity`` entries of at most
///   ``maximumKeyLength`` bytes each (memory per connection is bounded); the oldest entry is
///   replaced first.
/// - Safe to use from concurrent streams of the connection.
/// - Root keys are never deleted in this version; if deletion is added, caches must be
///   dropped with it.
public final class MacaroonVerificationCache: @unchecked Sendable {
    public static let capacity = 4
    public static let maximumKeyLength = 16 * 1024

    struct Entry {
        let key: String
        let granted: GrantedPermissions
        let expiry: MacaroonTime?
    }

    /// The connection's peer as the caveat checkers see it.
    struct Peer: Sendable {
        let known: Bool
        let address: IPAddress?
        init(_ text: String?) {
            known = text != nil
            address = text.flatMap { IPAddress($0) }
        }
    }

    let peer: Peer
    private let lock = Lock()
    private var entries: [Entry] = []
    private var next = 0

    /// `peerIP`: the connection's remote IP text (nil when the transport has none).
    public init(peerIP: String?) {
        peer = Peer(peerIP)
        entries.reserveCapacity(Self.capacity)
    }

    /// Number of live entries (for tests and metrics).
    public var count: Int { lock.withLock { entries.count } }

    func lookup(_ key: String, now: MacaroonTime) -> GrantedPermissions? {
        lock.withLock {
            for e in entries where Self.constantTimeEquals(e.key, key) {
                if let exp = e.expiry, !(now < exp) { return nil }
                return e.granted
            }
            return nil
        }
    }

    func store(_ key: String, _ verified: VerifiedMacaroon) {
        guard key.utf8.count <= Self.maximumKeyLength else { return }
        lock.withLock {
            let entry = Entry(key: key, granted: verified.granted, expiry: verified.expiry)
            if let i = entries.firstIndex(where: { Self.constantTimeEquals($0.key, key) }) {
                entries[i] = entry
            } else if entries.count < Self.capacity {
                entries.append(entry)
            } else {
                entries[next] = entry
                next = (next + 1) % Self.capacity
            }
        }
    }

    /// Equality of two texts whose running time depends only on their lengths (same technique
    /// as `CRYPTO_memcmp`, without copying the strings into arrays).
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                guard pa.count == pb.count else { return false }
                var diff: UInt8 = 0
                for i in 0..<pa.count { diff |= pa[i] ^ pb[i] }
                return diff == 0
            }
        }
    }
}
