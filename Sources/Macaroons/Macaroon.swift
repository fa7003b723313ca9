import Crypto

/// A macaroon (Birgisson et al., "Macaroons: Cookies with Contextual Caveats"), as go-macaroon
/// v2 and libmacaroons represent it: a location hint, an identifier, caveats and a 32-byte
/// HMAC-SHA256 signature chained over the identifier and each caveat.
///
/// Contract:
/// - Values are plain data; nothing here checks the signature. Use ``MacaroonSigner`` to mint
///   and verify, ``MacaroonChecker`` to authenticate an RPC.
/// - `description`/`debugDescription` never print the signature (it is a bearer credential:
///   anyone holding identifier, caveats and signature can use the macaroon).
public struct Macaroon: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Serialization format version. LND only accepts ``v2``.
    public enum Version: Int, Sendable, Equatable {
        case v1 = 1
        case v2 = 2
    }

    public var version: Version
    /// Location hint (not covered by the signature). LND uses `lnd`.
    public var location: [UInt8]
    /// The identifier; for LND the bakery Version3 id (see ``MacaroonIdentifier``).
    public var identifier: [UInt8]
    public var caveats: [MacaroonCaveat]
    /// The 32-byte chained HMAC-SHA256 signature.
    public var signature: [UInt8]

    public init(version: Version = .v2, location: [UInt8], identifier: [UInt8],
                caveats: [MacaroonCaveat] = [], signature: [UInt8]) {
        self.version = version
        self.location = location
        self.identifier = identifier
        self.caveats = caveats
        self.signature = signature
    }

    /// The conditions of the first-party caveats, in order (what the caveat checkers see).
    public var firstPartyConditions: [String] {
        caveats.filter { !$0.isThirdParty }.map { String(decoding: $0.identifier, as: UTF8.self) }
    }

    public var description: String {
        "Macaroon(\(version), location: \"\(String(decoding: location, as: UTF8.self))\", "
            + "identifier: \(identifier.count) bytes, caveats: \(caveats.count), signature: <redacted>)"
    }
    public var debugDescription: String { description }
    /// `dump()` and debuggers see the fields but not the signature.
    public var customMirror: Mirror {
        Mirror(self, children: ["version": version, "location": String(decoding: location, as: UTF8.self),
                                "identifier": Hex.encode(identifier), "caveats": caveats,
                                "signature": "<redacted>"])
    }
}

/// One caveat. First-party caveats carry only an identifier (the condition text); third-party
/// caveats also carry a verification id (`vid`) and usually a location (`cl`).
public struct MacaroonCaveat: Sendable, Equatable, CustomStringConvertible {
    public var identifier: [UInt8]
    public var verificationID: [UInt8]
    public var location: [UInt8]

    public init(identifier: [UInt8], verificationID: [UInt8] = [], location: [UInt8] = []) {
        self.identifier = identifier
        self.verificationID = verificationID
        self.location = location
    }

    /// A first-party caveat with condition text `condition`.
    public init(condition: String) {
        self.init(identifier: Array(condition.utf8))
    }

    /// go-macaroon: a caveat is third-party exactly when its verification id is non-empty.
    public var isThirdParty: Bool { !verificationID.isEmpty }

    public var description: String {
        isThirdParty ? "third-party caveat (\(identifier.count)-byte id)"
                     : "caveat \"\(String(decoding: identifier, as: UTF8.self))\""
    }
}
