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

extension PaymentSending {
    /// Prepares the payment, subscribes to it on `tower` after its Initiated state is committed
    /// and before any attempt, takes that Initiated snapshot out of the mailbox at once (so the
    /// mailbox's coalescing can never drop it: the stream's first message), then starts it.
    /// What SendPaymentV2 and the legacy SendPayment share; they differ only in how they stream.
    func launch(_ request: Routerrpc.SendPaymentRequest, context: ServerCallContext,
                tower: ControlTower) throws -> (mailbox: PaymentMailbox, initiated: PaymentSnapshot?) {
        let payment = try prepare(request, context: context)
        let mailbox = try tower.subscribePayment(payment.hash)
        let initiated: PaymentSnapshot? = mailbox.poll()
        payment.start()
        return (mailbox, initiated)
    }
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
                let (mailbox, initiated) = try sender.launch(request, context: context, tower: tower)
                stream(mailbox, first: initiated, noInflightUpdates: request.noInflightUpdates, context, writer)
            } catch {
                writer.finish(RPC.status(error))
            }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }
}
