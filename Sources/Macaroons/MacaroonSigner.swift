import Crypto

/// The HMAC-SHA256 signature chain of go-macaroon v2 (what LND verifies):
///
///     k    = HMAC-SHA256(key: "macaroons-key-generator", msg: rootKey)
///     sig0 = HMAC-SHA256(k, identifier)
///     first-party caveat c:  sig = HMAC-SHA256(sig, c.identifier)
///     third-party caveat c:  sig = HMAC-SHA256(sig, HMAC-SHA256(sig, c.vid) ‖ HMAC-SHA256(sig, c.identifier))
///
/// Contract: signatures are compared with ``ConstantTime/equals(_:_:)``; root keys and
/// signatures never appear in errors or descriptions.
public enum MacaroonSigner {
    static let keyGenerator = Array("macaroons-key-generator".utf8)

    /// go-macaroon `MakeKey`: the HMAC key actually used for `sig0`.
    public static func derivedKey(rootKey: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticate(key: keyGenerator, message: rootKey)
    }

    /// A new macaroon over `identifier`, signed from `rootKey`, without caveats.
    public static func mint(rootKey: [UInt8], identifier: [UInt8], location: String = "lnd") -> Macaroon {
        let sig = HMACSHA256.authenticate(key: derivedKey(rootKey: rootKey), message: identifier)
        return Macaroon(version: .v2, location: Array(location.utf8), identifier: identifier, signature: sig)
    }

    /// Appends a first-party caveat and advances the signature (go-macaroon `AddFirstPartyCaveat`).
    /// Anyone holding a macaroon can do this; it only ever narrows what the macaroon allows.
    public static func addFirstPartyCaveat(_ condition: String, to macaroon: inout Macaroon) {
        let id = Array(condition.utf8)
        macaroon.caveats.append(MacaroonCaveat(identifier: id))
        macaroon.signature = HMACSHA256.authenticate(key: macaroon.signature, message: id)
    }

    /// One step of the chain for `caveat` from signature `sig`.
    static func chain(_ sig: [UInt8], _ caveat: MacaroonCaveat) -> [UInt8] {
        if caveat.verificationID.isEmpty {
            return HMACSHA256.authenticate(key: sig, message: caveat.identifier)
        }
        let a = HMACSHA256.authenticate(key: sig, message: caveat.verificationID)
        let b = HMACSHA256.authenticate(key: sig, message: caveat.identifier)
        return HMACSHA256.authenticate(key: sig, message: a + b)
    }

    /// The signature the chain yields for `macaroon`'s identifier and caveats under `rootKey`.
    public static func expectedSignature(of macaroon: Macaroon, rootKey: [UInt8]) -> [UInt8] {
        var sig = HMACSHA256.authenticate(key: derivedKey(rootKey: rootKey), message: macaroon.identifier)
        for cav in macaroon.caveats { sig = chain(sig, cav) }
        return sig
    }

    /// go-macaroon `VerifySignature` with no discharge macaroons (LND never passes any):
    /// returns the first-party conditions (raw bytes) in order, or the bakery
    /// `VerificationError` text.
    /// A third-party caveat can never be discharged here and fails as go-macaroon does when
    /// the discharge is missing.
    public static func verifySignature(of macaroon: Macaroon, rootKey: [UInt8]) throws(MacaroonError) -> [[UInt8]] {
        var sig = HMACSHA256.authenticate(key: derivedKey(rootKey: rootKey), message: macaroon.identifier)
        var conditions: [[UInt8]] = []
        conditions.reserveCapacity(macaroon.caveats.count)
        for cav in macaroon.caveats {
            if cav.isThirdParty {
                throw MacaroonError("verification failed: cannot find discharge macaroon for caveat "
                                    + Hex.encode(cav.identifier))
            }
            conditions.append(cav.identifier)
            sig = chain(sig, cav)
        }
        guard ConstantTime.equals(sig, macaroon.signature) else { throw .signatureMismatch }
        return conditions
    }
}
