import BOLT11
import Crypto
import Foundation
import LightningRPC
import PaymentLifecycle
import Payments
import Routing
import RPCCore

/// routerrpc's route and mission-control calls (LND routerrpc/router_server.go): EstimateRouteFee,
/// SendToRouteV2, BuildRoute, QueryMissionControl, ResetMissionControl, QueryProbability, and the
/// legacy v1 SendToRoute (LND <= 0.20), over the node's real mission control and the simulated
/// network. Served as a further `routerrpc.Router` service definition.
public final class RouterRoutes: RPCService, @unchecked Sendable {
    public let serviceName = "routerrpc.Router"
    let router: ChannelRouter
    let tower: ControlTower
    let marshaller: PaymentMarshaller
    let sender: PaymentSending
    let currency: Currency
    let maxCLTVExpiry: UInt32
    let work: BlockingWork

    /// LND `routeFeeLimitSat` (100,000,000), used as msat in graph mode and as sat for the probe.
    static let routeFeeLimit: Int64 = 100_000_000
    /// LND `routing.BlockPadding`.
    static let blockPadding: UInt32 = 3

    public init(router: ChannelRouter, tower: ControlTower, marshaller: PaymentMarshaller, sender: PaymentSending,
                currency: Currency, maxCLTVExpiry: UInt32, work: BlockingWork) {
        self.router = router
        self.tower = tower
        self.marshaller = marshaller
        self.sender = sender
        self.currency = currency
        self.maxCLTVExpiry = maxCLTVExpiry
        self.work = work
    }

    public var shutdownStatus: GRPCStatus { RouterService.shuttingDown }

    public var methods: [String: RPCHandler] {
        [
            "EstimateRouteFee": .unary { [self] context, bytes, responder in estimateRouteFee(context, bytes, responder) },
            "SendToRouteV2": .unary { [self] _, bytes, responder in
                sendToRoute(bytes, responder) { $0.serializedBytes() }
            },
            "SendToRoute": .unary { [self] _, bytes, responder in
                sendToRoute(bytes, responder) { attempt in
                    // v1 (LND <= 0.20): an HTLC failure is an OK response carrying the failure.
                    var out = Routerrpc.SendToRouteResponse()
                    out.preimage = attempt.preimage
                    out.failure = attempt.failure
                    return out.serializedBytes()
                }
            },
            "BuildRoute": RPC.unary(Routerrpc.BuildRouteRequest.self, work: work) { [self] in try buildRoute($1) },
            "QueryMissionControl": RPC.unary(Routerrpc.QueryMissionControlRequest.self, work: work) { [self] _, _ in queryMissionControl() },
            "ResetMissionControl": RPC.unary(Routerrpc.ResetMissionControlRequest.self, work: work) { [self] _, _ in
                router.missionControl.reset()
                return Routerrpc.ResetMissionControlResponse()
            },
            "QueryProbability": RPC.unary(Routerrpc.QueryProbabilityRequest.self, work: work) { [self] in try queryProbability($1) },
        ]
    }

    static func plain(_ text: String) -> GRPCStatus { GRPCStatus(.unknown, text) }

    /// LND's `FindRoute` error texts for a pathfinding failure.
    static func findRouteText(_ r: NoRouteReason) -> String {
        switch r.lndFailureReason {
        case .insufficientBalance: return "insufficient local balance"
        case .noRoute, .error: return "unable to find a path to destination"
        }
    }

    // MARK: EstimateRouteFee

    func estimateRouteFee(_ context: ServerCallContext, _ bytes: [UInt8], _ responder: UnaryResponder) {
        let r: Routerrpc.RouteFeeRequest
        do { r = try RPC.decode(bytes) } catch { responder.fail(RPC.status(error)); return }
        let accepted = work.submit { [self] in
            if r.dest.isEmpty == r.paymentRequest.isEmpty {
                return responder.fail(Self.plain("specify either a destination or an invoice"))
            }
            if !r.dest.isEmpty {
                do { responder.respond(try estimateByDestination(r).serializedBytes()) } catch { responder.fail(RPC.status(error)) }
                return
            }
            probe(r, context: context) { result in
                switch result {
                case .success(let out): responder.respond(out.serializedBytes())
                case .failure(let status): responder.fail(status)
                }
            }
        }
        if !accepted { responder.fail(BlockingWork.busy) }
    }

