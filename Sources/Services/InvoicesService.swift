import Locks
import BOLT11
import RPCCore
import Invoices
import LightningRPC
import Payments
import Transport

/// `invoicesrpc.Invoices` (LND's invoices sub-server): hold invoices (AddHoldInvoice,
/// SettleInvoice, CancelInvoice), SubscribeSingleInvoice and LookupInvoiceV2, over the node's
/// invoice registry, with LND's texts and codes (invoices_server.go). Every error is UNKNOWN
/// except LookupInvoiceV2's, which uses INVALID_ARGUMENT and NOT_FOUND as LND does.
public final class InvoicesService: RPCService, @unchecked Sendable {
    public let serviceName = "invoicesrpc.Invoices"
    let registry: InvoiceRegistry
    let invoices: LightningInvoices
    let work: BlockingWork

    public init(registry: InvoiceRegistry, currency: Currency, work: BlockingWork,
                privateHints: @escaping @Sendable () -> [[BOLT11.HopHint]] = { [] }) {
        self.registry = registry
        invoices = LightningInvoices(registry: registry, currency: currency, privateHints: privateHints)
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        [
            "AddHoldInvoice": RPC.unary(Invoicesrpc.AddHoldInvoiceRequest.self, work: work) { [self] in try addHoldInvoice($1) },
            "SettleInvoice": RPC.unary(Invoicesrpc.SettleInvoiceMsg.self, work: work) { [self] in try settleInvoice($1) },
            "CancelInvoice": RPC.unary(Invoicesrpc.CancelInvoiceMsg.self, work: work) { [self] in try cancelInvoice($1) },
            "LookupInvoiceV2": RPC.unary(Invoicesrpc.LookupInvoiceMsg.self, work: work) { [self] in try lookupInvoiceV2($1) },
            "SubscribeSingleInvoice": .serverStreaming { [self] in subscribeSingleInvoice($0, $1, $2) },
        ]
    }

    /// LND's lntypes.MakeHash text, used for every hash field of this service.
    static func hashLength(_ n: Int) -> GRPCStatus { GRPCStatus(.unknown, "invalid hash length of \(n), want 32") }

    /// Registry errors as invoices_server.go returns them: plain errors (UNKNOWN), so
    /// `unable to locate invoice` is not NOT_FOUND here.
    static func plain(_ e: InvoiceError) -> GRPCStatus { GRPCStatus(.unknown, e.description) }

    /// AddHoldInvoice: `hash` is required (32 bytes); then AddInvoice's checks; the invoice is
    /// stored with no preimage and reaches ACCEPTED, not SETTLED, when its HTLCs arrive.
    func addHoldInvoice(_ r: Invoicesrpc.AddHoldInvoiceRequest) throws -> Invoicesrpc.AddHoldInvoiceResp {
        if r.hash.count != 32 { throw Self.hashLength(r.hash.count) }
        var inv = Lnrpc.Invoice()
        inv.memo = r.memo
        inv.value = r.value
        inv.valueMsat = r.valueMsat
        inv.descriptionHash = r.descriptionHash
        inv.expiry = r.expiry
        inv.fallbackAddr = r.fallbackAddr
        inv.cltvExpiry = r.cltvExpiry
        inv.routeHints = r.routeHints
        inv.private = r.private
        let added: Lnrpc.AddInvoiceResponse
        do { added = try invoices.addInvoice(inv, holdPaymentHash: r.hash) } catch let e as InvoiceError { throw Self.plain(e) }
        var out = Invoicesrpc.AddHoldInvoiceResp()
        out.paymentRequest = added.paymentRequest
        out.addIndex = added.addIndex
        out.paymentAddr = added.paymentAddr
        return out
    }

    /// SettleInvoice: found by sha256(preimage); idempotent on a settled invoice.
    func settleInvoice(_ r: Invoicesrpc.SettleInvoiceMsg) throws -> Invoicesrpc.SettleInvoiceResp {
        do { try registry.settleInvoice(preimage: r.preimage) } catch { throw Self.plain(error) }
        return Invoicesrpc.SettleInvoiceResp()
    }

