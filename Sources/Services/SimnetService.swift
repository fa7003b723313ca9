import LightningRPC
import RPCCore
import Routing
import Simnet

/// `paytrackrpc.Simnet`: PayTrack's extension service over the embedded simulated network
/// (Protos/paytrackrpc/simnet.proto). LND has no such call: its API shows a node only its own
/// channels' balances; a development network can show every side of every channel.
///
/// Contract: `DescribeNetwork` answers one consistent reading of the network (one lock hold in
/// `SimulatedNetwork.describe`), runs on the loop (no store access, no blocking), and marks
/// `served` the nodes whose aliases are in `servedAliases`.
public final class SimnetService: RPCService, @unchecked Sendable {
    public let serviceName = "paytrackrpc.Simnet"
    let network: SimulatedNetwork
    let servedAliases: Set<String>

    public init(network: SimulatedNetwork, servedAliases: Set<String>) {
        self.network = network
        self.servedAliases = servedAliases
    }

    public var methods: [String: RPCHandler] {
        ["DescribeNetwork": .unary { [self] _, bytes, responder in
            do {
                let request: Paytrackrpc.DescribeNetworkRequest = try RPC.decode(bytes)
                responder.respond(describeNetwork(request).serializedBytes())
            } catch {
                responder.fail(RPC.status(error))
            }
        }]
    }

    /// The network now; private channels only when asked for (as DescribeGraph's `include_unannounced`).
    func describeNetwork(_ request: Paytrackrpc.DescribeNetworkRequest) -> Paytrackrpc.NetworkDescription {
        let now = network.describe()
        var out = Paytrackrpc.NetworkDescription()
        out.blockHeight = now.blockHeight
        out.nodes = now.nodes.map { n in
            var o = Paytrackrpc.SimNode()
            o.pubKey = n.id.hex
            o.alias = n.alias
            o.served = servedAliases.contains(n.alias)
            o.online = n.online
            return o
        }
        out.channels = now.channels.filter { request.includeUnannounced || !$0.isPrivate }.map { c in
            var o = Paytrackrpc.SimChannel()
            o.chanId = c.shortChannelID.rawValue
            o.node1Pub = c.node1.hex
            o.node2Pub = c.node2.hex
            o.capacity = Int64(clamping: c.capacitySat)
            o.node1BalanceMsat = c.balanceMsat.0
            o.node2BalanceMsat = c.balanceMsat.1
            o.node1LockedMsat = c.lockedMsat.0
            o.node2LockedMsat = c.lockedMsat.1
            o.`private` = c.isPrivate
            o.node1Policy = c.policy1.map(Self.policy)
            o.node2Policy = c.policy2.map(Self.policy)
            return o
        }
        return out
    }

    static func policy(_ p: RoutingPolicy) -> Paytrackrpc.SimRoutingPolicy {
        var o = Paytrackrpc.SimRoutingPolicy()
        o.timeLockDelta = p.timeLockDelta
        o.minHtlc = Int64(clamping: p.minHTLCMsat)
        o.feeBaseMsat = Int64(clamping: p.feeBaseMsat)
        o.feeRateMilliMsat = Int64(clamping: p.feeRatePPM)
        o.disabled = p.disabled
        o.maxHtlcMsat = p.maxHTLCMsat == UInt64.max ? 0 : p.maxHTLCMsat
        o.lastUpdate = p.lastUpdate
        return o
    }
}