    /// Graph mode: a local route search (no HTLC), fee limit 100,000,000 msat; `time_lock_delay`
    /// is the route's absolute time lock + 3 (LND's arithmetic, despite the field's name).
    func estimateByDestination(_ r: Routerrpc.RouteFeeRequest) throws -> Routerrpc.RouteFeeResponse {
        guard let dest = NodeID(bytes: r.dest) else { throw Self.plain("invalid length destination key") }
        if r.amtSat <= 0 { throw Self.plain("amount must be greater than 0") }
        let request = RouteRequest(source: router.source, target: dest, amountMsat: UInt64(r.amtSat) * 1000,
                                   finalCLTVDelta: SendPaymentRequestParser.defaultFinalCLTVDelta,
                                   currentHeight: router.currentHeight, feeLimitMsat: UInt64(Self.routeFeeLimit),
                                   cltvLimit: maxCLTVExpiry,
                                   outgoingChanIDs: Set(r.outgoingChanIds.map(ShortChannelID.init(rawValue:))))
        let route: Routing.SourceRoute
        do { route = try router.findRoute(request, useMissionControl: true).route } catch {
            throw Self.plain(Self.findRouteText(error))
        }
        var out = Routerrpc.RouteFeeResponse()
        out.routingFeeMsat = Int64(route.totalFeesMsat)
        out.timeLockDelay = Int64(route.totalTimeLock + Self.blockPadding)
        out.failureReason = .failureReasonNone
        return out
    }

    /// Probe mode: a real single-part payment to the invoice's destination with a random hash
    /// (so it can only fail at the destination, with INCORRECT_PAYMENT_DETAILS, which means the
    /// route works). It is recorded like any payment. LND's LSP heuristic (probing the last hop of
    /// a route hint instead of an unknown destination) is not applied: every destination of the
    /// simulated network is in its graph or reachable through its hints.
    func probe(_ r: Routerrpc.RouteFeeRequest, context: ServerCallContext,
               done: @escaping @Sendable (Result<Routerrpc.RouteFeeResponse, GRPCStatus>) -> Void) {
        let invoice: Bolt11Invoice
        do { invoice = try Bolt11Invoice.decode(r.paymentRequest) } catch { return done(.failure(Self.plain("\(error)"))) }
        guard let amount = invoice.amountMsat, amount > 0 else {
            return done(.failure(Self.plain("payment request amount must be greater than 0")))
        }
        var p = Routerrpc.SendPaymentRequest()
        p.dest = invoice.payee.compressed
        p.amtMsat = Int64(amount)
        p.paymentHash = SecureRandom.bytes(32)
        p.timeoutSeconds = Int32(clamping: r.timeout)
        p.feeLimitSat = Self.routeFeeLimit
        p.finalCltvDelta = Int32(clamping: invoice.minFinalCLTVExpiry)
        p.maxParts = 1
        p.paymentAddr = invoice.paymentSecret ?? []
        p.outgoingChanIds = r.outgoingChanIds
        p.routeHints = invoice.routeHints.map(InvoiceMarshaller.routeHint)
        let payment: PreparedPayment
        do { payment = try sender.prepare(p, context: context) } catch { return done(.failure(RPC.status(error))) }
        do {
            try TerminalPaymentWaiter.wait(tower: tower, hash: payment.hash) { s in done(Self.probeResult(s)) }
        } catch {
            return done(.failure(RPC.status(error)))
        }
        payment.start()
    }

    /// LND `sendProbePayment`'s reading of the probe's terminal state.
    static func probeResult(_ s: PaymentSnapshot) -> Result<Routerrpc.RouteFeeResponse, GRPCStatus> {
        var out = Routerrpc.RouteFeeResponse()
        if s.status == .succeeded {
            return .failure(plain("warning, the fee estimation payment probe unexpectedly succeeded. Please reachout to "
                + "the probe destination to negotiate a refund. Otherwise the payment probe amount is lost forever"))
        }
        guard s.failureReason == .incorrectPaymentDetails else {
            out.failureReason = Lnrpc.PaymentFailureReason(rawValue: s.failureReason?.rpcValue ?? 0)
            return .success(out)
        }
        out.failureReason = .failureReasonNone
        guard let last = s.attempts.last else { return .success(out) }
        if Int(last.failure?.failureSourceIndex ?? 0) != last.route.hops.count { return .failure(plain("unexpected failure source")) }
        out.routingFeeMsat = last.route.totalFeesMsat
        out.timeLockDelay = Int64(last.route.totalTimeLock)
        return .success(out)
    }

    // MARK: SendToRouteV2 / SendToRoute (v1)

