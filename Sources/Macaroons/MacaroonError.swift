/// An authentication or macaroon-format failure, carrying LND's exact error text.
///
/// LND returns every macaroon failure as a plain Go error, so gRPC reports status code
/// UNKNOWN (2) with `message` as the status message (REST: HTTP 500). The one exception is
/// `CheckMacaroonPermissions`, which wraps the same text in INVALID_ARGUMENT (3); see
/// ``MacaroonService/checkMacaroonPermissions(macaroon:permissions:fullMethod:peerIP:)``.
///
/// The message never contains key material: at most it quotes caveat conditions, root key ids
/// and single offending bytes, exactly as LND does.
public struct MacaroonError: Error, Equatable, Sendable, CustomStringConvertible {
    /// LND's error text, e.g. `permission denied`.
    public let message: String
    /// The gRPC status code to send: UNKNOWN (2) for every authentication failure, as LND does.
    public let grpcStatusCode: Int

    public init(_ message: String, grpcStatusCode: Int = 2) {
        self.message = message
        self.grpcStatusCode = grpcStatusCode
    }

    public var description: String { message }

    // MARK: Texts that LND produces (macaroons/service.go, bakery, go-macaroon, Go stdlib)

    /// `RawMacaroonFromContext`: zero or several `macaroon` metadata values.
    public static func expectedOneMacaroon(got count: Int) -> MacaroonError {
        MacaroonError("expected 1 macaroon, got \(count)")
    }
    /// The valid macaroon does not grant the operation (bakery `ErrPermissionDenied`).
    public static let permissionDenied = MacaroonError("permission denied")
    /// `ErrInvalidID`: empty identifier, or its first byte is not bakery version 3.
    public static let invalidID = MacaroonError("invalid ID")
    /// Wrong root key (or tampered macaroon).
    public static let signatureMismatch =
        MacaroonError("verification failed: signature mismatch after caveat verification")
    /// The interceptor has no permission entry for the method.
    public static func unknownPermissions(method: String) -> MacaroonError {
        MacaroonError("\(method): unknown permissions required for method")
    }
    /// BakeMacaroon and friends when the daemon runs with `--no-macaroons`.
    public static let macaroonsDisabled =
        MacaroonError("macaroon authentication disabled, remove --no-macaroons flag to enable")
    /// The root key store is sealed and not yet unlocked.
    public static let storeLocked =
        MacaroonError("cannot retrieve macaroon: cannot get macaroon: macaroon store is locked")
    /// The identifier names a root key id the store does not have.
    public static func rootKeyNotFound(id: [UInt8]) -> MacaroonError {
        MacaroonError("cannot retrieve macaroon: cannot get macaroon: root key with id \(String(decoding: id, as: UTF8.self)) doesn't exist")
    }
}
