import RPCCore
import ProtoWire

/// An error that knows the gRPC status LND answers it with.
public protocol GRPCStatusConvertible: Error {
    var grpcStatus: GRPCStatus { get }
}

extension GRPCStatus: GRPCStatusConvertible {
    public var grpcStatus: GRPCStatus { self }
}

/// Glue between raw-bytes gRPC handlers and typed request/response messages.
enum RPC {
    /// grpc-go's answer to a request that does not decode: INTERNAL with this prefix.
    static func decode<M: ProtoMessage>(_ bytes: [UInt8], as: M.Type = M.self) throws(GRPCStatus) -> M {
        do { return try M(serializedBytes: bytes) } catch {
            throw GRPCStatus(.internalError, "grpc: error unmarshalling request: \(error)")
        }
    }

    /// The status for any error a handler throws: its own if it has one, else UNKNOWN with its
    /// text (what grpc-go does with a plain Go error).
    static func status(_ error: Error) -> GRPCStatus {
        if let e = error as? GRPCStatusConvertible { return e.grpcStatus }
        return GRPCStatus(.unknown, "\(error)")
    }

    /// A unary handler whose body may block (store access): it runs on `work`, off the loop.
    static func unary<Req: ProtoMessage, Resp: ProtoMessage>(
        _ reqType: Req.Type, work: BlockingWork,
        _ body: @escaping @Sendable (ServerCallContext, Req) throws -> Resp
    ) -> RPCHandler {
        .unary { context, bytes, responder in
            let request: Req
            do { request = try decode(bytes) } catch { responder.fail(status(error)); return }
            let accepted = work.submit {
                do { responder.respond(try body(context, request).serializedBytes()) } catch {
                    responder.fail(status(error))
                }
            }
            if !accepted { responder.fail(BlockingWork.busy) }
        }
    }
}
