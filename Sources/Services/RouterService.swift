import Metrics
import RPCCore
import LightningRPC
import Payments
import ProtoWire
import Synchronization

/// `routerrpc.Router`: TrackPaymentV2, TrackPayments and SendPaymentV2 with LND's semantics
/// (spec §3–§5). Holds no state of its own beyond caches of encoded messages.
public final class RouterService: RPCService, @unchecked Sendable {
    public let serviceName = "routerrpc.Router"
    let tower: ControlTower
    let marshaller: PaymentMarshaller
    let work: BlockingWork
    let sender: PaymentSending?
    let encoded = EncodedPaymentCache()
    /// TrackPaymentV2 subscribers of one payment on one loop share one tower subscription.
    let fanouts: PaymentFanoutRegistry
    /// Set by `shutdown()`: streams that start afterwards end at once with `shuttingDown`.
    let closed = Atomic<Bool>(false)

    /// How the router's streams end when the server stops: LND's text (`errServerShuttingDown`,
    /// §3.6, §12) with code UNAVAILABLE rather than LND's Unknown, so that gRPC clients treat it as
    /// retryable (the transport's drain contract; docs/API.md).
    static let shuttingDown = GRPCStatus(.unavailable, "routerrpc server shutting down")

    /// The status the transport ends this service's open streams with when it drains
    /// (`GRPCServer.shutdown`): every open TrackPaymentV2, TrackPayments and SendPaymentV2 stream
    /// ends with `routerrpc server shutting down` (code UNAVAILABLE). The transport already keeps
    /// each connection's list of open streaming calls, so the router keeps no registry of its own.
    public var shutdownStatus: GRPCStatus { Self.shuttingDown }

    /// Call before the transport's graceful shutdown: streams that start from now on end at once
    /// with `routerrpc server shutting down` (code UNAVAILABLE); the open ones end with the same
    /// status when the transport drains (`shutdownStatus`).
    public func shutdown() {
        closed.store(true, ordering: .releasing)
    }

    /// False once `shutdown` happened (the stream must then end with `shuttingDown`).
    func register<S>(_ pump: StreamPump<S>) -> Bool {
        !closed.load(ordering: .acquiring)
    }

    /// Metadata key of PayTrack's TrackPayments resume extension: unix nanoseconds; the stream then
    /// first replays every payment updated at or after it (docs/API.md, "Resuming TrackPayments").
    public static let replaySinceMetadataKey = "paytrack-replay-since"

    /// - Parameter fanoutLatency: when given, TrackPaymentV2's fan-out delivery latency (tower
    ///   publish to stream write) is observed there.
    public init(tower: ControlTower, marshaller: PaymentMarshaller, work: BlockingWork, sender: PaymentSending?,
                fanoutLatency: Histogram? = nil) {
        fanouts = PaymentFanoutRegistry(deliveryLatency: fanoutLatency)
        self.tower = tower
        self.marshaller = marshaller
        self.work = work
        self.sender = sender
    }

    public var methods: [String: RPCHandler] {
        var m: [String: RPCHandler] = [
            "TrackPaymentV2": .serverStreaming { [self] in trackPaymentV2($0, $1, $2) },
            "TrackPayments": .serverStreaming { [self] in trackPayments($0, $1, $2) },
        ]
        if sender != nil {
            m["SendPaymentV2"] = .serverStreaming { [self] in sendPaymentV2($0, $1, $2) }
        }
        return m
    }

    /// The encoded `lnrpc.Payment` of a snapshot. Every snapshot version (terminal or not) is
    /// marshalled once, then that one message is queued on every subscriber's stream by reference,
    /// whatever its face: a fan-out of one update marshals once and copies nothing per stream. (A
    /// version identifies a snapshot: every change, pruning included, takes a new stamp.)
    func encodeFramed(_ s: PaymentSnapshot) -> EncodedMessage {
        if let f = encoded.message(for: s) { return f }
        let f = EncodedMessage(message: marshaller.payment(s).serializedBytes())
        encoded.store(f, for: s)
        return f
    }

    /// As `encodeFramed(_: PaymentSnapshot)`, memoized on the box: the first subscriber of a
    /// fanned-out update stores the framed message in the shared box, the others load it
    /// (lock-free; no cache lock, hash lookup or snapshot copy per subscriber).
    func encodeFramed(_ box: SnapshotBox) -> EncodedMessage {
        if let m = box.memo.load() as? EncodedMessageRef { return m.message }
        let f = encodeFramed(box.snapshot)
        return (box.memo.storeIfNil(EncodedMessageRef(f)) as? EncodedMessageRef)?.message ?? f
    }

