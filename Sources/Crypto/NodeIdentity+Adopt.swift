extension NodeIdentity {
    /// Loads the key at `path`, or stores `key` there (mode 0600, atomically) when no file exists.
    /// For identities decided elsewhere (the simulated network derives its nodes' keys from its
    /// seed): the first start records the key, later starts read it back.
    public static func loadOrAdopt(path: String, key: PrivateKey) throws(Error) -> NodeIdentity {
        if let existing = try load(path: path) { return existing }
        try writeKey(key, to: path)
        return NodeIdentity(privateKey: key)
    }
}
