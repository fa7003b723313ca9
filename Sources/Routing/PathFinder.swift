/// LND-style pathfinding (`routing/pathfind.go` `findPath`): Dijkstra from the payee back to the
/// sender, so every relaxation knows exactly how much the next node must receive.
///
/// Cost of a candidate = accumulated fees + CLTV risk (`amount · delta · 15e-9`) +
/// attempt cost / path success probability (mission control). Hard limits prune candidates:
/// fee limit, CLTV limit, hop limit (BOLT 4: 20), min/max HTLC, capacity, disabled policies,
/// local bandwidth, outgoing channel set, last hop, excluded channels.
/// Amounts and expiries of the result come from `SourceRoute.build` (BOLT 7 fee formula, BOLT 4 expiries).
public enum PathFinder {
    /// Finds the cheapest route, or says precisely why there is none.
    public static func findRoute(in graph: ChannelGraph, request: RouteRequest,
                                 missionControl: MissionControl.Snapshot = .empty,
                                 inFlightMsat: [ShortChannelID: UInt64] = [:],
                                 config: PathfindingConfig = PathfindingConfig()) throws(NoRouteReason) -> SourceRoute {
        // LDK `find_route` checks, in LDK's order (komodo §9.1).
        if request.source == request.target { throw .routeToSelf }
        if request.amountMsat > RouteRequest.maxValueMsat { throw .amountExceedsMaximum }
        if request.amountMsat == 0 { throw .zeroAmount }
        if request.routeHints.contains(where: { $0.contains { $0.nodeID == request.target } }) {
            throw .routeHintHasPayeeAsSource
        }
        if request.cltvLimit <= request.finalCLTVDelta {
            throw .cltvLimitBelowFinalDelta(cltvLimit: request.cltvLimit, finalCLTVDelta: request.finalCLTVDelta)
        }
        // LND `getOutgoingBalance`: our usable first hops and what they can send.
        let (usable, total, largest) = outgoingBalance(graph, request)
        if usable == 0 { throw .noOutboundChannels }
        if total < request.amountMsat {
            throw .insufficientLocalBalance(availableMsat: total, requiredMsat: request.amountMsat)
        }
        if largest < request.amountMsat { throw .insufficientLiquidity(amountMsat: request.amountMsat) }

        let search = Search(graph: graph, request: request, missionControl: missionControl,
                            inFlightMsat: inFlightMsat, config: config)
        if search.targetIndex < 0 { throw .targetUnknown }
        if let route = search.run(Search.Limits(request)) { return route }
        throw search.diagnose()
    }

    /// Number of usable first-hop channels, their total and largest spendable amount.
    static func outgoingBalance(_ graph: ChannelGraph, _ r: RouteRequest) -> (Int, UInt64, UInt64) {
        var count = 0, total: UInt64 = 0, largest: UInt64 = 0
        for edge in graph.channels(of: r.source) {
            guard let p = edge.policy(from: r.source), !p.disabled else { continue }
            if !r.outgoingChanIDs.isEmpty && !r.outgoingChanIDs.contains(edge.shortChannelID) { continue }
            if r.excludedChannels.contains(edge.shortChannelID) { continue }
            let bandwidth: UInt64
            if let hints = r.localBandwidthMsat {
                guard let b = hints[edge.shortChannelID] else { continue }
                bandwidth = min(b, p.maxHTLCMsat)
            } else {
                bandwidth = min(edge.capacityMsat, p.maxHTLCMsat)
            }
            count += 1
            total = total &+ bandwidth
            largest = max(largest, bandwidth)
        }
        return (count, total, largest)
    }
}

/// One search over a graph snapshot: dense labels, hint edges, mission-control lookups.
struct Search {
    struct Limits {
        var amountMsat: UInt64
        var feeLimitMsat: UInt64
        var cltvLimit: UInt32
        var useMissionControl = true
        /// Diagnostics only: ignore capacity, HTLC bounds and bandwidth.
        var ignoreLiquidity = false
        /// What the search minimizes: LND's cost, or (diagnostics) total fee or total CLTV.
        var objective = Objective.cost
        enum Objective { case cost, fee, cltv }
        init(_ r: RouteRequest) {
            amountMsat = r.amountMsat
            feeLimitMsat = r.feeLimitMsat
            cltvLimit = r.cltvLimit
        }
    }

    /// A hint (private) edge into a node.
    struct ExtraEdge {
        var from: Int32
        var hint: RouteHintHop
        var policy: DensePolicy
    }

