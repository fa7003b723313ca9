import Crypto
import LightningRPC
import PaymentLifecycle
import Payments
import Routing
import RPCCore
import Transport

/// lnrpc's route calls: QueryRoutes (LND rpcserver.go → router_backend.go `QueryRoutes`), and the
/// legacy SendToRouteSync and bidirectional SendToRoute (LND v0.20.3, removed in v0.21.0) with
/// that version's semantics: an HTLC failure is an OK `SendResponse` whose `payment_error` is the
/// forwarding error `<wire failure>@<failure source index>`. Served as a further
/// `lnrpc.Lightning` service definition.
public final class LightningRoutes: RPCService, @unchecked Sendable {
    public let serviceName = "lnrpc.Lightning"
    let router: ChannelRouter
    let marshaller: PaymentMarshaller
    let maxCLTVExpiry: UInt32
    let work: BlockingWork

    public init(router: ChannelRouter, marshaller: PaymentMarshaller, maxCLTVExpiry: UInt32, work: BlockingWork) {
        self.router = router
        self.marshaller = marshaller
        self.maxCLTVExpiry = maxCLTVExpiry
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        [
            "QueryRoutes": RPC.unary(Lnrpc.QueryRoutesRequest.self, work: work) { [self] in try queryRoutes($1) },
            "SendToRouteSync": .unary { [self] _, bytes, responder in sendToRouteSync(bytes, responder) },
            "SendToRoute": .bidiStreaming { [self] context, writer in sendToRouteStream(context, writer) },
        ]
    }

    static func plain(_ text: String) -> GRPCStatus { GRPCStatus(.unknown, text) }

    /// LND `route.NewVertexFromStr`: hex, then 33 bytes.
    static func vertex(hex: String) throws -> NodeID {
        if let e = Hex.decodeFailure(hex) { throw plain(e.description) }
        let bytes = Hex.decode(hex) ?? []
        guard let n = NodeID(bytes: bytes) else { throw plain("invalid vertex length of \(bytes.count), want 33") }
        return n
    }

    static func vertex(bytes: [UInt8]) throws -> NodeID {
        guard let n = NodeID(bytes: bytes) else { throw plain("invalid vertex length of \(bytes.count), want 33") }
        return n
    }

    // MARK: QueryRoutes

    /// One route (and its success probability) in LND's order of checks. `use_mission_control`
    /// false (LND's default) searches by fees and CLTV only; ignored nodes and pairs are left out
    /// of the search (a pair by dropping the channels between the two nodes).
    func queryRoutes(_ r: Lnrpc.QueryRoutesRequest) throws -> Lnrpc.QueryRoutesResponse {
        let me = router.source
        let source = r.sourcePubKey.isEmpty ? me : try Self.vertex(hex: r.sourcePubKey)
        let amount = try SendPaymentRequestParser.amount(sat: r.amt, msat: r.amtMsat)
        let feeLimit = LegacySendRequestParser.feeLimitMsat(r.feeLimit, amountMsat: amount)
        var cltvLimit = r.cltvLimit
        if source == me {
            if cltvLimit > maxCLTVExpiry { throw Self.plain("total time lock of \(cltvLimit) exceeds max allowed \(maxCLTVExpiry)") }
            if cltvLimit == 0 { cltvLimit = maxCLTVExpiry }
        } else if cltvLimit == 0 {
            cltvLimit = .max
        }
        if !r.blindedPaymentPaths.isEmpty { throw Self.plain("parse blinded payment: blinded paths are not supported") }
        let target = try Self.vertex(hex: r.pubKey)
        let hints = try SendPaymentRequestParser.routeHints(r.routeHints)
        let finalDelta = r.finalCltvDelta != 0 ? UInt32(clamping: r.finalCltvDelta) : SendPaymentRequestParser.defaultFinalCLTVDelta
        if cltvLimit <= finalDelta { throw Self.plain("cltv limit \(cltvLimit) should be greater than \(finalDelta)") }
        let graph = router.currentGraph()
        var excluded = Set<ShortChannelID>()
        for n in r.ignoredNodes {
            let node = try Self.vertex(bytes: n)
            for e in graph.channels(of: node) { excluded.insert(e.shortChannelID) }
        }
        for p in r.ignoredPairs {
            let from = try Self.vertex(bytes: p.from), to = try Self.vertex(bytes: p.to)
            for e in graph.channels(of: from) where e.peer(of: from) == to { excluded.insert(e.shortChannelID) }
        }
        for e in r.ignoredEdges where graph.channel(ShortChannelID(rawValue: e.channelId)) != nil {
            excluded.insert(ShortChannelID(rawValue: e.channelId))
        }
        let lastHop = r.lastHopPubkey.isEmpty ? nil : try Self.vertex(bytes: r.lastHopPubkey)
        for key in r.destCustomRecords.keys where key < SendPaymentRequestParser.customTypeStart {
            throw Self.plain("no custom records with types below \(SendPaymentRequestParser.customTypeStart) allowed")
        }
        if r.timePref < -1 || r.timePref > 1 { throw Self.plain("time preference out of range") }
        let request = RouteRequest(source: source, target: target, amountMsat: amount, finalCLTVDelta: finalDelta,
                                   currentHeight: router.currentHeight, feeLimitMsat: feeLimit, cltvLimit: cltvLimit,
                                   routeHints: hints, outgoingChanIDs: Set(r.outgoingChanIds.map(ShortChannelID.init(rawValue:))),
                                   lastHopPubKey: lastHop, destCustomRecords: r.destCustomRecords, excludedChannels: excluded)
        let found: (route: Routing.SourceRoute, probability: Double)
        do { found = try router.findRoute(request, useMissionControl: r.useMissionControl) } catch {
            throw Self.plain(RouterRoutes.findRouteText(error))
        }
        var out = Lnrpc.QueryRoutesResponse()
        out.routes = [marshaller.route(RouteConversion.route(found.route))]
        out.successProb = found.probability
        return out
    }

