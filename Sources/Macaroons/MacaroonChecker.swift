/// Authenticates RPCs the way LND's macaroon interceptor does (`rpcperms.InterceptorChain
/// .checkMacaroon` → `macaroons.Service.ValidateMacaroon` → `CheckMacAuth`), with LND's error
/// texts, all sent as gRPC UNKNOWN.
///
/// Order of checks, as LND:
/// 1. disabled (`--no-macaroons`) → allow; method in ``RequiredPermissions/openMethods`` → allow;
/// 2. method not in the permission table → `<method>: unknown permissions required for method`;
/// 3. metadata `macaroon` must have exactly one value → `expected 1 macaroon, got N`;
/// 4. hex decode (either case) → Go `encoding/hex` errors;
/// 5. binary unmarshal → go-macaroon errors; version must be v2 → `unknown macaroon version: v1`;
///    identifier non-empty and starting with 3 → `invalid ID`;
/// 6. identifier protobuf → `cannot retrieve macaroon: …`; root key by storage id →
///    `cannot retrieve macaroon: cannot get macaroon: root key with id X doesn't exist`;
/// 7. signature chain → `verification failed: signature mismatch after caveat verification`;
/// 8. every first-party caveat, in order → `caveat "…" not satisfied: …`;
/// 9. the required permissions, else `uri:<full method>` → `permission denied`.
///
/// The lead's gRPC interceptor calls ``checkRequest(macaroonValues:fullMethod:peerIP:cache:now:)``
/// with the metadata values of key `macaroon`, the full method and the connection's peer IP,
/// passing the connection's ``MacaroonVerificationCache``.
public final class MacaroonChecker: Sendable {
    /// False when the daemon runs with `--no-macaroons`: every call is allowed.
    public let isEnabled: Bool
    let rootKeys: (any RootKeyStore)?
    let table: [String: RequiredSet]
    /// The permission table this checker enforces (ListPermissions shows it).
    public let requiredPermissions: [String: [MacaroonPermission]]
    public let openMethods: Set<String>
    public let customCaveatNames: Set<String>

    /// An enforcing checker over `rootKeys`.
    public init(rootKeys: any RootKeyStore,
                requiredPermissions: [String: [MacaroonPermission]] = RequiredPermissions.requiredPermissions,
                openMethods: Set<String> = RequiredPermissions.openMethods,
                customCaveatNames: Set<String> = []) {
        isEnabled = true
        self.rootKeys = rootKeys
        self.requiredPermissions = requiredPermissions
        table = requiredPermissions.mapValues(RequiredSet.init)
        self.openMethods = openMethods
        self.customCaveatNames = customCaveatNames
    }

    private init(disabledWith requiredPermissions: [String: [MacaroonPermission]]) {
        isEnabled = false
        rootKeys = nil
        self.requiredPermissions = requiredPermissions
        table = [:]
        openMethods = []
        customCaveatNames = []
    }

    /// The `--no-macaroons` checker: allows everything, bakes nothing.
    public static func disabled(requiredPermissions: [String: [MacaroonPermission]] = RequiredPermissions.requiredPermissions) -> MacaroonChecker {
        MacaroonChecker(disabledWith: requiredPermissions)
    }

    // MARK: Interceptor entry point

    /// Authenticates one call. `macaroonValues` are all metadata values of key `macaroon`;
    /// `peerIP` the connection's remote IP text (`"127.0.0.1"`, `"::1"`; nil when the
    /// transport has none). With a `cache` bound to this connection a macaroon verified before
    /// costs one comparison, one clock read and one table lookup.
    public func checkRequest(macaroonValues: [String], fullMethod: String, peerIP: String?,
                             cache: MacaroonVerificationCache? = nil,
                             now: MacaroonTime = .now()) throws(MacaroonError) {
        guard isEnabled, !openMethods.contains(fullMethod) else { return }
        guard let required = table[fullMethod] else { throw .unknownPermissions(method: fullMethod) }
        guard macaroonValues.count == 1 else { throw .expectedOneMacaroon(got: macaroonValues.count) }
        let value = macaroonValues[0]
        if let cache, let granted = cache.lookup(value, now: now) {
            if granted.allows(required, fullMethod: fullMethod) { return }
            throw .permissionDenied
        }
        let bytes = try GoHex.decode(value)
        let peer = cache?.peer ?? MacaroonVerificationCache.Peer(peerIP)
        let verified = try verify(macaroon: bytes, context: caveatContext(now: now, peer: peer))
        cache?.store(value, verified)
        guard verified.granted.allows(required, fullMethod: fullMethod) else { throw .permissionDenied }
    }

