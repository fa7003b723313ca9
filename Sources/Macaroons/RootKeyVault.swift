/// Where a `MacaroonStore` keeps its root key file (the `RootKeyFile` bytes, sealed or plain):
/// a file in the datadir (`FileRootKeyVault`) or a row in PostgreSQL shared by every replica
/// (`PostgresRootKeyVault`).
///
/// Contract: `update` is atomic and exclusive against every other `update` of the same vault,
/// also from other processes: it reads the current bytes, passes them to `change`, and stores what
/// `change` returns before returning (durably). Vaults never log or describe the bytes.
public protocol RootKeyVault: Sendable {
    /// The stored bytes, or nil when nothing was stored yet.
    func load() throws(MacaroonError) -> [UInt8]?
    func update(_ change: ([UInt8]?) throws(MacaroonError) -> [UInt8]) throws(MacaroonError)
    /// Where the keys live, for descriptions and errors (a path or "postgres").
    var location: String { get }
}

/// The root key file `path` (mode 0600), replaced atomically (temp file, fsync, rename). Exclusive
/// within the process through the store's lock; one process owns a datadir.
public struct FileRootKeyVault: RootKeyVault {
    public let path: String
    public init(path: String) { self.path = path }
    public var location: String { path }

    public func load() throws(MacaroonError) -> [UInt8]? {
        guard FileIO.exists(path) else { return nil }
        return try FileIO.read(path, limit: RootKeyFile.maximumSize)
    }

    public func update(_ change: ([UInt8]?) throws(MacaroonError) -> [UInt8]) throws(MacaroonError) {
        let data = try change(try load())
        try FileIO.replaceAtomically(path, data, mode: 0o600)
    }

    /// True when the file exists with a mode other than 0600 (the store rewrites it).
    var needsModeFix: Bool { FileIO.exists(path) && FileIO.mode(path) != 0o600 }
}