    /// `no_inflight_updates`: drop Initiated and InFlight snapshots, the first one included.
    static func passes(_ s: PaymentSnapshot, noInflightUpdates: Bool) -> Bool {
        !noInflightUpdates || s.status.isTerminal
    }

    /// Streams `mailbox` to `writer` on the call's loop.
    func stream(_ mailbox: PaymentMailbox, first: PaymentSnapshot? = nil, noInflightUpdates: Bool,
                _ context: ServerCallContext, _ writer: ServerStreamWriter) {
        let pump = StreamPump(source: mailbox, writer: writer, context: context, first: first.map(SnapshotBox.init),
                              encodeFramed: { [self] box in
            Self.passes(box.snapshot, noInflightUpdates: noInflightUpdates) ? encodeFramed(box) : nil
        })
        guard register(pump) else { mailbox.cancel(); writer.finish(Self.shuttingDown); return }
        if context.eventLoop.inEventLoop { pump.start() } else { context.eventLoop.execute { pump.start() } }
    }

    // MARK: TrackPaymentV2 (§3)

    func trackPaymentV2(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Routerrpc.TrackPaymentRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        // §3.1: checked before any store access; a plain error, so code Unknown.
        guard let hash = PaymentHash(request.paymentHash) else {
            writer.finish(GRPCStatus(.unknown, "invalid hash length of \(request.paymentHash.count), want 32"))
            return
        }
        let noInflight = request.noInflightUpdates
        if let cached = tower.cachedPayment(hash) {
            if cached.status.isTerminal {
                // Fastest path (§3.3): a payment already terminal at subscription gets exactly
                // this snapshot and the stream ends OK — no mailbox, no subscription.
                _ = writer.send(encodeFramed(cached))
                writer.finish(.ok)
                return
            }
            // Fast path: the snapshot is in memory; join this loop's group of the payment's
            // subscribers (one tower subscription per payment and loop, see `PaymentFanout`).
            guard !closed.load(ordering: .acquiring) else { writer.finish(Self.shuttingDown); return }
            do {
                let group = try fanouts.group(for: hash, on: context.eventLoop,
                                              subscribe: { () throws(PaymentError) in try tower.subscribePayment(hash) },
                                              encode: { [self] box in encodeFramed(box) })
                if let slot = group.join(writer, first: cached, firstMessage: encodeFramed(cached),
                                         noInflightUpdates: noInflight) {
                    context.onCancel { group.leave(slot) }
                    context.discardMetadata()   // a member never reads it again
                }
            } catch {
                writer.finish(RPC.status(error))
            }
            return
        }
        let accepted = work.submit { [self] in
            do {
                let mailbox = try tower.subscribePayment(hash)
                stream(mailbox, noInflightUpdates: noInflight, context, writer)
            } catch {
                writer.finish(RPC.status(error))
            }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }

    // MARK: TrackPayments (§4 + resume)

    func trackPayments(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        let request: Routerrpc.TrackPaymentsRequest
        do { request = try RPC.decode(bytes) } catch { writer.finish(error); return }
        var replaySince: Int64?
        if let text = context.metadata[Self.replaySinceMetadataKey] {
            guard let v = Int64(text), v >= 0 else {
                writer.finish(GRPCStatus(.invalidArgument,
                    "\(Self.replaySinceMetadataKey) must be unix nanoseconds (a non-negative integer), got \"\(text)\""))
                return
            }
            replaySince = v
        }
        let noInflight = request.noInflightUpdates
        let since = replaySince
        let accepted = work.submit { [self] in
            let mailbox: AllPaymentsMailbox
            do { mailbox = try tower.subscribeAllPayments(replaySince: since) } catch {
                writer.finish(RPC.status(error))
                return
            }
            let pump = StreamPump(source: mailbox, writer: writer, context: context, finalStatus: {
                mailbox.overflowed
                    ? GRPCStatus(.resourceExhausted, "subscriber fell too far behind; resubscribe with the \(Self.replaySinceMetadataKey) metadata to resume")
                    : .ok
            }, encodeFramed: { [self] s in
                Self.passes(s, noInflightUpdates: noInflight) ? encodeFramed(s) : nil
            })
            guard register(pump) else { mailbox.cancel(); writer.finish(Self.shuttingDown); return }
            context.eventLoop.execute { pump.start() }
        }
        if !accepted { writer.finish(BlockingWork.busy) }
    }
}

/// A framed message behind a class reference (for `SnapshotBox.memo`).
final class EncodedMessageRef: Sendable {
    let message: EncodedMessage
    init(_ message: EncodedMessage) { self.message = message }
}
