import GRPC
import LightningRPC
import Macaroons
import Payments

/// `lnrpc.Lightning`: the payment, invoice, macaroon and node-info calls PayTrack serves. Each
/// part is a small struct over one domain; this type only routes methods to them, running every
/// call that touches a store off the event loops (`BlockingWork`).
public final class LightningService: GRPCService, @unchecked Sendable {
    public let serviceName = "lnrpc.Lightning"
    let payments: LightningPayments
    let macaroons: LightningMacaroons
    let work: BlockingWork

    public init(control: PaymentControl, marshaller: PaymentMarshaller, macaroons: MacaroonService, work: BlockingWork) {
        payments = LightningPayments(control: control, marshaller: marshaller)
        self.macaroons = LightningMacaroons(service: macaroons)
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        var m: [String: RPCHandler] = [
            "ListPayments": RPC.unary(Lnrpc.ListPaymentsRequest.self, work: work) { [payments] in try payments.listPayments($1) },
            "DeletePayment": RPC.unary(Lnrpc.DeletePaymentRequest.self, work: work) { [payments] in try payments.deletePayment($1) },
            "DeleteAllPayments": RPC.unary(Lnrpc.DeleteAllPaymentsRequest.self, work: work) { [payments] in try payments.deleteAllPayments($1) },
        ]
        do {
            let macaroons = self.macaroons
            m["BakeMacaroon"] = RPC.unary(Lnrpc.BakeMacaroonRequest.self, work: work) { try macaroons.bakeMacaroon($1) }
            m["ListPermissions"] = RPC.unary(Lnrpc.ListPermissionsRequest.self, work: work) { macaroons.listPermissions($1) }
            m["CheckMacaroonPermissions"] = RPC.unary(Lnrpc.CheckMacPermRequest.self, work: work) {
                try macaroons.checkMacaroonPermissions($1, peerAddress: $0.peerAddress)
            }
        }
        return m
    }
}