    func sendToRoute(_ bytes: [UInt8], _ responder: UnaryResponder, encode: @escaping @Sendable (Lnrpc.HTLCAttempt) -> [UInt8]) {
        let r: Routerrpc.SendToRouteRequest
        do { r = try RPC.decode(bytes) } catch { responder.fail(RPC.status(error)); return }
        let accepted = work.submit { [self] in
            let route: Routing.SourceRoute
            let hash: PaymentHash
            do {
                guard let rpcRoute = r.route else { throw Self.plain("unable to send, no routes provided") }
                route = try RouteUnmarshaller(source: router.source, graph: router.currentGraph()).route(rpcRoute)
                guard let h = PaymentHash(r.paymentHash) else {
                    throw Self.plain("invalid hash length of \(r.paymentHash.count), want 32")
                }
                hash = h
                try RouteUnmarshaller.validateFirstHopRecords(r.firstHopCustomRecords)
                if r.skipTempErr && route.hops.last?.mppRecord == nil { throw Self.plain("cannot skip temp error for non-MPP") }
            } catch { return responder.fail(RPC.status(error)) }
            router.sendToRoute(route, paymentHash: hash, skipTempErr: r.skipTempErr,
                               firstHopCustomRecords: r.firstHopCustomRecords) { [marshaller] result in
                switch result {
                case .success(let attempt): responder.respond(encode(marshaller.htlcAttempt(attempt)))
                case .failure(let error): responder.fail(RPC.status(error))
                }
            }
        }
        if !accepted { responder.fail(BlockingWork.busy) }
    }

    // MARK: BuildRoute

    func buildRoute(_ r: Routerrpc.BuildRouteRequest) throws -> Routerrpc.BuildRouteResponse {
        if r.hopPubkeys.isEmpty { throw Self.plain("no hops specified") }
        var hops: [NodeID] = []
        for k in r.hopPubkeys {
            guard let n = NodeID(bytes: k) else { throw Self.plain("invalid vertex length of \(k.count), want 33") }
            hops.append(n)
        }
        try RouteUnmarshaller.validateFirstHopRecords(r.firstHopCustomRecords)
        let route: Routing.SourceRoute
        do {
            route = try router.buildRoute(
                hops: hops, amountMsat: r.amtMsat > 0 ? UInt64(r.amtMsat) : nil,
                finalCLTVDelta: r.finalCltvDelta > 0 ? UInt32(r.finalCltvDelta) : SendPaymentRequestParser.defaultFinalCLTVDelta,
                outgoingChanID: r.outgoingChanId == 0 ? nil : ShortChannelID(rawValue: r.outgoingChanId),
                paymentAddr: r.paymentAddr.isEmpty ? nil : r.paymentAddr)
        } catch { throw Self.plain(error.description) }
        var out = Routerrpc.BuildRouteResponse()
        out.route = marshaller.route(RouteConversion.route(route))
        return out
    }

    // MARK: Mission control

    static func pairData(_ r: ProbabilityEstimator.PairResult?) -> Routerrpc.PairData {
        var d = Routerrpc.PairData()
        guard let r else { return d }
        if let t = r.failTime {
            d.failTime = Int64(t)
            d.failAmtMsat = Int64(clamping: r.failAmtMsat)
            d.failAmtSat = d.failAmtMsat / 1000
        }
        if let t = r.successTime {
            d.successTime = Int64(t)
            d.successAmtMsat = Int64(clamping: r.successAmtMsat)
            d.successAmtSat = d.successAmtMsat / 1000
        }
        return d
    }

    /// Every pair with a result (order unspecified, as LND's map order).
    func queryMissionControl() -> Routerrpc.QueryMissionControlResponse {
        var out = Routerrpc.QueryMissionControlResponse()
        for (from, results) in router.missionControl.snapshot().pairs {
            for (to, result) in results {
                var h = Routerrpc.PairHistory()
                h.nodeFrom = from.bytes
                h.nodeTo = to.bytes
                h.history = Self.pairData(result)
                out.pairs.append(h)
            }
        }
        return out
    }

    /// Mission control's probability for `from → to` at `amt_msat` over their channel; 0 (no
    /// error) when no channel between them admits the amount.
    func queryProbability(_ r: Routerrpc.QueryProbabilityRequest) throws -> Routerrpc.QueryProbabilityResponse {
        guard let from = NodeID(bytes: r.fromNode) else { throw Self.plain("invalid vertex length of \(r.fromNode.count), want 33") }
        guard let to = NodeID(bytes: r.toNode) else { throw Self.plain("invalid vertex length of \(r.toNode.count), want 33") }
        let amount = UInt64(clamping: r.amtMsat)
        let capacity = router.currentGraph().channels(of: from).compactMap { e -> UInt64? in
            guard e.peer(of: from) == to, let p = e.policy(from: from), amount >= p.minHTLCMsat, amount <= p.maxHTLCMsat else { return nil }
            return e.capacityMsat
        }.max()
        let snapshot = router.missionControl.snapshot()
        var out = Routerrpc.QueryProbabilityResponse()
        if let capacity {
            out.probability = ChannelRouter.pairProbability(from: from, to: to, amountMsat: amount, capacityMsat: capacity,
                                                            snapshot: snapshot)
        }
        out.history = Self.pairData(snapshot.pairs[from]?[to])
        return out
    }
}
