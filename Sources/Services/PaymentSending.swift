import RPCCore
import LightningRPC
import Payments

/// What SendPaymentV2 needs from the node: validate the request and launch the payment
/// (LND `extractIntentFromSendRequest` + `Router.PreparePayment` + `SendPaymentAsync`).
///
/// Contract: `prepare` validates and commits the payment's Initiated state (LND `InitPayment`),
/// or throws the error LND gives (validation errors as UNKNOWN with LND's text; AlreadyExists for
/// a duplicate hash). Nothing is attempted until `start` is called on the result, so the caller
/// can subscribe first and stream the Initiated snapshot as the first message (§5.4).
public protocol PaymentSending: Sendable {
    func prepare(_ request: Routerrpc.SendPaymentRequest, context: ServerCallContext) throws -> PreparedPayment
}

/// A payment whose Initiated state is committed and whose lifecycle has not started.
public struct PreparedPayment: Sendable {
    public let hash: PaymentHash
    /// Starts the payment lifecycle (attempts, retries, timeout).
    public let start: @Sendable () -> Void
    public init(hash: PaymentHash, start: @escaping @Sendable () -> Void) {
        self.hash = hash
        self.start = start
    }
}

extension RouterService {
    // MARK: SendPaymentV2 (§5)

    func sendPaymentV2(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Routerrpc.SendPaymentRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        guard let sender else { writer.finish(GRPCStatus(.unimplemented, "no payment backend")); return }
        let accepted = work.submit { [self] in
            do {
                let payment = try sender.prepare(request, context: context)
                // §5.4: subscribe after init and before any attempt, and take the Initiated
                // snapshot out now, so the mailbox's coalescing can never drop it.
                let mailbox = try tower.subscribePayment(payment.hash)
                let initiated: PaymentSnapshot? = mailbox.poll()
                payment.start()
                stream(mailbox, first: initiated, noInflightUpdates: request.noInflightUpdates, context, writer)
            } catch {
                writer.finish(RPC.status(error))
            }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }
}
