import GRPC
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
        out.status = "payment deleted"
        return out
    }

    func deleteAllPayments(_ r: Lnrpc.DeleteAllPaymentsRequest) throws -> Lnrpc.DeleteAllPaymentsResponse {
        if !r.allPayments && !r.failedPaymentsOnly && !r.failedHtlcsOnly {
            throw GRPCStatus(.unknown, "at least one of the options `all_payments`, `failed_payments_only` or `failed_htlcs_only` must be set to true")
        }
        if r.allPayments && (r.failedPaymentsOnly || r.failedHtlcsOnly) {
            throw GRPCStatus(.unknown, "`all_payments` cannot be true with either `failed_payments_only` or `failed_htlcs_only`")
        }
        let n: Int
        do { n = try control.deletePayments(failedOnly: r.failedPaymentsOnly, failedHtlcsOnly: r.failedHtlcsOnly) } catch {
            throw GRPCStatus(.unknown, error.description)
        }
        var out = Lnrpc.DeleteAllPaymentsResponse()
        out.status = "\(n) payments deleted, failed_htlcs_only=\(r.failedHtlcsOnly)"
        return out
    }
}
