import Locks
import RPCCore
import LightningRPC
import Payments
import Transport

/// routerrpc's v1 payment streams, removed in LND v0.21.0 (router_server_deprecated.go@v0.20.3):
/// `SendPayment` and `TrackPayment`, each SendPaymentV2/TrackPaymentV2 unchanged underneath
/// (same validation, codes, first message) with every `lnrpc.Payment` snapshot converted to a
/// `routerrpc.PaymentStatus` as LND's `legacyTrackPaymentServer.Send` does. Served as a second
/// `routerrpc.Router` service definition.
public final class LegacyRouterPayments: RPCService, @unchecked Sendable {
    public let serviceName = "routerrpc.Router"
    let tower: ControlTower
    let marshaller: PaymentMarshaller
    let work: BlockingWork
    let sender: PaymentSending

    public init(tower: ControlTower, marshaller: PaymentMarshaller, work: BlockingWork, sender: PaymentSending) {
        self.tower = tower
        self.marshaller = marshaller
        self.work = work
        self.sender = sender
    }

    public var shutdownStatus: GRPCStatus { RouterService.shuttingDown }

    public var methods: [String: RPCHandler] {
        [
            "SendPayment": .serverStreaming { [self] in sendPayment($0, $1, $2) },
            "TrackPayment": .serverStreaming { [self] in trackPayment($0, $1, $2) },
        ]
    }

    /// A snapshot as v1's PaymentStatus, or the error that ends the stream (LND's texts).
    enum Conversion: Equatable {
        case status(Routerrpc.PaymentStatus)
        case error(String)
    }

    /// LND v0.20 `legacyTrackPaymentServer.Send`: INITIATED shows as IN_FLIGHT unless
    /// `usestatusinitiated` (then `unknown state INITIATED`); FAILED maps its reason to
    /// FAILED_*; a FAILED payment without a reason is `expected fail reason`, one CANCELED is
    /// `unknown failure reason FAILURE_REASON_CANCELED`. `preimage` is 32 zero bytes until
    /// settled; `htlcs` are the payment's attempts.
    func convert(_ s: PaymentSnapshot) -> Conversion {
        var out = Routerrpc.PaymentStatus()
        switch s.status {
        case .initiated:
            if marshaller.useStatusInitiated { return .error("unknown state INITIATED") }
            out.state = .inFlight
        case .inFlight: out.state = .inFlight
        case .succeeded: out.state = .succeeded
        case .failed:
            switch s.failureReason {
            case .timeout?: out.state = .failedTimeout
            case .noRoute?: out.state = .failedNoRoute
            case .error?: out.state = .failedError
            case .incorrectPaymentDetails?: out.state = .failedIncorrectPaymentDetails
            case .insufficientBalance?: out.state = .failedInsufficientBalance
            case .canceled?: return .error("unknown failure reason FAILURE_REASON_CANCELED")
            case nil: return .error("expected fail reason")
            }
        }
        out.preimage = s.settledPreimage?.bytes ?? [UInt8](repeating: 0, count: 32)
        out.htlcs = s.attempts.map(marshaller.htlcAttempt)
        return .status(out)
    }

    func sendPayment(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Routerrpc.SendPaymentRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        if request.maxParts > 1 {
            writer.finish(GRPCStatus(.unknown, "for multi-part payments, use SendPaymentV2"))
            return
        }
        let accepted = work.submit { [self] in
            do {
                let (mailbox, initiated) = try sender.launch(request, context: context, tower: tower)
                stream(mailbox, first: initiated, context, writer)
            } catch {
                writer.finish(RPC.status(error))
            }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }

    func trackPayment(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Routerrpc.TrackPaymentRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        guard let hash = PaymentHash(request.paymentHash) else {
            writer.finish(GRPCStatus(.unknown, "invalid hash length of \(request.paymentHash.count), want 32"))
            return
        }
        let accepted = work.submit { [self] in
            do { stream(try tower.subscribePayment(hash), first: nil, context, writer) } catch {
                writer.finish(RPC.status(error))
            }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }

    /// Streams the mailbox as PaymentStatus messages; a snapshot that does not convert ends the
    /// stream with its error (UNKNOWN) instead of being sent.
    func stream(_ mailbox: PaymentMailbox, first: PaymentSnapshot?, _ context: ServerCallContext, _ writer: ServerStreamWriter) {
        let failure = LockedValue<String?>(nil)
        let pump = StreamPump(source: mailbox, writer: writer, context: context, finalStatus: {
            failure.withLock { $0 }.map { GRPCStatus(.unknown, $0) } ?? .ok
        }, first: first.map(SnapshotBox.init), encodeFramed: { [self] box in
            if failure.withLock({ $0 }) != nil { return nil }
            switch convert(box.snapshot) {
            case .status(let s): return EncodedMessage(message: s.serializedBytes())
            case .error(let text):
                failure.withLock { $0 = text }
                mailbox.cancel()
                return nil
            }
        })
        if context.eventLoop.inEventLoop { pump.start() } else { context.eventLoop.execute { pump.start() } }
    }
}
