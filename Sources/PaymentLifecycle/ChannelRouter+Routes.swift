import Payments
import Routing
import Simnet

/// Route queries and route sending on a node's router (LND `ChannelRouter.FindRoute`,
/// `BuildRoute`, `SendToRoute`), for QueryRoutes, EstimateRouteFee, BuildRoute, SendToRouteV2
/// and the legacy SendToRoute calls.
extension ChannelRouter {
    /// The node's current block height on the simulated chain.
    public var currentHeight: UInt32 { network.blockHeight }

    /// The router's mission control (QueryMissionControl, ResetMissionControl, QueryProbability).
    public var missionControl: MissionControl { router.missionControl }

    /// The graph routes are searched in: what gossip tells this node now.
    public func currentGraph() -> ChannelGraph {
        router.updateGraph { $0 = network.publicGraph() }
        return router.graph
    }

    /// LND `FindRoute`: one route for `request`, with mission control's probabilities or (LND's
    /// QueryRoutes default) without them, and the route's success probability (1 without
    /// mission control). When this node is the source, its channels' real spendable balances
    /// bound the first hop.
    public func findRoute(_ request: RouteRequest, useMissionControl: Bool) throws(NoRouteReason) -> (route: Routing.SourceRoute, probability: Double) {
        var r = request
        if r.source == source && r.localBandwidthMsat == nil { r.localBandwidthMsat = network.localBandwidth(of: source) }
        let graph = currentGraph()
        let snapshot = useMissionControl ? router.missionControl.snapshot() : .empty
        let route = try PathFinder.findRoute(in: graph, request: r, missionControl: snapshot, config: router.config)
        return (route, useMissionControl ? Self.successProbability(route, graph: graph, snapshot: snapshot) : 1)
    }

    /// The product of the pair probabilities mission control gives the route's hops after the
    /// first (the source knows its own channels' balances, as LND's pathfinding assumes).
    public static func successProbability(_ route: Routing.SourceRoute, graph: ChannelGraph, snapshot: MissionControl.Snapshot) -> Double {
        var p = 1.0
        for i in 1..<max(1, route.hops.count) {
            guard let from = route.node(atSourceIndex: i) else { continue }
            p *= pairProbability(from: from, to: route.hops[i].pubKey, amountMsat: route.incomingAmountMsat(ofHop: i),
                                 capacityMsat: graph.channel(route.hops[i].chanID)?.capacityMsat ?? .max, snapshot: snapshot)
        }
        return p
    }

    /// Mission control's probability that `from` forwards `amountMsat` to `to` over a channel of
    /// `capacityMsat` (LND `MissionControl.GetProbability`).
    public static func pairProbability(from: NodeID, to: NodeID, amountMsat: UInt64, capacityMsat: UInt64,
                                       snapshot: MissionControl.Snapshot) -> Double {
        let results = snapshot.pairs[from] ?? [:]
        var byPeer: [Int32: ProbabilityEstimator.PairResult] = [:]
        for (i, r) in results.values.enumerated() { byPeer[Int32(i)] = r }
        let node = snapshot.estimator.nodeProbability(results: byPeer, amountMsat: amountMsat, capacityMsat: capacityMsat,
                                                      now: snapshot.now)
        return snapshot.estimator.pairProbability(nodeProbability: node, result: results[to], amountMsat: amountMsat,
                                                  now: snapshot.now)
    }

    /// Why `buildRoute` cannot build a route (LND's texts).
    public enum BuildRouteError: Error, Equatable, CustomStringConvertible {
        /// No usable channel from hop `index − 1` to hop `index` (index 0: from this node).
        case noMatchingChannel(index: Int)
        public var description: String {
            switch self {
            case .noMatchingChannel(let i): return "no matching outgoing channel available for node index \(i)"
            }
        }
    }

