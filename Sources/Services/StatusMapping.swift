import RPCCore
import Payments

extension PaymentError: GRPCStatusConvertible {
    /// LND's code for the error on the payment RPCs (NotFound, AlreadyExists, else Unknown) and
    /// its exact text.
    public var grpcStatus: GRPCStatus {
        GRPCStatus(GRPCStatus.Code(rawValue: Int(grpcCode)) ?? .unknown, description)
    }
}
