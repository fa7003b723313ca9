/// An error from PostgreSQL or libpq.
///
/// `kind` says what a caller can do about it: `.connection` and `.timeout` mean the session is gone
/// (the connection is closed; the next call reconnects), `.server` is an error the server reported
/// for one statement (its SQLSTATE in `sqlState`, e.g. `23505` unique_violation) on a session
/// that is still usable.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No session: connecting failed, or the server or network went away.
        case connection
        /// The server did not answer within the connection's timeout; the session was closed.
        case timeout
        /// The server rejected a statement (`sqlState` says why); the session is still usable.
        case server
    }

    public let kind: Kind
    /// The five-character SQLSTATE of a `.server` error (PostgreSQL's "Appendix A" codes).
    public let sqlState: String?
    public let message: String

    public init(kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    /// True when the session is gone and the statement's outcome is unknown to the caller.
    public var isConnectionLost: Bool { kind != .server }

    /// SQLSTATE class 40 (transaction rollback: serialization failure, deadlock): retrying the
    /// whole transaction may succeed.
    public var isTransient: Bool { sqlState?.hasPrefix("40") ?? false }

    public var description: String {
        switch kind {
        case .connection: return "postgres: connection: \(message)"
        case .timeout: return "postgres: timeout: \(message)"
        case .server: return "postgres error \(sqlState ?? "?????"): \(message)"
        }
    }
}
