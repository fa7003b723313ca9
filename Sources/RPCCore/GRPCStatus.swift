/// The status a call ends with: a gRPC code plus message. Every face speaks it: gRPC carries it in
/// `grpc-status` / `grpc-message` trailers, LND's REST gateway as `{"code":N,"message":"..."}` with an
/// HTTP status mapped from the code, the WebSocket proxy as an `{"error":...}` message.
public struct GRPCStatus: Error, Equatable, Sendable, CustomStringConvertible {
    /// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
    public enum Code: Int, Sendable {
        case ok = 0, cancelled = 1, unknown = 2, invalidArgument = 3, deadlineExceeded = 4, notFound = 5
        case alreadyExists = 6, permissionDenied = 7, resourceExhausted = 8, failedPrecondition = 9
        case aborted = 10, outOfRange = 11, unimplemented = 12, internalError = 13, unavailable = 14
        case dataLoss = 15, unauthenticated = 16

        /// grpc-go's name of the code (`codes.Code.String()`: "OK", "Unauthenticated", ...), the
        /// `code` label of the RPC metrics.
        public var name: String { Self.names[rawValue] }
        private static let names = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                                    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
                                    "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
                                    "Unauthenticated"]
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") { self.code = code; self.message = message }

    public static let ok = GRPCStatus(.ok)

    public var description: String { "\(code) (\(code.rawValue)): \(message)" }
}