    /// LND `BuildRoute`: a route through exactly `hops` (this node first, implicitly), over the
    /// enabled channel between each pair that can carry the amount with the lowest fee
    /// (`outgoingChanID` restricts the first one). `amountMsat` nil → the smallest amount every
    /// hop's `htlc_minimum_msat` admits (the largest minimum on the path, at least 1 msat).
    /// Expiries start at the current height + `finalCLTVDelta`.
    public func buildRoute(hops: [NodeID], amountMsat: UInt64?, finalCLTVDelta: UInt32, outgoingChanID: ShortChannelID?,
                           paymentAddr: [UInt8]?) throws(BuildRouteError) -> Routing.SourceRoute {
        let graph = currentGraph()
        let nodes = [source] + hops
        var chosen: [(edge: ChannelEdge, policy: RoutingPolicy)] = []
        // Without an amount: a first pass picks channels by fee alone, then the amount becomes the
        // largest htlc_minimum_msat on them and a second pass checks every hop admits it.
        var amount = amountMsat ?? 1
        for pass in 0..<2 {
            chosen = []
            for i in 1..<nodes.count {
                let from = nodes[i - 1], to = nodes[i]
                let candidates = graph.channels(of: from).compactMap { e -> (ChannelEdge, RoutingPolicy)? in
                    guard e.peer(of: from) == to, let p = e.policy(from: from), !p.disabled else { return nil }
                    if i == 1, let o = outgoingChanID, e.shortChannelID != o { return nil }
                    if amountMsat != nil || pass == 1 {
                        guard amount >= p.minHTLCMsat, amount <= p.maxHTLCMsat, amount <= e.capacityMsat else { return nil }
                    }
                    return (e, p)
                }
                guard let best = candidates.min(by: { $0.1.fee(forwarding: amount) < $1.1.fee(forwarding: amount) }) else {
                    throw .noMatchingChannel(index: i - 1)
                }
                chosen.append(best)
            }
            if amountMsat != nil { break }
            amount = max(1, chosen.map(\.policy.minHTLCMsat).max() ?? 1)
        }
        let segments = zip(hops, chosen).map { node, c in
            SourceRoute.Segment(node: node, chanID: c.edge.shortChannelID, policy: c.policy, capacitySat: c.edge.capacitySat)
        }
        return SourceRoute.build(source: source, segments: segments, amountMsat: amount, finalCLTVDelta: finalCLTVDelta,
                           currentHeight: network.blockHeight,
                           mppRecord: paymentAddr.map { PaymentData(paymentAddr: $0, totalAmountMsat: amount) })!
    }

    /// LND `SendToRoute` (routerrpc SendToRouteV2 and the legacy calls): InitPayment for `hash`
    /// (an MPP shard may join a payment already in flight), register one attempt over `route`,
    /// send it, record the outcome, and call `completion` with the resolved attempt — after the
    /// HTLC resolves, however long a hold invoice holds it. A failed HTLC fails the payment with
    /// reason ERROR unless `skipTempErr` (then only failures mission control finds terminal do).
    /// Errors before an attempt exists are returned as `.failure`.
    public func sendToRoute(_ route: Routing.SourceRoute, paymentHash hash: PaymentHash, skipTempErr: Bool,
                            firstHopCustomRecords: [UInt64: [UInt8]] = [:],
                            completion: @escaping @Sendable (Result<HTLCAttempt, PaymentError>) -> Void) {
        let final = route.hops.last
        let isShard = final?.mppRecord != nil
        let value = final?.mppRecord?.totalAmountMsat ?? route.receiverAmountMsat
        let info = PaymentCreationInfo(paymentIdentifier: hash, valueMsat: Int64(value), creationTimeNs: unixNanosNow(),
                                       paymentRequest: [], firstHopCustomRecords: firstHopCustomRecords)
        do { _ = try control.initPayment(info) } catch {
            if !(isShard && (error == .inTransition || error == .alreadyExists)) { return completion(.failure(error)) }
        }
        let attemptID = allocateAttemptID()
        let attempt = HTLCAttemptInfo(attemptID: attemptID, route: RouteConversion.route(route), attemptTimeNs: unixNanosNow())
        do { _ = try control.registerAttempt(hash, attempt) } catch { return completion(.failure(error)) }
        network.send(route: route, paymentHash: hash.bytes) { [self] result in
            let now = unixNanosNow()
            var snapshot: PaymentSnapshot?
            switch result {
            case .settled(let preimage):
                router.reportSuccess(route: route)
                if let p = Preimage(preimage) {
                    snapshot = try? control.settleAttempt(hash, attemptID: attemptID, HTLCSettle(preimage: p, settleTimeNs: now))
                }
            case .failed(let failure):
                let outcome = router.reportFailure(route: route, failure: failure)
                snapshot = try? control.failAttempt(hash, attemptID: attemptID, RouteConversion.failure(failure, timeNs: now))
                let terminal: Bool
                if case .terminal = outcome { terminal = true } else { terminal = false }
                if (!skipTempErr || terminal), snapshot?.failureReason == nil {
                    snapshot = (try? control.failPayment(hash, reason: .error)) ?? snapshot
                }
            }
            guard let done = snapshot?.attempts.first(where: { $0.attemptID == attemptID }) ?? (try? control.fetchPayment(hash))?
                .attempts.first(where: { $0.attemptID == attemptID }) else {
                return completion(.failure(.htlcNotRegistered(attemptID)))
            }
            completion(.success(done))
        }
    }
}
