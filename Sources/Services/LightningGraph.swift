import BOLT11
import Crypto
import Foundation
import LightningRPC
import Routing
import RPCCore
import Simnet

/// The channel and graph calls of `lnrpc.Lightning` (LND rpcserver.go `ChannelBalance`,
/// `ListChannels`, `DescribeGraph`, `GetNodeInfo`, `GetChanInfo`), answered from the simulated
/// network's real state: balances, HTLCs in flight, policies. Served as a further `lnrpc.Lightning`
/// service definition (the router merges method tables by service name).
///
/// The simulation has no commitment transactions, so commit fees and weights are 0 and balances
/// are the channel's own; channel reserves and constraints are the simulator's fixed
/// `ChannelConstraintsModel`. Every error is UNKNOWN except LND's two NOT_FOUNDs (`unable to
/// find node`, `edge not found`).
public final class LightningGraph: RPCService, @unchecked Sendable {
    public let serviceName = "lnrpc.Lightning"
    let network: SimulatedNetwork
    let node: NodeID
    let work: BlockingWork
    let started = Date()
    /// Features every simulated node advertises (as GetInfo's).
    let features: FeatureVector

    public init(network: SimulatedNetwork, node: NodeID, features: FeatureVector, work: BlockingWork) {
        self.network = network
        self.node = node
        self.features = features
        self.work = work
    }

    public var methods: [String: RPCHandler] {
        [
            "ChannelBalance": RPC.unary(Lnrpc.ChannelBalanceRequest.self, work: work) { [self] in channelBalance($1) },
            "ListChannels": RPC.unary(Lnrpc.ListChannelsRequest.self, work: work) { [self] in try listChannels($1) },
            "DescribeGraph": RPC.unary(Lnrpc.ChannelGraphRequest.self, work: work) { [self] in describeGraph($1) },
            "GetNodeInfo": RPC.unary(Lnrpc.NodeInfoRequest.self, work: work) { [self] in try getNodeInfo($1) },
            "GetChanInfo": RPC.unary(Lnrpc.ChanInfoRequest.self, work: work) { [self] in try getChanInfo($1) },
        ]
    }

    static func amount(_ msat: UInt64) -> Lnrpc.Amount {
        var a = Lnrpc.Amount()
        a.sat = msat / 1000
        a.msat = msat
        return a
    }

    // MARK: ChannelBalance

    /// Sums over the node's open channels: local/remote balances without HTLCs in flight; incoming
    /// HTLCs are `unsettled_local_balance`, outgoing ones `unsettled_remote_balance` (as LND
    /// reads them off the local commitment). No channel is pending open in the simulation.
    /// `custom_channel_data` is LND's never-empty encoding: varint(#open) ‖ varbytes(blob) per
    /// channel ‖ varint(#pending), every blob empty here.
    func channelBalance(_ r: Lnrpc.ChannelBalanceRequest) -> Lnrpc.ChannelBalanceResponse {
        let channels = network.channels(of: node)
        var local: UInt64 = 0, remote: UInt64 = 0, incoming: UInt64 = 0, outgoing: UInt64 = 0
        for c in channels {
            local += c.localBalanceMsat - c.localLockedMsat
            remote += c.remoteBalanceMsat - c.remoteLockedMsat
            incoming += c.remoteLockedMsat
            outgoing += c.localLockedMsat
        }
        var out = Lnrpc.ChannelBalanceResponse()
        out.balance = Int64(local / 1000)
        out.localBalance = Self.amount(local)
        out.remoteBalance = Self.amount(remote)
        out.unsettledLocalBalance = Self.amount(incoming)
        out.unsettledRemoteBalance = Self.amount(outgoing)
        out.pendingOpenLocalBalance = Self.amount(0)
        out.pendingOpenRemoteBalance = Self.amount(0)
        out.customChannelData = Self.varint(UInt64(channels.count)) + [UInt8](repeating: 0, count: channels.count) + [0]
        return out
    }

