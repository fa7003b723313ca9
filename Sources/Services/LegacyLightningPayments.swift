import Locks
import RPCCore
import Transport
import LightningRPC
import PaymentLifecycle
import Payments

/// The payment calls LND removed in v0.21.0 and apps written for LND <= 0.20 still make:
/// `lnrpc.Lightning/SendPaymentSync` (unary) and `SendPayment` (bidirectional), with LND
/// v0.20.3's semantics (rpcserver.go@v0.20.3 `sendPayment`, `SendPaymentSync`):
/// - request validation errors (`LegacySendRequestParser`) are gRPC UNKNOWN on the unary call and
///   `payment_error` replies on the stream (which goes on);
/// - everything the payment itself returns — including InitPayment's `invoice is already paid`,
///   `payment is in transition`, `payment already exists` — is an OK reply with
///   `payment_error` set (a FAILED payment gives its reason as LND's `FailureReason.String()`:
///   `timeout`, `no_route`, `error`, `incorrect_payment_details`, `insufficient_balance`,
///   `canceled`) and `payment_hash`;
/// - success is `{payment_preimage, payment_route (the settled HTLC's route), payment_hash}`;
/// - the call waits for the whole payment, however long a hold invoice holds it.
///
/// Served as a second `lnrpc.Lightning` service definition (the router merges the method tables).
public final class LegacyLightningPayments: RPCService, @unchecked Sendable {
    public let serviceName = "lnrpc.Lightning"
    let router: ChannelRouter
    let tower: ControlTower
    let parser: LegacySendRequestParser
    let marshaller: PaymentMarshaller
    let work: BlockingWork
    /// LND's per-stream semaphore of concurrent payments on one SendPayment stream.
    public static let maxPaymentsPerStream = 2000

    public init(router: ChannelRouter, tower: ControlTower, parser: LegacySendRequestParser,
                marshaller: PaymentMarshaller, work: BlockingWork) {
        self.router = router
        self.tower = tower
        self.parser = parser
        self.marshaller = marshaller
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        [
            "SendPaymentSync": .unary { [self] context, bytes, responder in sendPaymentSync(bytes, responder) },
            "SendPayment": .bidiStreaming { [self] context, writer in sendPaymentStream(context, writer) },
        ]
    }

    /// `payments/db/payment.go@v0.20` `FailureReason.String()`.
    static func reasonText(_ r: FailureReason?) -> String {
        switch r {
        case .timeout?: return "timeout"
        case .noRoute?: return "no_route"
        case .error?: return "error"
        case .incorrectPaymentDetails?: return "incorrect_payment_details"
        case .insufficientBalance?: return "insufficient_balance"
        case .canceled?: return "canceled"
        case nil: return "unknown"
        }
    }

    /// The reply for a payment's terminal snapshot.
    func response(_ s: PaymentSnapshot, hash: [UInt8]) -> Lnrpc.SendResponse {
        var out = Lnrpc.SendResponse()
        out.paymentHash = hash
        if s.status == .succeeded, let settled = s.attempts.last(where: { $0.settle != nil }), let preimage = settled.settle?.preimage {
            out.paymentPreimage = preimage.bytes
            out.paymentRoute = marshaller.route(settled.route)
        } else {
            out.paymentError = Self.reasonText(s.failureReason)
        }
        return out
    }

    static func failed(_ text: String, hash: [UInt8]) -> Lnrpc.SendResponse {
        var out = Lnrpc.SendResponse()
        out.paymentError = text
        out.paymentHash = hash
        return out
    }

    /// Runs `intent` and calls `done` once with its reply. Off the loop (InitPayment commits).
    func run(_ intent: PaymentIntent, done: @escaping @Sendable (Lnrpc.SendResponse) -> Void) {
        let hash = intent.paymentHash
        let paymentHash: PaymentHash
        do { paymentHash = try router.initiate(intent) } catch {
            done(Self.failed("\(error)", hash: hash))
            return
        }
        do {
            try TerminalPaymentWaiter.wait(tower: tower, hash: paymentHash) { [self] s in done(response(s, hash: hash)) }
        } catch {
            done(Self.failed("\(error)", hash: hash))
            return
        }
        router.launch(intent)
    }

