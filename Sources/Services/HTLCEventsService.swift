import Locks
import Foundation
import LightningRPC
import Routing
import RPCCore
import Simnet
import Transport

/// routerrpc `SubscribeHtlcEvents` (LND router_server.go, subscribe_events.go) over the simulated
/// network's switch events for this node: the first message is `HtlcEvent{subscribed_event:{}}`
/// with every other field zero, then one event per HTLC step this node takes part in — its own
/// sends (SEND: incoming channel and id 0), its forwards (FORWARD), its receipts (RECEIVE) — and
/// a `FinalHtlcEvent` (no event type) once an incoming HTLC's settle or fail is final. No backlog.
/// The stream never ends by itself. A subscriber holds at most `queueLimit` unsent events; past
/// that its stream ends RESOURCE_EXHAUSTED instead of buffering without bound.
public final class HTLCEventsService: RPCService, @unchecked Sendable {
    public let serviceName = "routerrpc.Router"
    let network: SimulatedNetwork
    let node: NodeID
    public static let queueLimit = 4096

    public init(network: SimulatedNetwork, node: NodeID) {
        self.network = network
        self.node = node
    }

    public var shutdownStatus: GRPCStatus { RouterService.shuttingDown }

    public var methods: [String: RPCHandler] {
        ["SubscribeHtlcEvents": .serverStreaming { [self] context, bytes, writer in subscribe(context, bytes, writer) }]
    }

    func subscribe(_ context: ServerCallContext, _ bytes: [UInt8], _ writer: ServerStreamWriter) {
        do { let _: Routerrpc.SubscribeHtlcEventsRequest = try RPC.decode(bytes) } catch { writer.finish(RPC.status(error)); return }
        var first = Routerrpc.HtlcEvent()
        first.subscribedEvent = Routerrpc.SubscribedEvent()
        let stream = HTLCEventStream(writer: writer, loop: context.eventLoop, limit: Self.queueLimit)
        stream.enqueue(first.serializedBytes())
        let token = network.subscribeHTLCEvents(node: node) { event in
            stream.enqueue(Self.marshal(event, timestampNs: UInt64(Date().timeIntervalSince1970 * 1e9)).serializedBytes())
        }
        stream.onEnd = { [network] in network.unsubscribeHTLCEvents(token) }
        context.onCancel { stream.cancel() }
    }

    /// LND `rpcHtlcEvent`.
    static func marshal(_ e: HTLCEvent, timestampNs: UInt64) -> Routerrpc.HtlcEvent {
        var o = Routerrpc.HtlcEvent()
        o.incomingChannelId = e.incomingChannel?.rawValue ?? 0
        o.incomingHtlcId = e.incomingHTLCID
        o.outgoingChannelId = e.outgoingChannel?.rawValue ?? 0
        o.outgoingHtlcId = e.outgoingHTLCID
        o.timestampNs = timestampNs
        switch e.direction {
        case .send: o.eventType = .send
        case .receive: o.eventType = .receive
        case .forward: o.eventType = .forward
        }
        var info = Routerrpc.HtlcInfo()
        info.incomingTimelock = e.incomingTimelock
        info.outgoingTimelock = e.outgoingTimelock
        info.incomingAmtMsat = e.incomingAmountMsat
        info.outgoingAmtMsat = e.outgoingAmountMsat
        switch e.kind {
        case .forward:
            var f = Routerrpc.ForwardEvent()
            f.info = info
            o.forwardEvent = f
        case .forwardFail:
            o.forwardFailEvent = Routerrpc.ForwardFailEvent()
        case .settle(let preimage):
            var s = Routerrpc.SettleEvent()
            s.preimage = preimage
            o.settleEvent = s
        case .final(let settled):
            var f = Routerrpc.FinalHtlcEvent()
            f.settled = settled
            f.offchain = true
            o.finalHtlcEvent = f
            o.eventType = .unknown
        case .linkFail(let message, let detail):
            var l = Routerrpc.LinkFailEvent()
            l.info = info
            l.wireFailure = Lnrpc.Failure.FailureCode(rawValue: Int32(message.code.rawValue))
            switch detail {
            case .noDetail, .invoiceRefused:
                l.failureDetail = .noDetail
                l.failureString = wireText(message)
            case .linkNotEligible:
                l.failureDetail = .linkNotEligible
                l.failureString = "link not eligible"
            case .htlcExceedsMax:
                l.failureDetail = .htlcExceedsMax
                l.failureString = "htlc exceeds maximum policy amount"
            case .insufficientBalance:
                l.failureDetail = .insufficientBalance
                l.failureString = "insufficient bandwidth to route htlc"
            case .mppInvoiceTimeout:
                l.failureDetail = .mppInvoiceTimeout
                l.failureString = wireText(message)
            }
            o.linkFailEvent = l
        }
        return o
    }

    /// lnwire's failure name (as `FailCode.String()`).
    static func wireText(_ m: FailureMessage) -> String {
        if m.code == .mppTimeout { return "MPPTimeout" }
        let name = "\(m.code)"
        return name.prefix(1).uppercased() + name.dropFirst()
    }
}

/// One SubscribeHtlcEvents stream: a bounded queue filled from any thread, drained on the call's
/// loop as fast as the client reads.
final class HTLCEventStream: @unchecked Sendable {
    private let writer: ServerStreamWriter
    private let loop: EventLoop
    private let limit: Int
    private let queue = LockedValue<(items: [[UInt8]], ended: Bool, scheduled: Bool)>(([], false, false))
    /// Called once when the stream ends (unsubscribes from the network).
    var onEnd: (@Sendable () -> Void)?

    init(writer: ServerStreamWriter, loop: EventLoop, limit: Int) {
        self.writer = writer
        self.loop = loop
        self.limit = limit
        writer.onReady { [self] in pump() }
    }

    func enqueue(_ bytes: [UInt8]) {
        let (schedule, overflow) = queue.withLock { q -> (Bool, Bool) in
            if q.ended { return (false, false) }
            if q.items.count >= limit {
                q.ended = true
                q.items = []
                return (false, true)
            }
            q.items.append(bytes)
            if q.scheduled { return (false, false) }
            q.scheduled = true
            return (true, false)
        }
        if overflow {
            loop.execute { [self] in
                writer.finish(GRPCStatus(.resourceExhausted, "htlc event subscriber fell more than \(limit) events behind"))
                end()
            }
        } else if schedule {
            loop.execute { [self] in pump() }
        }
    }

    func cancel() {
        queue.withLock { $0.ended = true; $0.items = [] }
        end()
    }

    private func end() {
        let e = onEnd
        onEnd = nil
        e?()
    }

    /// Loop thread.
    private func pump() {
        while writer.isWritable {
            let next = queue.withLock { q -> [UInt8]? in
                if q.items.isEmpty { q.scheduled = false; return nil }
                return q.items.removeFirst()
            }
            guard let next else { return }
            _ = writer.send(next)
        }
        queue.withLock { $0.scheduled = false }
    }
}
