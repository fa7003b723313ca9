import JSON
import RPCCore

/// How LND's REST gateway (grpc-gateway v2) shows a gRPC status over HTTP.
enum GatewayStatus {
    /// grpc-gateway's `HTTPStatusFromCode`.
    static func httpStatus(_ code: GRPCStatus.Code) -> Int {
        switch code {
        case .ok: return 200
        case .cancelled: return 499
        case .unknown: return 500
        case .invalidArgument: return 400
        case .deadlineExceeded: return 504
        case .notFound: return 404
        case .alreadyExists: return 409
        case .permissionDenied: return 403
        case .unauthenticated: return 401
        case .resourceExhausted: return 429
        case .failedPrecondition: return 400
        case .aborted: return 409
        case .outOfRange: return 400
        case .unimplemented: return 501
        case .internalError: return 500
        case .unavailable: return 503
        case .dataLoss: return 500
        }
    }

    /// The status as JSON: `{"code":N,"message":"...","details":[]}`.
    static func json(_ status: GRPCStatus) -> JSONValue {
        .object([JSONMember("code", .number(String(status.code.rawValue))), JSONMember("message", .string(status.message)),
                 JSONMember("details", .array([]))])
    }

    /// A unary call's (or a request's) error body: the bare status object.
    static func unaryBody(_ status: GRPCStatus) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + status.message.utf8.count)
        w.write(json(status))
        return w.bytes
    }

    /// A stream's error: `{"error":{...}}` (one NDJSON line without its newline; one WebSocket message).
    static func streamError(_ status: GRPCStatus) -> [UInt8] {
        var w = JSONWriter(capacity: 80 + status.message.utf8.count)
        w.write(.object([JSONMember("error", json(status))]))
        return w.bytes
    }
}
