/// Runs before the handler, on the loop, once the call is routed and before its request is
/// decoded, on every face (gRPC, REST, WebSocket). Returning a status refuses the call with it
/// (e.g. a macaroon check's error); returning nil lets it through.
public protocol ServerInterceptor: Sendable {
    func intercept(_ context: ServerCallContext) -> GRPCStatus?
}