    struct Label {
        var dist = Double.infinity
        /// Heap key: `dist` plus an admissible estimate of the cost still to come (A*).
        var key = Double.infinity
        var weight: Double = 0
        var amount: UInt64 = 0
        var cltv: UInt32 = 0
        var probability: Double = 0
        var next: Int32 = -1
        /// Channel index, or `-(k + 1)` for extra edge k of `next`.
        var edge: Int32 = 0
        var hops: Int32 = 0
    }

    let graph: ChannelGraph
    let request: RouteRequest
    let config: PathfindingConfig
    let mc: MissionControl.Snapshot
    var sourceIndex: Int32 = -1
    var targetIndex: Int32 = -1
    var lastHopIndex: Int32 = -2
    /// Node ids of indices ≥ graph.nodeCount (hint nodes and a payee not in the graph).
    var extraNodes: [NodeID] = []
    var extraIn: [Int32: [ExtraEdge]] = [:]
    var mcByNode: [Int32: [Int32: ProbabilityEstimator.PairResult]] = [:]
    var inFlight: [Int32: UInt64] = [:]
    var nodeCount: Int

    init(graph: ChannelGraph, request: RouteRequest, missionControl: MissionControl.Snapshot,
         inFlightMsat: [ShortChannelID: UInt64], config: PathfindingConfig) {
        self.graph = graph
        self.request = request
        self.config = config
        self.mc = missionControl
        nodeCount = graph.nodeCount
        sourceIndex = graph.nodeIndex[request.source] ?? -1
        for hint in request.routeHints where !hint.isEmpty {
            for (i, h) in hint.enumerated() {
                let from = index(of: h.nodeID, adding: true)
                let to = index(of: i + 1 < hint.count ? hint[i + 1].nodeID : request.target, adding: true)
                extraIn[to, default: []].append(ExtraEdge(from: from, hint: h, policy: DensePolicy(h.policy)))
            }
        }
        targetIndex = index(of: request.target, adding: false)
        if let last = request.lastHopPubKey { lastHopIndex = index(of: last, adding: false) }
        for (from, results) in missionControl.pairs {
            let f = index(of: from, adding: false)
            guard f >= 0 else { continue }
            var byIndex: [Int32: ProbabilityEstimator.PairResult] = [:]
            for (to, r) in results {
                // Unknown peers (including the node-failure sentinel) still weigh in the node
                // probability; give them distinct negative keys.
                let t = index(of: to, adding: false)
                byIndex[t >= 0 ? t : Int32(-2 - byIndex.count)] = r
            }
            mcByNode[f] = byIndex
        }
        for (scid, amt) in inFlightMsat {
            if let c = graph.channelIndex[scid] { inFlight[c] = amt }
        }
    }

    /// Dense index of a node; with `adding`, nodes outside the graph get extra indices.
    mutating func index(of id: NodeID, adding: Bool) -> Int32 {
        if let i = graph.nodeIndex[id] { return i }
        if let k = extraNodes.firstIndex(of: id) { return Int32(graph.nodeCount + k) }
        guard adding else { return -1 }
        extraNodes.append(id)
        nodeCount += 1
        return Int32(nodeCount - 1)
    }

    func nodeID(_ i: Int32) -> NodeID {
        Int(i) < graph.nodeCount ? graph.nodes[Int(i)].id : extraNodes[Int(i) - graph.nodeCount]
    }

