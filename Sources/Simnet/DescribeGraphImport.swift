import Routing

/// Imports LND's `lncli describegraph` JSON (`lnrpc.ChannelGraph`): `nodes[].pub_key/alias`,
/// `edges[].channel_id/chan_point/node1_pub/node2_pub/capacity/node1_policy/node2_policy`
/// (policies: `time_lock_delta`, `min_htlc`, `max_htlc_msat`, `fee_base_msat`,
/// `fee_rate_milli_msat`, `disabled`). 64-bit values may be strings or numbers.
/// Balances are not in the graph: each channel's node1 balance is drawn uniformly from
/// [0, capacity] by a generator seeded with `seed`, so an import is reproducible.
/// A node whose key is the one `seed` derives for its alias (PayTrack's own DescribeGraph output,
/// re-imported with the same `--sim.seed`) stays a simulated node with its signing key, so it can
/// be served again; every other node is imported by its public key alone.
public enum DescribeGraphImport {
    public static func decode(_ bytes: [UInt8], seed: String = "paytrack", startHeight: UInt32? = nil) throws(TopologyError) -> Topology {
        let root = JSONFields(try JSONFields.parse(bytes), path: "")
        var nodes: [Topology.Node] = []
        var aliasOf: [NodeID: String] = [:]
        var usedAliases = Set<String>()
        func addNode(_ id: NodeID, alias: String) {
            guard aliasOf[id] == nil else { return }
            // Aliases are not unique in the wild: disambiguate with the key prefix.
            var a = alias.isEmpty ? String(id.hex.prefix(20)) : alias
            if usedAliases.contains(a) { a = "\(a)-\(id.hex.prefix(12))" }
            usedAliases.insert(a)
            aliasOf[id] = a
            let derived = SimNodeKeys.nodeID(of: SimNodeKeys.derivePrivateKey(seed: seed, alias: a))
            nodes.append(Topology.Node(alias: a, nodeID: derived == id ? nil : id))
        }
        for (i, o) in try root.objects("nodes").enumerated() {
            let f = JSONFields(o, path: "nodes[\(i)].")
            let hex = try f.string("pub_key")
            guard let id = NodeID(hex: hex) else { throw .invalidValue(field: f.path + "pub_key", value: hex) }
            addNode(id, alias: try f.optionalString("alias") ?? "")
        }
        var rng = SeededGenerator(seed: seed)
        var channels: [Topology.Channel] = []
        var seen = Set<ShortChannelID>()
        var maxBlock: UInt32 = 0
        for (i, o) in try root.objects("edges").enumerated() {
            let f = JSONFields(o, path: "edges[\(i)].")
            let scid = ShortChannelID(rawValue: try f.uint64("channel_id"))
            guard seen.insert(scid).inserted else { throw .duplicateChannel(scid.description) }
            var ends: [NodeID] = []
            for key in ["node1_pub", "node2_pub"] {
                let hex = try f.string(key)
                guard let id = NodeID(hex: hex) else { throw .invalidValue(field: f.path + key, value: hex) }
                addNode(id, alias: "")
                ends.append(id)
            }
            let capacity = try f.uint64("capacity")
            guard capacity > 0, capacity <= Topology.maxCapacitySat else {
                throw .invalidValue(field: f.path + "capacity", value: String(capacity))
            }
            let balance = UInt64.random(in: 0...capacity * 1000, using: &rng)
            maxBlock = max(maxBlock, scid.blockHeight)
            channels.append(Topology.Channel(
                shortChannelID: scid, nodeA: aliasOf[ends[0]]!, nodeB: aliasOf[ends[1]]!, capacitySat: capacity,
                balanceAMsat: balance, isPrivate: false,
                policyA: try policy(f, "node1_policy"), policyB: try policy(f, "node2_policy")))
        }
        let topology = Topology(nodes: nodes, channels: channels, startHeight: startHeight ?? max(maxBlock + 6, 1))
        try topology.validate()
        return topology
    }

    private static func policy(_ f: JSONFields, _ key: String) throws(TopologyError) -> RoutingPolicy? {
        guard let o = try f.object(key) else { return nil }
        let p = JSONFields(o, path: f.path + key + ".")
        return RoutingPolicy(feeBaseMsat: try p.uint64("fee_base_msat", default: 0),
                             feeRatePPM: try p.uint64("fee_rate_milli_msat", default: 0),
                             timeLockDelta: try p.uint32("time_lock_delta", default: 0),
                             minHTLCMsat: try p.uint64("min_htlc", default: 0),
                             maxHTLCMsat: p.has("max_htlc_msat") ? try p.uint64("max_htlc_msat") : .max,
                             disabled: try p.bool("disabled", default: false),
                             lastUpdate: try p.uint32("last_update", default: 0))
    }
}