    /// Bitcoin's CompactSize (LND's `wire.WriteVarInt`).
    static func varint(_ v: UInt64) -> [UInt8] {
        switch v {
        case ..<0xfd: return [UInt8(v)]
        case ...0xffff: return [0xfd] + (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        case ...0xffff_ffff: return [0xfe] + (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        default: return [0xff] + (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        }
    }

    // MARK: ListChannels

    func listChannels(_ r: Lnrpc.ListChannelsRequest) throws -> Lnrpc.ListChannelsResponse {
        if r.activeOnly && r.inactiveOnly {
            throw GRPCStatus(.unknown, "either `active_only` or `inactive_only` can be set, but not both")
        }
        if r.publicOnly && r.privateOnly {
            throw GRPCStatus(.unknown, "either `public_only` or `private_only` can be set, but not both")
        }
        var peer: NodeID?
        if !r.peer.isEmpty {
            guard let p = NodeID(bytes: r.peer) else {
                throw GRPCStatus(.unknown, "invalid `peer` key: invalid vertex length of \(r.peer.count), want 33")
            }
            peer = p
        }
        var out = Lnrpc.ListChannelsResponse()
        for c in network.channels(of: node) {
            let active = network.isOnline(c.remoteNode) && c.localPolicy?.disabled != true
            if r.activeOnly && !active { continue }
            if r.inactiveOnly && active { continue }
            if r.publicOnly && c.isPrivate { continue }
            if r.privateOnly && !c.isPrivate { continue }
            if let peer, peer != c.remoteNode { continue }
            out.channels.append(channel(c, active: active, peerAlias: r.peerAliasLookup))
        }
        return out
    }

    func channel(_ c: SimulatedNetwork.ChannelBalance, active: Bool, peerAlias: Bool) -> Lnrpc.Channel {
        var ch = Lnrpc.Channel()
        ch.active = active
        ch.remotePubkey = c.remoteNode.hex
        ch.channelPoint = GraphChannel.channelPoint(of: c.shortChannelID)
        ch.chanId = c.shortChannelID.rawValue
        ch.capacity = Int64(c.capacitySat)
        ch.localBalance = Int64((c.localBalanceMsat - c.localLockedMsat) / 1000)
        ch.remoteBalance = Int64((c.remoteBalanceMsat - c.remoteLockedMsat) / 1000)
        let htlcs = network.pendingHTLCs(on: c.shortChannelID, of: node)
        ch.unsettledBalance = Int64(htlcs.reduce(0) { $0 + $1.amountMsat } / 1000)
        ch.pendingHtlcs = htlcs.map { h in
            var o = Lnrpc.HTLC()
            o.incoming = h.incoming
            o.amount = Int64(h.amountMsat / 1000)
            o.hashLock = h.paymentHash
            o.expirationHeight = h.expirationHeight
            o.htlcIndex = h.htlcIndex
            o.lockedIn = true
            return o
        }
        ch.private = c.isPrivate
        ch.initiator = c.isInitiator
        ch.chanStatusFlags = "ChanStatusDefault"
        ch.commitmentType = .anchors
        let uptime = Int64(Date().timeIntervalSince(started))
        ch.lifetime = uptime
        ch.uptime = active ? uptime : 0
        ch.localConstraints = ChannelConstraintsModel.constraints(capacitySat: c.capacitySat, policy: c.remotePolicy)
        ch.remoteConstraints = ChannelConstraintsModel.constraints(capacitySat: c.capacitySat, policy: c.localPolicy)
        ch.localChanReserveSat = Int64(ch.localConstraints!.chanReserveSat)
        ch.remoteChanReserveSat = Int64(ch.remoteConstraints!.chanReserveSat)
        ch.csvDelay = ch.localConstraints!.csvDelay
        if peerAlias { ch.peerAlias = network.alias(of: c.remoteNode) ?? "unable to lookup peer alias: unable to find node" }
        return ch
    }

    // MARK: DescribeGraph, GetNodeInfo, GetChanInfo

    static func policy(_ p: RoutingPolicy?, capacitySat: UInt64) -> Lnrpc.RoutingPolicy? {
        guard let p else { return nil }
        var o = Lnrpc.RoutingPolicy()
        o.timeLockDelta = p.timeLockDelta
        o.minHtlc = Int64(clamping: p.minHTLCMsat)
        o.feeBaseMsat = Int64(clamping: p.feeBaseMsat)
        o.feeRateMilliMsat = Int64(clamping: p.feeRatePPM)
        o.disabled = p.disabled
        o.maxHtlcMsat = p.maxHTLCMsat == .max ? capacitySat * 1000 : p.maxHTLCMsat
        o.lastUpdate = p.lastUpdate
        return o
    }

    /// `lnrpc.ChannelEdge` (LND marshalDBEdge): policies by node1/node2, `last_update` the newer one's.
    static func edge(_ c: GraphChannel) -> Lnrpc.ChannelEdge {
        var e = Lnrpc.ChannelEdge()
        e.channelId = c.shortChannelID.rawValue
        e.chanPoint = c.channelPoint
        e.node1Pub = c.node1.hex
        e.node2Pub = c.node2.hex
        e.capacity = Int64(c.capacitySat)
        e.node1Policy = policy(c.policy1, capacitySat: c.capacitySat)
        e.node2Policy = policy(c.policy2, capacitySat: c.capacitySat)
        e.lastUpdate = max(c.policy1?.lastUpdate ?? 0, c.policy2?.lastUpdate ?? 0)
        return e
    }

    func lightningNode(_ n: GraphNode, channels: [GraphChannel]) -> Lnrpc.LightningNode {
        var o = Lnrpc.LightningNode()
        o.pubKey = n.id.hex
        o.alias = n.alias
        o.color = "#3399ff"
        o.features = InvoiceMarshaller.features(features.lndFeatureMap)
        o.lastUpdate = channels.map { c in max(c.policy1?.lastUpdate ?? 0, c.policy2?.lastUpdate ?? 0) }.max() ?? 0
        return o
    }

    /// Every node; announced channels, and private ones with `include_unannounced`. The output's
    /// JSON (lncli describegraph) re-imports with `paytrackd --describegraph`.
    func describeGraph(_ r: Lnrpc.ChannelGraphRequest) -> Lnrpc.ChannelGraph {
        let all = network.graphChannels(includePrivate: true)
        var byNode: [NodeID: [GraphChannel]] = [:]
        for c in all { byNode[c.node1, default: []].append(c); byNode[c.node2, default: []].append(c) }
        var g = Lnrpc.ChannelGraph()
        g.nodes = network.graphNodes().map { lightningNode($0, channels: byNode[$0.id] ?? []) }
        g.edges = all.filter { r.includeUnannounced || !$0.isPrivate }.map(Self.edge)
        return g
    }

    func getNodeInfo(_ r: Lnrpc.NodeInfoRequest) throws -> Lnrpc.NodeInfo {
        if r.includeAuthProof && !r.includeChannels {
            throw GRPCStatus(.unknown, "include_auth_proof depends on include_channels")
        }
        if r.pubKey.utf8.count != 66 {
            throw GRPCStatus(.unknown, "invalid vertex string length of \(r.pubKey.utf8.count), want 66")
        }
        if let e = Hex.decodeFailure(r.pubKey) { throw GRPCStatus(.unknown, e.description) }
        guard let id = NodeID(hex: r.pubKey), let alias = network.alias(of: id) else {
            throw GRPCStatus(.notFound, "unable to find node")
        }
        let channels = network.graphChannels(of: id)
        var out = Lnrpc.NodeInfo()
        out.node = lightningNode(GraphNode(id: id, alias: alias), channels: channels)
        out.numChannels = UInt32(channels.count)
        out.totalCapacity = Int64(channels.reduce(0) { $0 + $1.capacitySat })
        if r.includeChannels { out.channels = channels.filter { !$0.isPrivate }.map(Self.edge) }
        return out
    }

    func getChanInfo(_ r: Lnrpc.ChanInfoRequest) throws -> Lnrpc.ChannelEdge {
        let found: GraphChannel?
        if r.chanId != 0 {
            found = network.graphChannel(ShortChannelID(rawValue: r.chanId))
        } else if !r.chanPoint.isEmpty {
            let parts = r.chanPoint.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw GRPCStatus(.unknown, "outpoint should be of the form txid:index") }
            found = network.graphChannel(channelPoint: r.chanPoint)
        } else {
            throw GRPCStatus(.unknown, "specify either chan_id or chan_point")
        }
        guard let found else { throw GRPCStatus(.notFound, "edge not found") }
        return Self.edge(found)
    }
}

/// The channel parameters the simulator assumes for every channel (it has no funding flow):
/// LND's defaults — a reserve of 1% of the capacity (at least the 354 sat dust limit), a CSV
/// delay of 144 blocks, 483 HTLCs at most, and the whole capacity allowed in flight.
enum ChannelConstraintsModel {
    static func constraints(capacitySat: UInt64, policy: RoutingPolicy?) -> Lnrpc.ChannelConstraints {
        var c = Lnrpc.ChannelConstraints()
        c.csvDelay = 144
        c.chanReserveSat = max(capacitySat / 100, 354)
        c.dustLimitSat = 354
        c.maxPendingAmtMsat = capacitySat * 1000
        c.minHtlcMsat = policy?.minHTLCMsat ?? 1
        c.maxAcceptedHtlcs = 483
        return c
    }
}