    /// Dijkstra from the target; returns the route if the source is reached.
    func run(_ limits: Limits) -> SourceRoute? {
        guard sourceIndex >= 0, targetIndex >= 0 else { return nil }
        // Raw storage: a nested function capturing a `var` array would box it and pay dynamic
        // exclusivity checks on every access in the hot loop.
        let labels = UnsafeMutablePointer<Label>.allocate(capacity: nodeCount)
        labels.initialize(repeating: Label(), count: nodeCount)
        let settled = UnsafeMutablePointer<Bool>.allocate(capacity: nodeCount)
        settled.initialize(repeating: false, count: nodeCount)
        defer {
            labels.deinitialize(count: nodeCount); labels.deallocate()
            settled.deinitialize(count: nodeCount); settled.deallocate()
        }
        var heap = MinHeap(capacity: 1024)
        // A* on LND's cost: a node h hops (at least) from the source still has h − 1 forwarding
        // edges to cross, each succeeding with probability ≤ pMax, so its final cost is at least
        // weight + attemptCost / (probability · pMax^(h−1)). Hop counts come from a BFS from the
        // source over all channels (a lower bound), which also rules out nodes that cannot reach
        // the source at all. Hint-only nodes get no estimate.
        let useHeuristic = config.useAStar && limits.objective == .cost && limits.useMissionControl
        let hopsToSource = UnsafeMutablePointer<UInt8>.allocate(capacity: nodeCount)
        defer { hopsToSource.deallocate() }
        hopsToSource.initialize(repeating: useHeuristic ? 255 : 0, count: nodeCount)
        if useHeuristic {
            for i in graph.nodeCount..<nodeCount { hopsToSource[i] = 0 }
            graph.hopCounts(from: sourceIndex).withUnsafeBufferPointer {
                hopsToSource.update(from: $0.baseAddress!, count: graph.nodeCount)
            }
        }
        let pMax = mc.pairs.isEmpty ? mc.estimator.aprioriHopProbability
            : max(mc.estimator.aprioriHopProbability, mc.estimator.prevSuccessProbability)
        var pMaxPower = [Double](repeating: 1, count: 256)
        for h in 2..<256 { pMaxPower[h] = pMaxPower[h - 1] * pMax }
        let amount = limits.amountMsat
        let attemptCost = Double(config.attemptCostMsat) + Double(amount) * Double(config.attemptCostPPM) / 1e6
        let risk = Double(config.riskFactorBillionths) / 1e9
        let minProbability = limits.useMissionControl ? config.minProbability : 0
        let estimator = mc.estimator
        let source = sourceIndex, target = targetIndex
        let restrictOutgoing = !request.outgoingChanIDs.isEmpty
        let excluded = request.excludedChannels
        let bandwidthHints = request.localBandwidthMsat
        let maxHops = Int32(request.maxHops)
        labels[Int(target)] = Label(dist: 0, key: 0, weight: 0, amount: amount, cltv: request.finalCLTVDelta,
                                    probability: 1, next: -1, edge: 0, hops: 0)
        heap.push(0, target)

        graph.densePolicies.withUnsafeBufferPointer { policies in
        graph.capacitiesMsat.withUnsafeBufferPointer { capacities in
        graph.usable.withUnsafeBufferPointer { usable in
        pMaxPower.withUnsafeBufferPointer { pMaxPower in
            // Relaxes the edge u → v (u forwards over it with policy p).
            /// Relaxes u → v; returns the new distance of u if it improved.
            func relax(_ u: Int32, _ v: Int32, _ lv: Label, _ p: DensePolicy, capacity: UInt64, channel: Int32,
                       edgeRef: Int32, scid: () -> ShortChannelID) -> Double? {
                if !p.usable { return nil }
                if v == target && lastHopIndex != -2 && u != lastHopIndex { return nil }
                let hops = lv.hops + 1
                if hops > maxHops { return nil }
                let amountToSend = lv.amount
                let isLocal = u == source
                if isLocal || !excluded.isEmpty || restrictOutgoing {
                    if !excluded.isEmpty && excluded.contains(scid()) { return nil }
                    if isLocal && restrictOutgoing && !request.outgoingChanIDs.contains(scid()) { return nil }
                }
                if !limits.ignoreLiquidity {
                    if amountToSend < p.minHTLCMsat || amountToSend > p.maxHTLCMsat { return nil }
                    if isLocal, let hints = bandwidthHints {
                        guard let b = hints[scid()], b >= amountToSend else { return nil }
                    } else {
                        var available = capacity
                        if channel >= 0, !inFlight.isEmpty, let used = inFlight[channel] {
                            available = available > used ? available - used : 0
                        }
                        if amountToSend > available { return nil }
                    }
                }
                let fee: UInt64 = isLocal ? 0 : p.fee(forwarding: amountToSend)
                let (amountToReceive, overflow) = amountToSend.addingReportingOverflow(fee)
                if overflow { return nil }
                if amountToReceive - amount > limits.feeLimitMsat { return nil }
                let delta: UInt32 = isLocal ? 0 : p.timeLockDelta
                let cltv = lv.cltv &+ delta
                if cltv > limits.cltvLimit { return nil }
                var edgeProbability = 1.0
                if !isLocal && limits.useMissionControl {
                    let capMsat = capacity == .max ? 0 : capacity
                    if !mcByNode.isEmpty, let results = mcByNode[u] {
                        let nodeP = estimator.nodeProbability(results: results, amountMsat: amountToSend,
                                                              capacityMsat: capMsat, now: mc.now)
                        edgeProbability = estimator.pairProbability(nodeProbability: nodeP, result: results[v],
                                                                    amountMsat: amountToSend, now: mc.now)
                    } else {
                        edgeProbability = estimator.aprioriHopProbability
                            * estimator.capacityFactor(amountMsat: amountToSend, capacityMsat: capMsat)
                    }
                }
                let probability = edgeProbability * lv.probability
                if probability <= 0 || probability < minProbability { return nil }
                let weight = lv.weight + Double(fee) + Double(amountToReceive) * Double(delta) * risk
                let dist: Double
                switch limits.objective {
                case .cost: dist = weight + attemptCost / probability
                case .fee: dist = Double(amountToReceive - amount) + Double(hops) * 1e-6
                case .cltv: dist = Double(cltv) + Double(hops) * 1e-6
                }
                if dist < labels[Int(u)].dist {
                    var key = dist
                    if useHeuristic {
                        let h = Int(hopsToSource[Int(u)])
                        if h == 255 { return nil }  // cannot reach the source
                        if h > 1 { key = weight + attemptCost / (probability * pMaxPower[h]) }
                    }
                    labels[Int(u)] = Label(dist: dist, key: key, weight: weight, amount: amountToReceive, cltv: cltv,
                                           probability: probability, next: v, edge: edgeRef, hops: hops)
                    return key
                }
                return nil
            }

            while let (d, v) = heap.pop() {
                if settled[Int(v)] || d > labels[Int(v)].key { continue }
                settled[Int(v)] = true
                if v == source { break }
                let lv = labels[Int(v)]
                if Int(v) < graph.nodeCount {
                    for packed in graph.adjacency[Int(v)] {
                        let u = Int32(truncatingIfNeeded: packed & 0x7FFF_FFFF)
                        let c = Int32(truncatingIfNeeded: packed >> 32)
                        let slot = 2 * Int(c) + Int((packed >> 31) & 1)
                        if !usable[slot] || settled[Int(u)] { continue }
                        let p = policies[slot]
                        if let d = relax(u, v, lv, p, capacity: capacities[Int(c)], channel: c, edgeRef: c,
                                         scid: { graph.channels[Int(c)].shortChannelID }) {
                            heap.push(d, u)
                        }
                    }
                }
                if let extras = extraIn[v] {
                    for (k, e) in extras.enumerated() where !settled[Int(e.from)] {
                        if let d = relax(e.from, v, lv, e.policy, capacity: .max, channel: -1, edgeRef: Int32(-(k + 1)),
                                         scid: { e.hint.chanID }) {
                            heap.push(d, e.from)
                        }
                    }
                }
            }
        }}}}

        guard settled[Int(source)] else { return nil }
        // Walk forward from the source along `next`.
        var segments: [SourceRoute.Segment] = []
        var cur = source
        while cur != target {
            let l = labels[Int(cur)]
            let next = l.next
            if l.edge >= 0 {
                let edge = graph.channels[Int(l.edge)]
                let from = nodeID(cur)
                segments.append(SourceRoute.Segment(node: nodeID(next), chanID: edge.shortChannelID,
                                              policy: edge.policy(from: from) ?? RoutingPolicy(),
                                              capacitySat: edge.capacitySat))
            } else {
                let e = extraIn[next]![Int(-l.edge) - 1]
                segments.append(SourceRoute.Segment(node: nodeID(next), chanID: e.hint.chanID, policy: e.hint.policy))
            }
            cur = next
        }
        return SourceRoute.build(source: request.source, segments: segments, amountMsat: limits.amountMsat,
                           finalCLTVDelta: request.finalCLTVDelta, currentHeight: request.currentHeight,
                           mppRecord: request.mppRecord, customRecords: request.destCustomRecords)
    }

