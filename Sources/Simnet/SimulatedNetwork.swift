import Locks
import Crypto
import Foundation
import Routing

/// The simulated Lightning network: nodes with secp256k1 identities, channels with real
/// per-direction balances and policies, a block clock, latency and failure injection.
/// It is the "actual" network; `publicGraph()` exports what gossip would tell a router.
/// HTLC forwarding lives in `SimulatedNetwork+Forwarding.swift`.
///
/// What payments change — channel balances, locked amounts, HTLCs in flight — lives in a
/// `ChannelLedger`: this process's memory by default, or PostgreSQL so that several replicas
/// share one network. Nodes, channels, policies and the block clock are derived alike from the
/// seed and topology on every process.
///
/// Thread-safe: all state sits behind one lock that is never held across a suspension or a
/// ledger call.
public final class SimulatedNetwork: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Seeds node keys (for nodes without a fixed id), drawn balances, jitter and failures.
        public var seed: String
        /// `chain_hash` put in channel updates: Bitcoin testnet3's genesis hash (wire byte order).
        public var chainHash: [UInt8]
        public var latency: LatencyModel
        public var sleeper: any SimulationSleeper
        /// Probability that a forwarding node fails an HTLC with TEMPORARY_CHANNEL_FAILURE anyway.
        public var temporaryFailureRate: Double
        /// A forwarding node refuses (EXPIRY_TOO_SOON) an HTLC whose outgoing expiry is within
        /// this many blocks of the current height.
        public var expiryGraceDelta: UInt32

        public init(seed: String = "paytrack", latency: LatencyModel = .zero,
                    sleeper: any SimulationSleeper = TaskSleeper(), temporaryFailureRate: Double = 0,
                    expiryGraceDelta: UInt32 = 3,
                    chainHash: [UInt8] = Array(Hex.decode("000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943")!.reversed())) {
            self.seed = seed
            self.chainHash = chainHash
            self.latency = latency
            self.sleeper = sleeper
            self.temporaryFailureRate = temporaryFailureRate
            self.expiryGraceDelta = expiryGraceDelta
        }
    }

    struct Node {
        let id: NodeID
        let alias: String
        let key: PrivateKey?
        var online = true
        var channels: [Int] = []
    }

    /// A channel; index 0 of the pairs is node1 (BOLT 7 lesser key) → node2.
    struct Channel {
        let scid: ShortChannelID
        let nodes: (Int, Int)
        /// The node that opened (funded) the channel: the topology's first named node.
        let opener: Int
        let capacitySat: UInt64
        let isPrivate: Bool
        /// The balances the channel opened with (the ledger holds the current ones).
        let openingBalanceMsat: [UInt64]
        var policy: [RoutingPolicy?]

        func direction(from node: Int) -> Int? {
            node == nodes.0 ? 0 : node == nodes.1 ? 1 : nil
        }
        func endpoint(_ d: Int) -> Int { d == 0 ? nodes.0 : nodes.1 }
    }

    /// One node's view of one of its channels.
    public struct ChannelBalance: Sendable, Equatable {
        public var shortChannelID: ShortChannelID
        public var remoteNode: NodeID
        public var capacitySat: UInt64
        public var localBalanceMsat: UInt64
        public var remoteBalanceMsat: UInt64
        /// Outgoing HTLC amounts in flight (locked out of `localBalanceMsat`).
        public var localLockedMsat: UInt64
        /// Incoming HTLC amounts in flight (locked out of `remoteBalanceMsat`).
        public var remoteLockedMsat: UInt64 = 0
        /// This node opened the channel.
        public var isInitiator: Bool = false
        public var isPrivate: Bool
        public var localPolicy: RoutingPolicy?
        public var remotePolicy: RoutingPolicy?
    }

    public let configuration: Configuration
    let lock = Lock()
    var nodes: [Node] = []
    var nodeIndex: [NodeID: Int] = [:]
    var aliasIndex: [String: Int] = [:]
    var channels: [Channel] = []
    var channelIndex: [ShortChannelID: Int] = [:]
    var height: UInt32
    var rng: SeededGenerator
    /// HTLC ids never repeat, also across restarts of the process (payees remember the
    /// (channel, htlc id) circuit keys of earlier HTLCs as LND does): start from the clock in ms,
    /// leaving 2^20 ids per ms of uptime before a later start could overlap.
    var payeeHandlers: [NodeID: any PayeeHandler] = [:]
    /// Balances, locks and HTLCs in flight (`ChannelLedger.swift`); HTLC ids come from it too.
    public let ledger: any ChannelLedger
    /// The last states read from the ledger, answered if a later read fails (a durable ledger
    /// that cannot reach its database). Lock held.
    var lastLedgerStates: [ShortChannelID: LedgerChannelState] = [:]
    /// SubscribeHtlcEvents handlers by node, then token (`HTLCEvents.swift`).
    var htlcSubscribers: [NodeID: [UInt64: @Sendable (HTLCEvent) -> Void]] = [:]
    var nextHTLCSubscriber: UInt64 = 0
    /// Timestamp of the newest channel update, bumped on every policy change.
    var updateClock: UInt32 = 1_700_000_000
    /// `publicGraph()` as of `clock` (= `updateClock` when it was built).
    var cachedPublicGraph: (clock: UInt32, graph: ChannelGraph)?
    var blockTask: Task<Void, Never>?
    /// Called with the new height after each mined block (`onNewBlock`).
    var blockObservers: [@Sendable (UInt32) -> Void] = []

    /// A network whose balances live in this process's memory (`MemoryChannelLedger`).
    public convenience init(topology: Topology, configuration: Configuration = Configuration()) throws(TopologyError) {
        let ledger = MemoryChannelLedger()
        try self.init(topology: topology, configuration: configuration, unopened: ledger)
        ledger.open(openingBalances)
    }

    /// A network whose balances live in `ledger` (opened here with the topology's balances; a
    /// ledger already holding them, a shared one, keeps its own).
    public convenience init(topology: Topology, configuration: Configuration = Configuration(), ledger: any ChannelLedger) throws {
        try self.init(topology: topology, configuration: configuration, unopened: ledger)
        try ledger.open(openingBalances)
    }

    /// Every channel with the balances it opened with, in topology order.
    var openingBalances: [(channel: ShortChannelID, balanceMsat: [UInt64])] {
        withLock { channels.map { ($0.scid, $0.openingBalanceMsat) } }
    }

    init(topology: Topology, configuration: Configuration, unopened ledger: any ChannelLedger) throws(TopologyError) {
        try topology.validate()
        self.configuration = configuration
        self.ledger = ledger
        height = topology.startHeight
        rng = SeededGenerator(seed: configuration.seed)
        for n in topology.nodes {
            let key: PrivateKey? = n.nodeID == nil ? SimNodeKeys.derivePrivateKey(seed: configuration.seed, alias: n.alias) : nil
            let id = n.nodeID ?? SimNodeKeys.nodeID(of: key!)
            guard nodeIndex[id] == nil else { throw .duplicateNode(id.hex) }
            nodeIndex[id] = nodes.count
            aliasIndex[n.alias] = nodes.count
            nodes.append(Node(id: id, alias: n.alias, key: key))
        }
        var balances = SeededGenerator(seed: configuration.seed + "/balances")
        for c in topology.channels {
            let a = aliasIndex[c.nodeA]!, b = aliasIndex[c.nodeB]!
            let capacityMsat = c.capacitySat * 1000
            let balanceA = c.balanceAMsat ?? UInt64.random(in: 0...capacityMsat, using: &balances)
            let aFirst = nodes[a].id < nodes[b].id
            let ch = Channel(scid: c.shortChannelID, nodes: aFirst ? (a, b) : (b, a), opener: a, capacitySat: c.capacitySat,
                             isPrivate: c.isPrivate,
                             openingBalanceMsat: aFirst ? [balanceA, capacityMsat - balanceA] : [capacityMsat - balanceA, balanceA],
                             policy: aFirst ? [stamp(c.policyA), stamp(c.policyB)] : [stamp(c.policyB), stamp(c.policyA)])
            channelIndex[c.shortChannelID] = channels.count
            nodes[a].channels.append(channels.count)
            nodes[b].channels.append(channels.count)
            channels.append(ch)
        }
    }

    deinit { blockTask?.cancel() }

    private func stamp(_ p: RoutingPolicy?) -> RoutingPolicy? {
        guard var p else { return nil }
        p.lastUpdate = updateClock
        return p
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    // MARK: Nodes

    public var nodeIDs: [NodeID] { withLock { nodes.map(\.id) } }
    public var aliases: [String] { withLock { nodes.map(\.alias) } }
    public func nodeID(alias: String) -> NodeID? { withLock { aliasIndex[alias].map { nodes[$0].id } } }
    public func alias(of node: NodeID) -> String? { withLock { nodeIndex[node].map { nodes[$0].alias } } }
    /// The node's signing key (nil for nodes imported with a fixed public key).
    public func privateKey(of node: NodeID) -> PrivateKey? { withLock { nodeIndex[node].flatMap { nodes[$0].key } } }
    public func isOnline(_ node: NodeID) -> Bool { withLock { nodeIndex[node].map { nodes[$0].online } ?? false } }

    /// Failure injection: an offline node makes its peers answer UNKNOWN_NEXT_PEER.
    public func setOnline(_ node: NodeID, _ online: Bool) {
        withLock { if let i = nodeIndex[node] { nodes[i].online = online } }
    }

    /// Installs the code that answers HTLCs paying `node` (the invoice registry).
    public func setPayeeHandler(_ handler: (any PayeeHandler)?, for node: NodeID) {
        withLock { payeeHandlers[node] = handler }
    }

    // MARK: Channels

    public var channelCount: Int { withLock { channels.count } }

    /// The ledger's states of `scids` (all channels when nil), read without the lock; if the
    /// ledger cannot answer, the last states it gave.
    func ledgerStates(_ scids: [ShortChannelID]?) -> [ShortChannelID: LedgerChannelState] {
        if let states = try? ledger.states(scids) {
            withLock { lastLedgerStates.merge(states) { $1 } }
            return states
        }
        return withLock {
            guard let scids else { return lastLedgerStates }
            return lastLedgerStates.filter { scids.contains($0.key) }
        }
    }

    /// `node`'s channels with balances as it sees them.
    public func channels(of node: NodeID) -> [ChannelBalance] {
        guard let scids = withLock({ nodeIndex[node].map { nodes[$0].channels.map { channels[$0].scid } } }) else { return [] }
        let states = ledgerStates(scids)
        return withLock {
            guard let n = nodeIndex[node] else { return [] }
            return nodes[n].channels.map { c in balanceView(channels[c], from: n, states[channels[c].scid]) }
        }
    }

    /// One channel as seen by `node`.
    public func channel(_ scid: ShortChannelID, from node: NodeID) -> ChannelBalance? {
        guard withLock({ channelIndex[scid] != nil }) else { return nil }
        let state = ledgerStates([scid])[scid]
        return withLock {
            guard let c = channelIndex[scid], let n = nodeIndex[node], channels[c].direction(from: n) != nil else { return nil }
            return balanceView(channels[c], from: n, state)
        }
    }

    private func balanceView(_ ch: Channel, from n: Int, _ state: LedgerChannelState?) -> ChannelBalance {
        let d = ch.direction(from: n)!
        let s = state ?? LedgerChannelState(balanceMsat: ch.openingBalanceMsat)
        return ChannelBalance(shortChannelID: ch.scid, remoteNode: nodes[ch.endpoint(1 - d)].id,
                              capacitySat: ch.capacitySat, localBalanceMsat: s.balanceMsat[d],
                              remoteBalanceMsat: s.balanceMsat[1 - d], localLockedMsat: s.lockedMsat[d],
                              remoteLockedMsat: s.lockedMsat[1 - d], isInitiator: ch.opener == n,
                              isPrivate: ch.isPrivate, localPolicy: ch.policy[d], remotePolicy: ch.policy[1 - d])
    }

    /// LND bandwidth hints for `node` as sender: spendable msat (balance − locked) per channel
    /// that is enabled on its side and whose peer is online.
    public func localBandwidth(of node: NodeID) -> [ShortChannelID: UInt64] {
        guard let scids = withLock({ nodeIndex[node].map { nodes[$0].channels.map { channels[$0].scid } } }) else { return [:] }
        let states = ledgerStates(scids)
        return withLock {
            guard let n = nodeIndex[node] else { return [:] }
            var out: [ShortChannelID: UInt64] = [:]
            for c in nodes[n].channels {
                let ch = channels[c]
                let d = ch.direction(from: n)!
                guard let p = ch.policy[d], !p.disabled, nodes[ch.endpoint(1 - d)].online else { continue }
                let s = states[ch.scid] ?? LedgerChannelState(balanceMsat: ch.openingBalanceMsat)
                out[ch.scid] = s.balanceMsat[d] - s.lockedMsat[d]
            }
            return out
        }
    }

    /// Changes the actual policy `node` applies on `scid` *without* telling any router: the
    /// next HTLC learns it from the failure's channel_update (FEE_INSUFFICIENT etc.).
    @discardableResult
    public func setPolicy(_ policy: RoutingPolicy?, on scid: ShortChannelID, from node: NodeID) -> Bool {
        withLock {
            guard let c = channelIndex[scid], let n = nodeIndex[node], let d = channels[c].direction(from: n) else { return false }
            updateClock += 1
            var p = policy
            p?.lastUpdate = updateClock
            channels[c].policy[d] = p
            return true
        }
    }

    /// Failure injection: disables (or re-enables) `node`'s direction of `scid`.
    @discardableResult
    public func setChannelDisabled(_ scid: ShortChannelID, from node: NodeID, _ disabled: Bool) -> Bool {
        guard let current = channel(scid, from: node)?.localPolicy else { return false }
        var p = current
        p.disabled = disabled
        return setPolicy(p, on: scid, from: node)
    }

    /// Failure injection: the rate of random TEMPORARY_CHANNEL_FAILUREs at forwarding nodes.
    public var temporaryFailureRate: Double {
        get { withLock { _temporaryFailureRate ?? configuration.temporaryFailureRate } }
        set { withLock { _temporaryFailureRate = newValue } }
    }
    var _temporaryFailureRate: Double?

    // MARK: Graph export

    /// The public graph as gossip would give it: announced channels and their current policies,
    /// nodes with at least one announced channel.
    /// Built once per policy change (`updateClock`) and shared afterwards (a value: copies are
    /// copy-on-write), so route queries on a large graph do not rebuild it per call.
    public func publicGraph() -> ChannelGraph {
        withLock {
            if let cached = cachedPublicGraph, cached.clock == updateClock { return cached.graph }
            var g = ChannelGraph()
            for ch in channels where !ch.isPrivate {
                let a = nodes[ch.nodes.0], b = nodes[ch.nodes.1]
                try? g.addChannel(ChannelEdge(shortChannelID: ch.scid, between: a.id, and: b.id, capacitySat: ch.capacitySat,
                                              policyAToB: ch.policy[0], policyBToA: ch.policy[1]))
                g.addNode(a.id, alias: a.alias)
                g.addNode(b.id, alias: b.alias)
            }
            cachedPublicGraph = (updateClock, g)
            return g
        }
    }

    /// BOLT 11 `r` hints for invoices of `node`: one single-hop hint per private channel, with
    /// the peer's policy towards `node`.
    public func routeHints(for node: NodeID) -> [RouteHint] {
        withLock {
            guard let n = nodeIndex[node] else { return [] }
            return nodes[n].channels.compactMap { c -> RouteHint? in
                let ch = channels[c]
                guard ch.isPrivate, let d = ch.direction(from: n), let p = ch.policy[1 - d] else { return nil }
                return [RouteHintHop(nodeID: nodes[ch.endpoint(1 - d)].id, chanID: ch.scid,
                                feeBaseMsat: UInt32(clamping: p.feeBaseMsat),
                                feeProportionalMillionths: UInt32(clamping: p.feeRatePPM),
                                cltvExpiryDelta: UInt16(clamping: p.timeLockDelta))]
            }
        }
    }

    /// The channel_update `channels[c]`'s direction `d` would broadcast now, signed by its node
    /// (BOLT 7: signature over double-SHA256 of the bytes after it). Lock held.
    func channelUpdate(_ c: Int, direction d: Int) -> ChannelUpdate? {
        let ch = channels[c]
        guard let p = ch.policy[d] else { return nil }
        var u = ChannelUpdate(chainHash: configuration.chainHash, shortChannelID: ch.scid, timestamp: p.lastUpdate,
                              direction: UInt8(d), policy: p)
        if let key = nodes[ch.endpoint(d)].key, let sig = try? key.sign(hash: SHA256.hash(SHA256.hash(u.signedBytes))) {
            u.signature = sig
        }
        return u
    }

    // MARK: Block clock

    public var blockHeight: UInt32 { withLock { height } }

    /// Advances the chain by `count` blocks, then tells every block observer the new height
    /// (outside the lock).
    public func mineBlocks(_ count: UInt32 = 1) {
        let (h, observers) = withLock { height += count; return (height, blockObservers) }
        for o in observers { o(h) }
    }

    /// Registers `observer`, called with the new height after every block (e.g. the hold-invoice
    /// expiry watcher of a node's invoice registry). Observers are never removed; they must be
    /// cheap and must not call `mineBlocks`.
    public func onNewBlock(_ observer: @escaping @Sendable (UInt32) -> Void) {
        withLock { blockObservers.append(observer) }
    }

    /// Mines one block every `intervalNanoseconds` until `stopBlockClock()` (Bitcoin: 600 s).
    public func startBlockClock(intervalNanoseconds: UInt64) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: intervalNanoseconds)
                if Task.isCancelled { return }
                self?.mineBlocks(1)
            }
        }
        withLock {
            blockTask?.cancel()
            blockTask = task
        }
    }

    public func stopBlockClock() { withLock { blockTask?.cancel(); blockTask = nil } }
}