    /// CancelInvoice: OPEN or ACCEPTED → CANCELED (held HTLCs fail back); idempotent on a
    /// canceled invoice; `invoice already settled` on a settled one.
    func cancelInvoice(_ r: Invoicesrpc.CancelInvoiceMsg) throws -> Invoicesrpc.CancelInvoiceResp {
        if r.paymentHash.count != 32 { throw Self.hashLength(r.paymentHash.count) }
        do { try registry.cancelInvoice(paymentHash: r.paymentHash) } catch { throw Self.plain(error) }
        return Invoicesrpc.CancelInvoiceResp()
    }

    /// LookupInvoiceV2 (the oneof checked in LND's order). NOT_FOUND `unable to locate invoice`;
    /// an empty store is UNKNOWN `there are no existing invoices`. PayTrack stores no AMP HTLC
    /// sets, so a `set_id` matches no invoice.
    func lookupInvoiceV2(_ r: Invoicesrpc.LookupInvoiceMsg) throws -> Lnrpc.Invoice {
        let found: Invoice
        var blank = false
        do {
            // The generated message flattens the oneof: a member counts as set when non-empty.
            if !r.paymentHash.isEmpty {
                let h = r.paymentHash
                if h.count != 32 {
                    throw GRPCStatus(.invalidArgument, "unable to parse pay hash: invalid hash length of \(h.count), want 32")
                }
                found = try registry.lookupInvoice(rHash: h)
            } else if !r.paymentAddr.isEmpty {
                found = try registry.lookupInvoice(paymentAddr: r.paymentAddr)
                blank = r.lookupModifier == .htlcSetBlank
            } else if !r.setId.isEmpty {
                throw GRPCStatus(.notFound, InvoiceError.notFound.description)
            } else {
                throw GRPCStatus(.invalidArgument, "invoice ref must be set")
            }
        } catch let e as InvoiceError {
            if case .notFound = e { throw GRPCStatus(.notFound, e.description) }
            throw Self.plain(e)
        }
        var out = InvoiceMarshaller.invoice(found)
        if blank { out.htlcs = [] }
        return out
    }

    /// SubscribeSingleInvoice: the invoice's current state first (if it exists), then one
    /// message per state change; ends OK after SETTLED or CANCELED. The stream joins its loop's
    /// `SingleInvoiceFanout` on the loop (a slot, no object of its own), then its current state
    /// is read off the loop (the store may block) and handed to the group in registry order.
    func subscribeSingleInvoice(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Invoicesrpc.SubscribeSingleInvoiceRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        guard let hash = PaymentHash(request.rHash) else { writer.finish(Self.hashLength(request.rHash.count)); return }
        let loop = context.eventLoop
        guard loop.inEventLoop else {
            loop.execute { [self] in subscribeSingleInvoice(context, bytes, writer) }
            return
        }
        let group = singleInvoiceGroup(on: loop)
        let slot = group.join(writer, hash: hash)
        context.onCancel { group.leave(slot) }
        context.discardMetadata()   // nothing below reads it; a waiting stream keeps no headers
        let accepted = work.submit { [registry] in
            do {
                try registry.currentInvoice(paymentHash: request.rHash) { group.post(.current(slot, $0)) }
            } catch {
                group.post(.failed(slot, RPC.status(error)))
            }
        }
        if !accepted {
            group.leave(slot)
            writer.finish(BlockingWork.busy)
        }
    }

    typealias SingleInvoiceGroup = SingleInvoiceFanout<ServerStreamWriter>

    /// Each event loop's group of SubscribeSingleInvoice streams, made (and registered with the
    /// invoice registry) on first use; they live as long as the service.
    private let singleInvoiceGroups = LockedValue<[ObjectIdentifier: SingleInvoiceGroup]>([:])

    func singleInvoiceGroup(on loop: EventLoop) -> SingleInvoiceGroup {
        let key = ObjectIdentifier(loop)
        if let g = singleInvoiceGroups.withLock({ $0[key] }) { return g }
        let g = SingleInvoiceGroup(wake: { [loop] g in loop.execute(g) },
                                   encode: { EncodedMessage(message: InvoiceMarshaller.invoice($0).serializedBytes()) },
                                   tooSlow: RPC.status(InvoiceError.subscriberTooSlow(limit: InvoiceRegistry.singleSubscriberQueueLimit)))
        let (made, winner) = singleInvoiceGroups.withLock { d -> (Bool, SingleInvoiceGroup) in
            if let existing = d[key] { return (false, existing) }
            d[key] = g
            return (true, g)
        }
        if made { registry.addSingleInvoiceWatcher(g) }
        return winner
    }
}
