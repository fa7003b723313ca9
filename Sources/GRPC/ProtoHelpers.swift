import RPCCore
import ProtoWire

// Typed conveniences over the raw-bytes API (messages are encoded with ProtoWire).

extension UnaryResponder {
    /// Sends `message` serialized, status OK.
    public func respond<M: ProtoMessage>(_ message: M) { respond(message.serializedBytes()) }
}

extension ServerStreamWriter {
    /// Queues `message` serialized; see `send(_:)` for the backpressure contract.
    @discardableResult
    public func send<M: ProtoMessage>(_ message: M) -> Bool { send(message.serializedBytes()) }
}

extension GRPCStatus {
    /// INTERNAL for a request that does not decode, worded as grpc-go words it.
    public static func decoding(_ error: Error) -> GRPCStatus {
        GRPCStatus(.internalError, "grpc: error unmarshalling request: \(error)")
    }
}

extension GRPCClient {
    /// Blocking typed unary call.
    public func unarySync<Req: ProtoMessage, Resp: ProtoMessage>(
        path: String, request: Req, metadata: Metadata = Metadata(), timeout: Duration? = nil,
        as: Resp.Type = Resp.self
    ) throws -> Resp {
        let bytes = try unarySync(path: path, request: request.serializedBytes(), metadata: metadata, timeout: timeout)
        return try Resp(serializedBytes: bytes)
    }
}