    /// Relaxes one restriction at a time to name the one that made the search fail.
    func diagnose() -> NoRouteReason {
        let base = Limits(request)
        var noFee = base
        noFee.feeLimitMsat = .max
        noFee.objective = .fee
        if let route = run(noFee), route.totalFeesMsat > request.feeLimitMsat {
            return .feeLimitExceeded(requiredFeeMsat: route.totalFeesMsat, feeLimitMsat: request.feeLimitMsat)
        }
        var noCLTV = noFee
        noCLTV.cltvLimit = .max
        noCLTV.objective = .cltv
        noCLTV.feeLimitMsat = request.feeLimitMsat
        if let route = run(noCLTV), route.totalTimeLock &- request.currentHeight > request.cltvLimit {
            return .cltvLimitExceeded(requiredBlocks: route.totalTimeLock &- request.currentHeight,
                                      cltvLimit: request.cltvLimit)
        }
        var noLiquidity = base
        noLiquidity.ignoreLiquidity = true
        noLiquidity.useMissionControl = false
        if run(noLiquidity) != nil {
            // Reachable once amounts do not matter. If mission control alone blocks the full
            // amount, the paths were all penalized: that is "no path", not liquidity.
            var noMC = base
            noMC.useMissionControl = false
            if run(noMC) != nil { return .noPath }
            return .insufficientLiquidity(amountMsat: request.amountMsat)
        }
        return .noPath
    }
}
