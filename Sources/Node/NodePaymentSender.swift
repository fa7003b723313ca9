import GRPC
import RPCCore
import LightningRPC
import PaymentLifecycle
import Payments
import Services

/// SendPaymentV2's backend for one node: LND's request validation, then the node's
/// `ChannelRouter` (InitPayment now; attempts when the stream is subscribed and `start` runs).
struct NodePaymentSender: PaymentSending {
    let parser: SendPaymentRequestParser
    let router: ChannelRouter

    func prepare(_ request: Routerrpc.SendPaymentRequest, context: ServerCallContext) throws -> PreparedPayment {
        let intent = try parser.parse(request)
        let hash = try router.initiate(intent)
        let cancelable = request.cancelable
        if cancelable {
            // LND: with `cancelable`, the stream's end cancels the payment (reason CANCELED).
            context.eventLoop.execute { context.onCancel { [router] in router.cancel(hash) } }
        }
        return PreparedPayment(hash: hash) { [router] in router.launch(intent) }
    }
}
