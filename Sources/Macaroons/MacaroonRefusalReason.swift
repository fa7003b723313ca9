/// Why the macaroon check refused a call, as a closed set of reasons (the `reason` label of
/// `paytrack_macaroon_refusals_total`): LND's error texts are free text (they quote caveats and
/// ids), so they are classified here by the fixed part of each text ``MacaroonChecker`` produces.
public enum MacaroonRefusalReason: String, CaseIterable, Sendable {
    /// `expected 1 macaroon, got 0`: the call carried no macaroon.
    case missing
    /// `expected 1 macaroon, got N` with N > 1.
    case multiple
    /// Hex, binary, version, identifier or caveat syntax errors: the bytes are not a usable macaroon.
    case malformed
    /// `cannot retrieve macaroon: ...`: its root key id is unknown (or the store is locked).
    case unknownRootKey = "unknown_root_key"
    /// `verification failed: ...`: wrong root key or a tampered macaroon.
    case signatureMismatch = "signature_mismatch"
    /// `caveat "..." not satisfied: ...`: expired (`time-before`), other IP, unknown custom caveat.
    case caveatNotSatisfied = "caveat_not_satisfied"
    /// `permission denied`: valid, but it does not grant the method.
    case permissionDenied = "permission_denied"
    /// `<method>: unknown permissions required for method`.
    case unknownMethod = "unknown_method"

    /// The reason of a refusal `error` of ``MacaroonChecker``.
    public init(_ error: MacaroonError) {
        let m = error.message
        if m.hasPrefix("expected 1 macaroon, got ") { self = m.hasSuffix(" got 0") ? .missing : .multiple }
        else if m == MacaroonError.permissionDenied.message { self = .permissionDenied }
        else if m.hasPrefix("verification failed:") { self = .signatureMismatch }
        else if m.hasPrefix("cannot retrieve macaroon:") && m.contains("cannot get macaroon:") { self = .unknownRootKey }
        else if m.hasPrefix("caveat ") && m.contains(" not satisfied: ") { self = .caveatNotSatisfied }
        else if m.hasSuffix(": unknown permissions required for method") { self = .unknownMethod }
        else { self = .malformed }
    }
}
