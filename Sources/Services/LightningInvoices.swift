import Locks
import BOLT11
import Foundation
import RPCCore
import Invoices
import LightningRPC

extension InvoiceError: GRPCStatusConvertible {
    public var grpcStatus: GRPCStatus { GRPCStatus(GRPCStatus.Code(rawValue: Int(grpcStatusCode)) ?? .unknown, description) }
}

/// The invoice calls of `lnrpc.Lightning` (spec §2): AddInvoice, LookupInvoice, ListInvoices,
/// SubscribeInvoices, DecodePayReq, over the node's invoice registry.
struct LightningInvoices: Sendable {
    let registry: InvoiceRegistry
    let currency: Currency
    /// Hop hints for the node's private channels (LND `SelectHopHints`), added when `private` is set.
    var privateHints: @Sendable () -> [[BOLT11.HopHint]] = { [] }

    /// AddInvoice; with `holdPaymentHash`, AddHoldInvoice (no preimage, held HTLCs).
    func addInvoice(_ r: Lnrpc.Invoice, holdPaymentHash: [UInt8]? = nil) throws -> Lnrpc.AddInvoiceResponse {
        var req = AddInvoiceRequest()
        req.holdPaymentHash = holdPaymentHash
        req.memo = r.memo
        req.rPreimage = r.rPreimage
        req.value = r.value
        req.valueMsat = r.valueMsat
        req.descriptionHash = r.descriptionHash
        req.expiry = r.expiry
        req.fallbackAddr = r.fallbackAddr
        req.cltvExpiry = r.cltvExpiry
        req.routeHints = try InvoiceMarshaller.hopHints(r.routeHints)
        req.isPrivate = r.private
        if r.private { req.routeHints += privateHints() }
        req.isAmp = r.isAmp
        let result = try registry.addInvoice(req)
        var out = Lnrpc.AddInvoiceResponse()
        out.rHash = result.rHash
        out.paymentRequest = result.paymentRequest
        out.addIndex = result.addIndex
        out.paymentAddr = result.paymentAddr
        return out
    }

    func lookupInvoice(_ r: Lnrpc.PaymentHash) throws -> Lnrpc.Invoice {
        InvoiceMarshaller.invoice(try registry.lookupInvoice(rHashStr: r.rHashStr, rHash: r.rHash))
    }

    func listInvoices(_ r: Lnrpc.ListInvoiceRequest) throws -> Lnrpc.ListInvoiceResponse {
        var q = InvoiceQuery()
        q.pendingOnly = r.pendingOnly
        q.indexOffset = r.indexOffset
        q.numMaxInvoices = r.numMaxInvoices
        q.reversed = r.reversed
        q.creationDateStart = r.creationDateStart
        q.creationDateEnd = r.creationDateEnd
        let slice = try registry.listInvoices(q)
        var out = Lnrpc.ListInvoiceResponse()
        out.invoices = slice.invoices.map(InvoiceMarshaller.invoice)
        out.firstIndexOffset = slice.firstIndexOffset
        out.lastIndexOffset = slice.lastIndexOffset
        return out
    }

    func decodePayReq(_ r: Lnrpc.PayReqString) throws -> Lnrpc.PayReq {
        InvoiceMarshaller.payReq(try PayReq.decode(r.payReq, network: currency))
    }

    /// SubscribeInvoices: the backlog after add_index / settle_index, then live adds and settles.
    /// The registry's queue per subscriber is bounded; when the client reads too slowly the
    /// stream ends with RESOURCE_EXHAUSTED instead of growing.
    func subscribeInvoices(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Lnrpc.InvoiceSubscription
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        let state = SubscriptionState()
        let task = Task { [registry] in
            let sub: InvoiceSubscription
            do { sub = try registry.subscribeInvoices(addIndex: request.addIndex, settleIndex: request.settleIndex) } catch {
                writer.finish(RPC.status(error))
                return
            }
            state.subscription.withLock { $0 = sub }
            if state.cancelled.withLock({ $0 }) { sub.cancel(); return }
            do {
                for try await invoice in sub.updates {
                    let bytes = InvoiceMarshaller.invoice(invoice).serializedBytes()
                    // Backpressure: wait for room in the stream's bounded buffer.
                    while !writer.send(bytes) {
                        if Task.isCancelled || state.cancelled.withLock({ $0 }) { return }
                        try await Task.sleep(nanoseconds: 5_000_000)
                    }
                }
                writer.finish(.ok)
            } catch {
                writer.finish(RPC.status(error))
            }
        }
        context.onCancel {
            state.cancelled.withLock { $0 = true }
            state.subscription.withLock { $0 }?.cancel()
            task.cancel()
        }
    }
}

/// Shared between a SubscribeInvoices task and its cancellation callback.
private final class SubscriptionState: Sendable {
    let subscription = LockedValue<InvoiceSubscription?>(nil)
    let cancelled = LockedValue(false)
}
