import BOLT11
import RPCCore
import Invoices
import LightningRPC
import Macaroons
import Payments

/// `lnrpc.Lightning`: the payment, invoice, macaroon and node-info calls PayTrack serves. Each
/// part is a small struct over one domain; this type only routes methods to them, running every
/// call that touches a store off the event loops (`BlockingWork`).
public final class LightningService: RPCService, @unchecked Sendable {
    public let serviceName = "lnrpc.Lightning"
    let payments: LightningPayments
    let macaroons: LightningMacaroons
    let invoices: LightningInvoices
    let info: LightningInfo
    let work: BlockingWork

    public init(control: PaymentControl, marshaller: PaymentMarshaller, macaroons: MacaroonService,
                invoices: InvoiceRegistry, currency: Currency, version: String,
                nodeInfo: @escaping @Sendable () -> NodeInfo, work: BlockingWork,
                privateHints: @escaping @Sendable () -> [[BOLT11.HopHint]] = { [] }) {
        info = LightningInfo(version: version, info: nodeInfo)
        payments = LightningPayments(control: control, marshaller: marshaller)
        self.invoices = LightningInvoices(registry: invoices, currency: currency, privateHints: privateHints)
        self.macaroons = LightningMacaroons(service: macaroons)
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        var m: [String: RPCHandler] = [
            "ListPayments": RPC.unary(Lnrpc.ListPaymentsRequest.self, work: work) { [payments] in try payments.listPayments($1) },
            "DeletePayment": RPC.unary(Lnrpc.DeletePaymentRequest.self, work: work) { [payments] in try payments.deletePayment($1) },
            "DeleteAllPayments": RPC.unary(Lnrpc.DeleteAllPaymentsRequest.self, work: work) { [payments] in try payments.deleteAllPayments($1) },
        ]
        let invoices = self.invoices
        let info = self.info
        m["GetInfo"] = .unary { _, bytes, responder in
            do { responder.respond(info.getInfo(try RPC.decode(bytes)).serializedBytes()) } catch { responder.fail(RPC.status(error)) }
        }
        m["AddInvoice"] = RPC.unary(Lnrpc.Invoice.self, work: work) { try invoices.addInvoice($1) }
        m["LookupInvoice"] = RPC.unary(Lnrpc.PaymentHash.self, work: work) { try invoices.lookupInvoice($1) }
        m["ListInvoices"] = RPC.unary(Lnrpc.ListInvoiceRequest.self, work: work) { try invoices.listInvoices($1) }
        m["DecodePayReq"] = RPC.unary(Lnrpc.PayReqString.self, work: work) { try invoices.decodePayReq($1) }
        m["SubscribeInvoices"] = .serverStreaming { invoices.subscribeInvoices($0, $1, $2) }
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
