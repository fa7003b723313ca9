import RPCCore
import LightningRPC
import Payments

/// The payment calls of `lnrpc.Lightning`: ListPayments, DeletePayment, DeleteAllPayments (§2),
/// answered from the store's indexes.
struct LightningPayments: Sendable {
    let control: PaymentControl
    let marshaller: PaymentMarshaller

    func listPayments(_ r: Lnrpc.ListPaymentsRequest) throws -> Lnrpc.ListPaymentsResponse {
        let query = PaymentsQuery(indexOffset: r.indexOffset, maxPayments: r.maxPayments, reversed: r.reversed,
                                  includeIncomplete: r.includeIncomplete, countTotalPayments: r.countTotalPayments,
                                  creationDateStart: r.creationDateStart, creationDateEnd: r.creationDateEnd,
                                  omitHops: r.omitHops)
        try query.validate()
        let page = try control.listPayments(query)
        var out = Lnrpc.ListPaymentsResponse()
        out.payments = page.payments.map(marshaller.payment)
        out.firstIndexOffset = page.firstIndexOffset
        out.lastIndexOffset = page.lastIndexOffset
        out.totalNumPayments = page.totalNumPayments
        return out
    }

    func deletePayment(_ r: Lnrpc.DeletePaymentRequest) throws -> Lnrpc.DeletePaymentResponse {
        guard let hash = PaymentHash(r.paymentHash) else {
            throw GRPCStatus(.unknown, "invalid hash length of \(r.paymentHash.count), want 32")
        }
        do { try control.deletePayment(hash, failedHtlcsOnly: r.failedHtlcsOnly) } catch {
            // Deleting reports every store error as a plain error (code Unknown), as LND does.
            throw GRPCStatus(.unknown, error.description)
        }
        var out = Lnrpc.DeletePaymentResponse()
        out.status = PaymentControl.deletePaymentStatus
        return out
    }

    func deleteAllPayments(_ r: Lnrpc.DeleteAllPaymentsRequest) throws -> Lnrpc.DeleteAllPaymentsResponse {
        var out = Lnrpc.DeleteAllPaymentsResponse()
        do {
            out.status = try control.deleteAllPayments(allPayments: r.allPayments, failedPaymentsOnly: r.failedPaymentsOnly,
                                                       failedHtlcsOnly: r.failedHtlcsOnly)
        } catch {
            // Deleting reports every error as a plain one (code Unknown), as LND does.
            throw GRPCStatus(.unknown, error.description)
        }
        return out
    }
}
