/// A gRPC status: code plus message, as carried in `grpc-status` / `grpc-message` trailers.
public struct GRPCStatus: Error, Equatable, Sendable, CustomStringConvertible {
    /// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
    public enum Code: Int, Sendable {
        case ok = 0, cancelled = 1, unknown = 2, invalidArgument = 3, deadlineExceeded = 4, notFound = 5
        case alreadyExists = 6, permissionDenied = 7, resourceExhausted = 8, failedPrecondition = 9
        case aborted = 10, outOfRange = 11, unimplemented = 12, internalError = 13, unavailable = 14
        case dataLoss = 15, unauthenticated = 16
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") { self.code = code; self.message = message }

    public static let ok = GRPCStatus(.ok)

    public var description: String { "\(code) (\(code.rawValue)): \(message)" }
}
