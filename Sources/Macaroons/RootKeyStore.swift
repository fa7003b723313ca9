import Locks
import Crypto

/// Where root keys live, by id (bakery `RootKeyStore` as LND uses it).
///
/// Contract: implementations are thread-safe; keys are 32 random bytes; a key, once created
/// for an id, never changes (macaroons minted from it stay valid).
public protocol RootKeyStore: Sendable {
    /// The root key for `id`; throws ``MacaroonError/rootKeyNotFound(id:)`` when there is none
    /// and ``MacaroonError/storeLocked`` when the store is sealed.
    func rootKey(id: [UInt8]) throws(MacaroonError) -> [UInt8]
    /// The root key for `id`, created (and persisted) first if missing — what baking uses
    /// (LND `RootKeyStorage.RootKey`).
    func rootKeyCreatingIfNeeded(id: [UInt8]) throws(MacaroonError) -> [UInt8]
}

/// Root key ids as LND spells them: the decimal text of a uint64; `"0"` is the default.
public enum RootKeyID {
    public static let `default`: [UInt8] = Array("0".utf8)
    /// LND BakeMacaroon: `strconv.FormatUint(root_key_id, 10)`.
    public static func from(_ value: UInt64) -> [UInt8] { Array(String(value).utf8) }
}

/// A root key store in memory only (tests, stateless setups). New keys come from the CSPRNG.
public final class InMemoryRootKeyStore: RootKeyStore, @unchecked Sendable, CustomStringConvertible, CustomReflectable {
    public var description: String { "InMemoryRootKeyStore(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .class) }
    private let lock = Lock()
    private var keys: [[UInt8]: [UInt8]]

    public init(keys: [[UInt8]: [UInt8]] = [:]) { self.keys = keys }

    public func rootKey(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        guard let k = lock.withLock({ keys[id] }) else { throw .rootKeyNotFound(id: id) }
        return k
    }

    public func rootKeyCreatingIfNeeded(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        if id.isEmpty { throw MacaroonError("missing root key ID") }
        return lock.withLock {
            if let k = keys[id] { return k }
            let k = SecureRandom.bytes(32)
            keys[id] = k
            return k
        }
    }
}
