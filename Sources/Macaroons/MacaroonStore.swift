#if canImport(Glibc)
import Locks
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

/// The daemon's root key store: 32-byte random root keys by id, persisted in a ``RootKeyVault``:
/// `DATADIR/data/chain/bitcoin/<network>/macaroons.rootkeys` (mode 0600, see ``RootKeyFile``) by
/// default, or a PostgreSQL row shared by replicas; optionally sealed with a password. Id `"0"`
/// is created on first open.
///
/// Contract: thread-safe; a key never changes once created; every change is written
/// atomically to the vault before it is used, so a macaroon minted from a key survives a crash.
/// A new key is merged into what the vault holds (keys other replicas created are kept), and an
/// unknown id is looked up in the vault again (at most once a second) before it is refused.
/// Root keys appear in no description or error.
public final class MacaroonStore: RootKeyStore, @unchecked Sendable, CustomStringConvertible, CustomReflectable {
    public static let rootKeyFileName = "macaroons.rootkeys"
    /// PBKDF2 iterations for a sealed store (≈0.1–0.3 s on one core).
    public static let defaultKDFIterations = 200_000

    /// `DATADIR/data/chain/bitcoin/<network>` (LND's network directory).
    public let networkDirectory: String
    public var rootKeyPath: String { networkDirectory + "/" + Self.rootKeyFileName }
    /// Where the keys are persisted.
    public let vault: any RootKeyVault
    /// Monotonic second of the last reload for an unknown id (rate limit).
    private var lastReload: Int64 = 0

    private let lock = Lock()
    private var keys: [[UInt8]: [UInt8]] = [:]
    private var order: [[UInt8]] = []
    private let password: [UInt8]?
    private let kdfIterations: Int

    public var description: String {
        "MacaroonStore(\(vault.location), \(lock.withLock { keys.count }) root keys, \(password == nil ? "plain" : "sealed"))"
    }

    /// Reflection shows no key material.
    public var customMirror: Mirror { Mirror(self, children: ["path": vault.location], displayStyle: .class) }

    /// LND's network directory under `datadir`.
    public static func networkDirectory(datadir: String, network: String) -> String {
        (datadir.hasSuffix("/") ? String(datadir.dropLast()) : datadir) + "/data/chain/bitcoin/" + network
    }

    /// Opens the store of `datadir`/`network`, creating the directory (0700), the file (0600)
    /// and root key `"0"` when missing. With a `password` the file is sealed (an existing plain
    /// file is sealed on open); a sealed file without password fails with
    /// `macaroon store is locked`, a wrong password with `invalid password`.
    public static func openOrCreate(datadir: String, network: String, password: [UInt8]? = nil,
                                    kdfIterations: Int = defaultKDFIterations) throws(MacaroonError) -> MacaroonStore {
        let dir = networkDirectory(datadir: datadir, network: network)
        if let password, password.isEmpty { throw MacaroonError("password must not be empty") }
        try FileIO.makeDirectories(dir)
        let vault = FileRootKeyVault(path: dir + "/" + rootKeyFileName)
        return try open(vault: vault, networkDirectory: dir, password: password, kdfIterations: kdfIterations,
                        rewrite: vault.needsModeFix)
    }

    /// Opens the store over `vault` (creating root key `"0"` when missing); `networkDirectory` is
    /// where default macaroon files go. Password rules as `openOrCreate`.
    public static func open(vault: any RootKeyVault, networkDirectory dir: String, password: [UInt8]? = nil,
                            kdfIterations: Int = defaultKDFIterations, rewrite: Bool = false) throws(MacaroonError) -> MacaroonStore {
        if let password, password.isEmpty { throw MacaroonError("password must not be empty") }
        let store = MacaroonStore(directory: dir, vault: vault, password: password, kdfIterations: max(1, kdfIterations))
        var needsWrite = rewrite
        if let data = try vault.load() {
            let (records, sealed) = try RootKeyFile.decode(data, password: password)
            store.merge(records)
            needsWrite = needsWrite || sealed != (password != nil)
        }
        if store.keys[RootKeyID.default] == nil || needsWrite {
            try store.lock.withLock { () throws(MacaroonError) in try store.persistLocked(adding: nil) }
        }
        return store
    }

    private init(directory: String, vault: any RootKeyVault, password: [UInt8]?, kdfIterations: Int) {
        networkDirectory = directory
        self.vault = vault
        self.password = password
        self.kdfIterations = kdfIterations
    }

    /// Adds keys not known yet (ids already known keep their key: keys never change).
    private func merge(_ records: [([UInt8], [UInt8])]) {
        for (id, key) in records where keys[id] == nil {
            keys[id] = key
            order.append(id)
        }
    }

    /// Ids of all root keys, in creation order.
    public var rootKeyIDs: [[UInt8]] { lock.withLock { order } }

    public func rootKey(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        if let key = lock.withLock({ keys[id] }) { return key }
        // Another replica may have created it since: look in the vault again, at most once a second.
        try lock.withLock { () throws(MacaroonError) in
            let now = Self.monotonicSeconds()
            guard keys[id] == nil, now != lastReload else { return }
            lastReload = now
            if let data = try vault.load() { merge(try RootKeyFile.decode(data, password: password).keys) }
        }
        guard let key = lock.withLock({ keys[id] }) else { throw .rootKeyNotFound(id: id) }
        return key
    }

    public func rootKeyCreatingIfNeeded(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        try lock.withLock { () throws(MacaroonError) -> [UInt8] in
            if let key = keys[id] { return key }
            if id.isEmpty { throw MacaroonError("missing root key ID") }
            try persistLocked(adding: id)
            return keys[id]!
        }
    }

    /// Writes the vault: what it holds, merged with our keys, plus a new random key for `id`
    /// (and for `"0"`) unless the vault already has one (another replica made it first: its key
    /// wins, so every replica uses the same key). Our map changes only after the write succeeded.
    private func persistLocked(adding id: [UInt8]?) throws(MacaroonError) {
        var merged: [([UInt8], [UInt8])] = []
        try vault.update { (current: [UInt8]?) throws(MacaroonError) -> [UInt8] in
            var known: [[UInt8]: [UInt8]] = [:]
            merged = []
            if let current {
                for (i, k) in try RootKeyFile.decode(current, password: password).keys where known[i] == nil {
                    known[i] = k
                    merged.append((i, k))
                }
            }
            for i in order where known[i] == nil {
                known[i] = keys[i]!
                merged.append((i, keys[i]!))
            }
            for i in [RootKeyID.default] + (id.map { [$0] } ?? []) where known[i] == nil {
                let k = SecureRandom.bytes(32)
                known[i] = k
                merged.append((i, k))
            }
            return RootKeyFile.encode(merged, password: password, iterations: kdfIterations)
        }
        merge(merged)
    }

    private static func monotonicSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec)
    }

    // MARK: Baking

    /// A new LND macaroon (location `lnd`, Version3 identifier with a random nonce, canonical
    /// ops, no caveats) from root key `rootKeyID`, created if missing.
    public func bake(permissions: [MacaroonPermission], rootKeyID: [UInt8] = RootKeyID.default) throws(MacaroonError) -> Macaroon {
        if permissions.isEmpty { throw MacaroonError("cannot mint a macaroon associated with no operations") }
        let key = try rootKeyCreatingIfNeeded(id: rootKeyID)
        let id = MacaroonIdentifier.new(storageID: rootKeyID, permissions: permissions)
        return MacaroonSigner.mint(rootKey: key, identifier: id.encoded(), location: "lnd")
    }
}
