import Crypto

/// The daemon's root key store: 32-byte random root keys by id, persisted in
/// `DATADIR/data/chain/bitcoin/<network>/macaroons.rootkeys` (mode 0600, see ``RootKeyFile``),
/// optionally sealed with a password. Id `"0"` is created on first open.
///
/// Contract: thread-safe; a key never changes once created; every change is written
/// atomically (temp file, fsync, rename) before it is used, so a macaroon minted from a key
/// survives a crash. Root keys appear in no description or error.
public final class MacaroonStore: RootKeyStore, @unchecked Sendable, CustomStringConvertible, CustomReflectable {
    public static let rootKeyFileName = "macaroons.rootkeys"
    /// PBKDF2 iterations for a sealed store (≈0.1–0.3 s on one core).
    public static let defaultKDFIterations = 200_000

    /// `DATADIR/data/chain/bitcoin/<network>` (LND's network directory).
    public let networkDirectory: String
    public var rootKeyPath: String { networkDirectory + "/" + Self.rootKeyFileName }

    private let lock = Lock()
    private var keys: [[UInt8]: [UInt8]] = [:]
    private var order: [[UInt8]] = []
    private let password: [UInt8]?
    private let kdfIterations: Int

    public var description: String {
        "MacaroonStore(\(rootKeyPath), \(lock.withLock { keys.count }) root keys, \(password == nil ? "plain" : "sealed"))"
    }

    /// Reflection shows no key material.
    public var customMirror: Mirror { Mirror(self, children: ["path": rootKeyPath], displayStyle: .class) }

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
        if let password, password.isEmpty { throw MacaroonError("password must not be empty") }
        let dir = networkDirectory(datadir: datadir, network: network)
        try FileIO.makeDirectories(dir)
        let store = MacaroonStore(directory: dir, password: password, kdfIterations: max(1, kdfIterations))
        let path = store.rootKeyPath
        var needsWrite = true
        if FileIO.exists(path) {
            let data = try FileIO.read(path, limit: RootKeyFile.maximumSize)
            let (records, sealed) = try RootKeyFile.decode(data, password: password)
            for (id, key) in records where store.keys[id] == nil {
                store.keys[id] = key
                store.order.append(id)
            }
            needsWrite = sealed != (password != nil) || FileIO.mode(path) != 0o600
        }
        if store.keys[RootKeyID.default] == nil {
            store.keys[RootKeyID.default] = SecureRandom.bytes(32)
            store.order.append(RootKeyID.default)
            needsWrite = true
        }
        if needsWrite { try store.persist() }
        return store
    }

    private init(directory: String, password: [UInt8]?, kdfIterations: Int) {
        networkDirectory = directory
        self.password = password
        self.kdfIterations = kdfIterations
    }

    /// Ids of all root keys, in creation order.
    public var rootKeyIDs: [[UInt8]] { lock.withLock { order } }

    public func rootKey(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        guard let key = lock.withLock({ keys[id] }) else { throw .rootKeyNotFound(id: id) }
        return key
    }

    public func rootKeyCreatingIfNeeded(id: [UInt8]) throws(MacaroonError) -> [UInt8] {
        try lock.withLock { () throws(MacaroonError) -> [UInt8] in
            if let key = keys[id] { return key }
            if id.isEmpty { throw MacaroonError("missing root key ID") }
            let key = SecureRandom.bytes(32)
            keys[id] = key
            order.append(id)
            do throws(MacaroonError) {
                try persistLocked()
            } catch {
                keys[id] = nil
                order.removeLast()
                throw error
            }
            return key
        }
    }

    private func persist() throws(MacaroonError) {
        try lock.withLock { () throws(MacaroonError) in try persistLocked() }
    }

    private func persistLocked() throws(MacaroonError) {
        let data = RootKeyFile.encode(order.map { ($0, keys[$0]!) }, password: password, iterations: kdfIterations)
        try FileIO.replaceAtomically(rootKeyPath, data, mode: 0o600)
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
