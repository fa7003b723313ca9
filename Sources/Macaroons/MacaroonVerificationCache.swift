import Locks
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
        /// `key`'s UTF-8 bytes (the per-call hit path compares header bytes with these).
        let keyBytes: [UInt8]
        let granted: GrantedPermissions
        let expiry: MacaroonTime?
    }

    /// What a full method needs, as the checker's (immutable) tables say; memoized per connection
    /// for the last method seen (see ``MacaroonChecker/checkRequest(macaroonCount:macaroon:fullMethod:cache:now:)``).
    enum MethodRule {
        case open
        case unknown
        case required(RequiredSet)
    }
    var lastMethod: String?
    var lastRule: MethodRule = .unknown

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

    /// As `lookup(_:now:)` for the raw header bytes (no String made).
    func lookup(bytes key: UnsafeRawBufferPointer, now: MacaroonTime) -> GrantedPermissions? {
        lock.withLock {
            for e in entries where e.keyBytes.withUnsafeBytes({ Self.constantTimeEquals($0, key) }) {
                if let exp = e.expiry, !(now < exp) { return nil }
                return e.granted
            }
            return nil
        }
    }

    /// The memoized rule of `method` (loop-confined per connection, under the lock anyway).
    func rule(for method: String, compute: (String) -> MethodRule) -> MethodRule {
        lock.withLock {
            // Route paths are the same String storage call after call: `==` is then a pointer compare.
            if let m = lastMethod, m == method { return lastRule }
            let r = compute(method)
            lastMethod = method; lastRule = r
            return r
        }
    }

    func store(_ key: String, _ verified: VerifiedMacaroon) {
        guard key.utf8.count <= Self.maximumKeyLength else { return }
        lock.withLock {
            let entry = Entry(key: key, keyBytes: Array(key.utf8), granted: verified.granted, expiry: verified.expiry)
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

    /// Equality of two byte strings whose running time depends only on their lengths (as
    /// `CRYPTO_memcmp`), sixteen bytes per step.
    static func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        let n = a.count
        guard n > 0 else { return true }
        let pa = a.baseAddress!, pb = b.baseAddress!
        var diff: UInt64 = 0, diff2: UInt64 = 0
        var i = 0
        while n &- i >= 16 {
            diff |= pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pb.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            diff2 |= pa.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self) ^ pb.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            i &+= 16
        }
        while i < n {
            diff |= UInt64(pa.load(fromByteOffset: i, as: UInt8.self) ^ pb.load(fromByteOffset: i, as: UInt8.self))
            i &+= 1
        }
        return diff | diff2 == 0
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
