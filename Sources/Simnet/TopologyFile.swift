import Foundation
import Routing

/// The PayTrack topology file (JSON; documented in docs/topology.md, example in
/// examples/topology.json). Encoding then decoding gives back the same `Topology`.
public enum TopologyFile {
    public static let version: UInt64 = 1

    /// Parses a topology file. Every malformed or inconsistent input gives a `TopologyError`.
    public static func decode(_ bytes: [UInt8]) throws(TopologyError) -> Topology {
        let root = JSONFields(try JSONFields.parse(bytes), path: "")
        let version = try root.uint64("version", default: version)
        guard version == Self.version else { throw .invalidValue(field: "version", value: "\(version)") }
        var nodes: [Topology.Node] = []
        for (i, o) in try root.objects("nodes").enumerated() {
            let f = JSONFields(o, path: "nodes[\(i)].")
            var id: NodeID?
            if let hex = try f.optionalString("pub_key") {
                guard let n = NodeID(hex: hex) else { throw .invalidValue(field: f.path + "pub_key", value: hex) }
                id = n
            }
            nodes.append(Topology.Node(alias: try f.string("alias"), nodeID: id))
        }
        var channels: [Topology.Channel] = []
        for (i, o) in try root.objects("channels").enumerated() {
            let f = JSONFields(o, path: "channels[\(i)].")
            let scidText = try f.string("short_channel_id")
            guard let scid = ShortChannelID(string: scidText) else {
                throw .invalidValue(field: f.path + "short_channel_id", value: scidText)
            }
            channels.append(Topology.Channel(
                shortChannelID: scid, nodeA: try f.string("node1"), nodeB: try f.string("node2"),
                capacitySat: try f.uint64("capacity_sat"),
                balanceAMsat: f.has("node1_balance_msat") ? try f.uint64("node1_balance_msat") : nil,
                isPrivate: try f.bool("private", default: false),
                policyA: try policy(f, "node1_policy"), policyB: try policy(f, "node2_policy")))
        }
        let topology = Topology(nodes: nodes, channels: channels,
                                startHeight: try root.uint32("start_height", default: 800_000))
        try topology.validate()
        return topology
    }

    /// Absent → default policy; `null` → no policy announced for that direction.
    private static func policy(_ f: JSONFields, _ key: String) throws(TopologyError) -> RoutingPolicy? {
        if f.isNull(key) { return nil }
        guard let o = try f.object(key) else { return RoutingPolicy() }
        let p = JSONFields(o, path: f.path + key + ".")
        let d = RoutingPolicy()
        return RoutingPolicy(feeBaseMsat: try p.uint64("fee_base_msat", default: d.feeBaseMsat),
                             feeRatePPM: try p.uint64("fee_rate_ppm", default: d.feeRatePPM),
                             timeLockDelta: try p.uint32("time_lock_delta", default: d.timeLockDelta),
                             minHTLCMsat: try p.uint64("min_htlc_msat", default: d.minHTLCMsat),
                             maxHTLCMsat: try p.uint64("max_htlc_msat", default: d.maxHTLCMsat),
                             disabled: try p.bool("disabled", default: false),
                             lastUpdate: try p.uint32("last_update", default: 0))
    }

    /// Writes a topology as a file (pretty, keys sorted; integers as JSON numbers).
    public static func encode(_ topology: Topology) -> [UInt8] {
        func policy(_ p: RoutingPolicy?) -> Any {
            guard let p else { return NSNull() }
            var o: [String: Any] = ["fee_base_msat": p.feeBaseMsat, "fee_rate_ppm": p.feeRatePPM,
                                    "time_lock_delta": p.timeLockDelta, "min_htlc_msat": p.minHTLCMsat,
                                    "disabled": p.disabled]
            if p.maxHTLCMsat != .max { o["max_htlc_msat"] = p.maxHTLCMsat }
            if p.lastUpdate != 0 { o["last_update"] = p.lastUpdate }
            return o
        }
        let nodes: [[String: Any]] = topology.nodes.map { n in
            var o: [String: Any] = ["alias": n.alias]
            if let id = n.nodeID { o["pub_key"] = id.hex }
            return o
        }
        let channels: [[String: Any]] = topology.channels.map { c in
            var o: [String: Any] = ["short_channel_id": c.shortChannelID.description, "node1": c.nodeA,
                                    "node2": c.nodeB, "capacity_sat": c.capacitySat, "private": c.isPrivate,
                                    "node1_policy": policy(c.policyA), "node2_policy": policy(c.policyB)]
            if let b = c.balanceAMsat { o["node1_balance_msat"] = b }
            return o
        }
        let root: [String: Any] = ["version": version, "start_height": topology.startHeight,
                                   "nodes": nodes, "channels": channels]
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        return Array(data)
    }
}
