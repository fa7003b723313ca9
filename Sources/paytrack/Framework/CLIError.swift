import GRPC
import RPCCore

/// Why a command failed. Every failure prints one line to stderr, prefixed `[paytrack] ` as
/// lncli prefixes `[lncli] `, and the process exits with status 1.
///
/// - `usage`: bad command line (unknown flag, missing argument, malformed value).
/// - `rpc`: the server (or the transport) ended the call with a non-OK status; printed as Go's
///   grpc status error: `rpc error: code = NotFound desc = payment isn't initiated`.
/// - `failure`: anything else (unreadable file, undecodable response).
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case rpc(GRPCStatus)
    case failure(String)

    var description: String {
        switch self {
        case .usage(let m): return m
        case .failure(let m): return m
        case .rpc(let s): return "rpc error: code = \(CLIError.goCodeName(s.code)) desc = \(s.message)"
        }
    }

    /// The name grpc-go's `codes.Code.String()` gives each status code.
    static func goCodeName(_ code: GRPCStatus.Code) -> String {
        switch code {
        case .ok: return "OK"
        case .cancelled: return "Canceled"
        case .unknown: return "Unknown"
        case .invalidArgument: return "InvalidArgument"
        case .deadlineExceeded: return "DeadlineExceeded"
        case .notFound: return "NotFound"
        case .alreadyExists: return "AlreadyExists"
        case .permissionDenied: return "PermissionDenied"
        case .resourceExhausted: return "ResourceExhausted"
        case .failedPrecondition: return "FailedPrecondition"
        case .aborted: return "Aborted"
        case .outOfRange: return "OutOfRange"
        case .unimplemented: return "Unimplemented"
        case .internalError: return "Internal"
        case .unavailable: return "Unavailable"
        case .dataLoss: return "DataLoss"
        case .unauthenticated: return "Unauthenticated"
        }
    }
}