    // MARK: Legacy SendToRouteSync / SendToRoute

    /// lnwire's `FailureMessage.Error()` for the failures the simulated network produces, then
    /// htlcswitch's `ForwardingError.Error()` form `<failure>@<source index>`. Failures that carry
    /// a channel_update are shown by name only (LND appends a spew dump of the update).
    static func forwardingError(_ f: Payments.HTLCFailInfo) -> String {
        guard let m = f.message else { return "unreadable failure message" }
        var text: String
        switch m.code {
        case .incorrectOrUnknownPaymentDetails:
            text = "IncorrectOrUnknownPaymentDetails(amt=\(m.htlcMsat) mSAT, height=\(m.height))"
        case .mppTimeout:
            text = "MPPTimeout"
        default:
            let name = "\(m.code)"
            text = name.prefix(1).uppercased() + name.dropFirst()
        }
        return "\(text)@\(f.failureSourceIndex)"
    }

    struct LegacyRoute {
        let route: Routing.SourceRoute
        let hash: [UInt8]
        let rpcRoute: Lnrpc.Route
    }

    /// `unmarshallSendToRouteRequest`: `noRoute` is LND's text for a missing route, which differs
    /// between the unary call (plural) and the stream (singular).
    func legacyRoute(_ r: Lnrpc.SendToRouteRequest, noRoute: String) throws -> LegacyRoute {
        guard let rpcRoute = r.route else { throw Self.plain(noRoute) }
        let route = try RouteUnmarshaller(source: router.source, graph: router.currentGraph()).route(rpcRoute)
        let hash = try LegacySendRequestParser.paymentHash(string: r.paymentHashString, bytes: r.paymentHash)
        return LegacyRoute(route: route, hash: hash, rpcRoute: rpcRoute)
    }

    /// Sends one legacy route and replies with LND v0.20's SendResponse.
    func run(_ l: LegacyRoute, done: @escaping @Sendable (Lnrpc.SendResponse) -> Void) {
        guard let hash = PaymentHash(l.hash) else { return }
        router.sendToRoute(l.route, paymentHash: hash, skipTempErr: false) { [marshaller] result in
            var out = Lnrpc.SendResponse()
            out.paymentHash = l.hash
            switch result {
            case .failure(let e):
                out.paymentError = "\(e)"
            case .success(let attempt):
                if let settle = attempt.settle {
                    out.paymentPreimage = settle.preimage.bytes
                    // LND returns the request's route re-marshalled, sat fields recomputed.
                    out.paymentRoute = marshaller.route(RouteConversion.route(l.route))
                } else if let failure = attempt.failure {
                    out.paymentError = Self.forwardingError(failure)
                }
            }
            done(out)
        }
    }

    func sendToRouteSync(_ bytes: [UInt8], _ responder: UnaryResponder) {
        let r: Lnrpc.SendToRouteRequest
        do { r = try RPC.decode(bytes) } catch { responder.fail(RPC.status(error)); return }
        let accepted = work.submit { [self] in
            let l: LegacyRoute
            do { l = try legacyRoute(r, noRoute: "unable to send, no routes provided") } catch { return responder.fail(RPC.status(error)) }
            run(l) { responder.respond($0.serializedBytes()) }
        }
        if !accepted { responder.fail(BlockingWork.busy) }
    }

    /// Bidirectional SendToRoute: a request whose route does not unmarshal ends the whole stream
    /// with that error (LND decodes inside its receive loop); otherwise as bidi SendPayment.
    func sendToRouteStream(_ context: ServerCallContext, _ writer: ServerStreamWriter) -> BidiRequestHandler {
        let stream = LegacyReplyStream(writer: writer, loop: context.eventLoop)
        return BidiRequestHandler(onMessage: { [self] bytes in
            let l: LegacyRoute
            do {
                let r: Lnrpc.SendToRouteRequest = try RPC.decode(bytes)
                l = try legacyRoute(r, noRoute: "unable to send, no route provided")
            } catch { return stream.fail(RPC.status(error)) }
            guard stream.begin(limit: LegacyLightningPayments.maxPaymentsPerStream) else {
                return stream.fail(GRPCStatus(.resourceExhausted,
                    "too many payments in flight on this stream (limit \(LegacyLightningPayments.maxPaymentsPerStream))"))
            }
            let accepted = work.submit { [self] in run(l) { stream.complete($0.serializedBytes()) } }
            if !accepted { stream.fail(BlockingWork.busy) }
        }, onEnd: { stream.endOfRequests() })
    }
}
