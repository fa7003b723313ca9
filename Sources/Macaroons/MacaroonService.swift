import Crypto

/// The domain side of the macaroon RPCs (`BakeMacaroon`, `ListPermissions`,
/// `CheckMacaroonPermissions`) with LND's semantics and error texts (rpcserver.go). Services
/// converts messages and maps errors: every error here is gRPC UNKNOWN except
/// ``checkMacaroonPermissions(macaroon:permissions:fullMethod:peerIP:)``'s, which LND sends as
/// INVALID_ARGUMENT (the error's ``MacaroonError/grpcStatusCode`` says which).
public final class MacaroonService: Sendable {
    public let checker: MacaroonChecker
    let store: (any RootKeyStore)?

    /// `store` nil (or a disabled checker) means `--no-macaroons`.
    public init(checker: MacaroonChecker, store: (any RootKeyStore)?) {
        self.checker = checker
        self.store = checker.isEnabled ? store : nil
    }

    static var helpMessage: String {
        "supported actions are [\(MacaroonPermission.validActions.joined(separator: " "))], "
            + "supported entities are [\(MacaroonPermission.validEntities.joined(separator: " "))]"
    }

    /// LND BakeMacaroon: validates (unless `allowExternalPermissions`), derives the root key id
    /// as the decimal text of `rootKeyID` (creating that root key on demand) and returns the
    /// hex of the new macaroon's binary encoding.
    public func bakeMacaroon(permissions: [MacaroonPermission], rootKeyID: UInt64,
                             allowExternalPermissions: Bool) throws(MacaroonError) -> String {
        guard let store else { throw .macaroonsDisabled }
        if permissions.isEmpty {
            throw MacaroonError("permission list cannot be empty. specify at least one action/entity pair. \(Self.helpMessage)")
        }
        if !allowExternalPermissions {
            for op in permissions {
                guard MacaroonPermission.validEntities.contains(op.entity) else {
                    throw MacaroonError("invalid permission entity. \(Self.helpMessage)")
                }
                if op.entity == MacaroonPermission.uriEntity {
                    guard checker.requiredPermissions[op.action] != nil else {
                        throw MacaroonError("invalid permission action, must be an existing URI in the format /package.Service/MethodName")
                    }
                } else if !MacaroonPermission.validActions.contains(op.action) {
                    throw MacaroonError("invalid permission action. \(Self.helpMessage)")
                }
            }
        }
        let id = RootKeyID.from(rootKeyID)
        let key = try store.rootKeyCreatingIfNeeded(id: id)
        let identifier = MacaroonIdentifier.new(storageID: id, permissions: permissions)
        return Hex.encode(MacaroonSigner.mint(rootKey: key, identifier: identifier.encoded()).serializedV2())
    }

    /// LND ListPermissions: every method with its required permissions, sorted by method.
    public func listPermissions() -> [(method: String, permissions: [MacaroonPermission])] {
        checker.requiredPermissions.keys.sorted().map { ($0, checker.requiredPermissions[$0]!) }
    }

    /// LND CheckMacaroonPermissions: `true`, or the `CheckMacAuth` error with gRPC code
    /// INVALID_ARGUMENT. `peerIP` is the caller's (IP caveats are checked against it).
    public func checkMacaroonPermissions(macaroon: [UInt8], permissions: [MacaroonPermission],
                                         fullMethod: String, peerIP: String?) throws(MacaroonError) -> Bool {
        guard checker.isEnabled else { throw MacaroonError(MacaroonError.macaroonsDisabled.message, grpcStatusCode: 3) }
        do {
            try checker.checkMacAuth(macaroon: macaroon, requiredPermissions: permissions,
                                     fullMethod: fullMethod, peerIP: peerIP)
        } catch {
            throw MacaroonError(error.message, grpcStatusCode: 3)
        }
        return true
    }
}
