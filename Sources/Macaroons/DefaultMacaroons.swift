/// LND's default macaroon files (`genDefaultMacaroons` and routerrpc's `router.macaroon`):
/// minted from root key `"0"` without caveats, written to the network directory only when
/// missing (an existing file is never overwritten, even if its content differs).
public enum DefaultMacaroons {
    public struct File: Sendable, Equatable {
        public let name: String
        public let permissions: [MacaroonPermission]
        public let mode: UInt32
    }

    /// `admin.macaroon` 0640, `readonly.macaroon` / `invoice.macaroon` / `router.macaroon` 0644.
    public static let files: [File] = [
        File(name: "admin.macaroon", permissions: MacaroonPermission.admin, mode: 0o640),
        File(name: "readonly.macaroon", permissions: MacaroonPermission.readOnly, mode: 0o644),
        File(name: "invoice.macaroon", permissions: MacaroonPermission.invoice, mode: 0o644),
        File(name: "router.macaroon", permissions: MacaroonPermission.router, mode: 0o644),
    ]

    /// Writes each missing default macaroon into `store.networkDirectory` (or `directory`).
    /// Returns the names written (empty when all existed).
    @discardableResult
    public static func writeDefaultMacaroons(store: MacaroonStore, directory: String? = nil) throws(MacaroonError) -> [String] {
        let dir = directory ?? store.networkDirectory
        try FileIO.makeDirectories(dir)
        var written: [String] = []
        for f in files {
            let path = dir + "/" + f.name
            if FileIO.exists(path) { continue }
            let mac = try store.bake(permissions: f.permissions, rootKeyID: RootKeyID.default)
            if try FileIO.createExclusive(path, mac.serializedV2(), mode: f.mode) { written.append(f.name) }
        }
        return written
    }
}

extension MacaroonStore {
    /// ``DefaultMacaroons/writeDefaultMacaroons(store:directory:)`` into this store's directory.
    @discardableResult
    public func writeDefaultMacaroons() throws(MacaroonError) -> [String] {
        try DefaultMacaroons.writeDefaultMacaroons(store: self)
    }
}