    func sendPaymentSync(_ bytes: [UInt8], _ responder: UnaryResponder) {
        let request: Lnrpc.SendRequest
        do { request = try RPC.decode(bytes) } catch { responder.fail(RPC.status(error)); return }
        let accepted = work.submit { [self] in
            let intent: PaymentIntent
            do { intent = try parser.parse(request) } catch { responder.fail(RPC.status(error)); return }
            run(intent) { responder.respond($0.serializedBytes()) }
        }
        if !accepted { responder.fail(BlockingWork.busy) }
    }

    /// Bidirectional SendPayment: one reply per request, in completion order (correlate by
    /// `payment_hash`, as with LND); after the client half-closes, the stream ends OK once every
    /// payment it started has replied. At most `maxPaymentsPerStream` payments run at once on a
    /// stream; a request beyond that gets a `payment_error` reply instead of queuing.
    func sendPaymentStream(_ context: ServerCallContext, _ writer: ServerStreamWriter) -> BidiRequestHandler {
        let stream = LegacyReplyStream(writer: writer, loop: context.eventLoop)
        return BidiRequestHandler(onMessage: { [self] bytes in
            let request: Lnrpc.SendRequest
            do { request = try RPC.decode(bytes) } catch { stream.fail(RPC.status(error)); return }
            guard stream.begin(limit: Self.maxPaymentsPerStream) else {
                stream.reply(Self.failed("too many payments in flight on this stream (limit \(Self.maxPaymentsPerStream))",
                                         hash: [UInt8](repeating: 0, count: 32)).serializedBytes())
                return
            }
            let accepted = work.submit { [self] in
                let intent: PaymentIntent
                do { intent = try parser.parse(request) } catch {
                    stream.complete(Self.failed("\(error)", hash: [UInt8](repeating: 0, count: 32)).serializedBytes())
                    return
                }
                run(intent) { stream.complete($0.serializedBytes()) }
            }
            if !accepted { stream.complete(Self.failed(BlockingWork.busy.message, hash: [UInt8](repeating: 0, count: 32)).serializedBytes()) }
        }, onEnd: { stream.endOfRequests() })
    }
}

/// The reply side of one bidirectional legacy stream: replies are queued on the call's loop while
/// the writer is full (at most one per running payment, so bounded by the stream's payment
/// limit) and the stream ends OK once the client has half-closed and every payment replied.
final class LegacyReplyStream: @unchecked Sendable {
    private let writer: ServerStreamWriter
    private let loop: EventLoop
    private let state = LockedValue(State())

    struct State {
        var running = 0
        var ended = false
        var finished = false
    }
    /// Loop-confined.
    private var queued: [[UInt8]] = []

    init(writer: ServerStreamWriter, loop: EventLoop) {
        self.writer = writer
        self.loop = loop
        writer.onReady { [self] in flush() }
    }

    /// Counts a payment as running; false when `limit` are already running.
    func begin(limit: Int) -> Bool {
        state.withLock { s in
            guard s.running < limit else { return false }
            s.running += 1
            return true
        }
    }

    /// A reply that is not tied to a running payment.
    func reply(_ bytes: [UInt8]) {
        loop.execute { [self] in enqueue(bytes) }
    }

    /// The reply of a running payment (any thread).
    func complete(_ bytes: [UInt8]) {
        loop.execute { [self] in
            enqueue(bytes)
            let done = state.withLock { s -> Bool in
                s.running -= 1
                return s.ended && s.running == 0 && !s.finished
            }
            if done { finishWhenFlushed() }
        }
    }

    /// The client half-closed (loop thread).
    func endOfRequests() {
        let done = state.withLock { s -> Bool in
            s.ended = true
            return s.running == 0 && !s.finished
        }
        if done { finishWhenFlushed() }
    }

    /// A request that does not decode ends the stream with that status (loop thread).
    func fail(_ status: GRPCStatus) {
        state.withLock { $0.finished = true }
        writer.finish(status)
    }

    private func enqueue(_ bytes: [UInt8]) {
        if queued.isEmpty && writer.send(bytes) { return }
        queued.append(bytes)
    }

    private var finishPending = false

    private func finishWhenFlushed() {
        finishPending = true
        flush()
    }

    private func flush() {
        while let first = queued.first {
            guard writer.send(first) else { return }
            queued.removeFirst()
        }
        if finishPending && state.withLock({ s -> Bool in defer { s.finished = true }; return !s.finished }) {
            writer.finish(.ok)
        }
    }
}