    /// ``checkRequest(macaroonValues:fullMethod:peerIP:cache:now:)`` for a transport that hands
    /// over the raw metadata: `macaroonCount` values of key `macaroon`, the first one's bytes in
    /// `macaroon`. Same order of checks and errors; a macaroon already verified on this connection
    /// (`cache`) costs one constant-time comparison of the header bytes, one clock read and the
    /// per-connection memo of the method's rule: no String, no hex decoding, no table hashing.
    public func checkRequest(macaroonCount: Int, macaroon: UnsafeRawBufferPointer, fullMethod: String,
                             cache: MacaroonVerificationCache, now: MacaroonTime = .now()) throws(MacaroonError) {
        guard isEnabled else { return }
        let rule = cache.rule(for: fullMethod) { m in
            if openMethods.contains(m) { return .open }
            guard let r = table[m] else { return .unknown }
            return .required(r)
        }
        let required: RequiredSet
        switch rule {
        case .open: return
        case .unknown: throw .unknownPermissions(method: fullMethod)
        case .required(let r): required = r
        }
        guard macaroonCount == 1 else { throw .expectedOneMacaroon(got: macaroonCount) }
        if let granted = cache.lookup(bytes: macaroon, now: now) {
            if granted.allows(required, fullMethod: fullMethod) { return }
            throw .permissionDenied
        }
        try checkRequest(macaroonValues: [String(decoding: macaroon, as: UTF8.self)], fullMethod: fullMethod,
                         peerIP: nil, cache: cache, now: now)
    }

    /// LND `CheckMacAuth` for already-decoded bytes (CheckMacaroonPermissions uses it).
    /// Unlike LND, an empty `requiredPermissions` does not skip signature and caveat checks.
    @discardableResult
    public func checkMacAuth(macaroon bytes: [UInt8], requiredPermissions: [MacaroonPermission],
                             fullMethod: String, peerIP: String?,
                             now: MacaroonTime = .now()) throws(MacaroonError) -> VerifiedMacaroon {
        let verified = try verify(macaroon: bytes,
                                  context: caveatContext(now: now, peer: MacaroonVerificationCache.Peer(peerIP)))
        guard verified.granted.allows(RequiredSet(requiredPermissions), fullMethod: fullMethod) else {
            throw .permissionDenied
        }
        return verified
    }

    func caveatContext(now: MacaroonTime, peer: MacaroonVerificationCache.Peer) -> CaveatContext {
        CaveatContext(now: now, peerIP: peer.address, hasPeer: peer.known, customCaveatNames: customCaveatNames)
    }

    // MARK: Verification (steps 5–8)

    /// Parses, checks version and id, finds the root key, verifies the signature chain and
    /// every first-party caveat. Does not look at permissions.
    public func verify(macaroon bytes: [UInt8], context: CaveatContext) throws(MacaroonError) -> VerifiedMacaroon {
        guard let rootKeys else { throw .macaroonsDisabled }
        let mac = try Macaroon(binary: bytes)
        guard mac.version == .v2 else { throw MacaroonError("unknown macaroon version: v\(mac.version.rawValue)") }
        guard let v = mac.identifier.first, v == MacaroonIdentifier.version else { throw .invalidID }
        let id: MacaroonIdentifier
        do {
            id = try MacaroonIdentifier.decode(protobuf: mac.identifier[1...])
        } catch {
            throw MacaroonError("cannot retrieve macaroon: " + error.message)
        }
        let rootKey = try rootKeys.rootKey(id: id.storageID)
        let conditions = try MacaroonSigner.verifySignature(of: mac, rootKey: rootKey)
        let outcome = try FirstPartyCaveats.check(conditions, context: context)
        return VerifiedMacaroon(identifier: id, granted: GrantedPermissions(id.permissions), expiry: outcome.expiry)
    }
}

/// A macaroon whose signature and caveats held at verification time.
public struct VerifiedMacaroon: Sendable, Equatable {
    public let identifier: MacaroonIdentifier
    public let granted: GrantedPermissions
    /// Earliest `time-before`; the verification stops holding at this instant.
    public let expiry: MacaroonTime?
}
