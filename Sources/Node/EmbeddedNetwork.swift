import Foundation
import Invoices
import Routing
import Simnet

/// The simulated Lightning network every served node lives in: built from `--topology`,
/// `--describegraph` or the built-in default, with `--sim.*` latency, failure and block-clock
/// settings. Identities derive from `--sim.seed`, so a restart gives the same nodes and channels.
/// Balances and HTLCs in flight live in memory (they restart from the topology) or, with
/// `--db.backend postgres`, in the database, shared by every replica (`PostgresChannelLedger`).
enum EmbeddedNetwork {
    static func make(config: Config) throws -> SimulatedNetwork {
        let seed = "paytrack-\(config.simSeed)"
        let latencyNs = UInt64(config.hopLatencyMilliseconds * 1_000_000)
        let configuration = SimulatedNetwork.Configuration(
            seed: seed,
            latency: LatencyModel(baseNanoseconds: latencyNs, jitterNanoseconds: latencyNs * 2 / 3),
            temporaryFailureRate: config.temporaryFailureRate)
        let topology: Topology
        if let path = config.topologyPath {
            topology = try TopologyFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        } else if let path = config.describeGraphPath {
            topology = try DescribeGraphImport.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))), seed: seed)
        } else {
            topology = DefaultTopology.make()
        }
        let network = try config.openChannelLedger().map {
            try SimulatedNetwork(topology: topology, configuration: configuration, ledger: $0)
        } ?? SimulatedNetwork(topology: topology, configuration: configuration)
        network.startBlockClock(intervalNanoseconds: UInt64(config.blockIntervalSeconds * 1_000_000_000))
        return network
    }
}

/// A node's payee side in the simulation: HTLCs that reach it go to its invoice registry
/// (settle with the preimage, hold MPP parts, or fail with BOLT 4 final-node errors).
struct InvoicePayee: PayeeHandler {
    let registry: InvoiceRegistry

    func handle(_ htlc: Simnet.PayeeHTLC) async -> PayeeDecision {
        let resolution = await registry.acceptHTLC(
            paymentHash: htlc.paymentHash, amountMsat: htlc.amountMsat, paymentAddr: htlc.payload.paymentAddr,
            totalMsat: htlc.payload.paymentAddr == nil ? nil : htlc.payload.totalAmountMsat,
            expiry: htlc.cltvExpiry, currentHeight: htlc.currentHeight, customRecords: htlc.payload.customRecords,
            chanID: htlc.incomingChannel.rawValue, htlcIndex: htlc.htlcID)
        switch resolution {
        case .settle(let preimage):
            return .settle(preimage: preimage)
        case .fail(let f):
            switch f.code {
            case .mppTimeout: return .fail(.mppTimeout)
            case .incorrectOrUnknownPaymentDetails:
                return .fail(.incorrectOrUnknownPaymentDetails(htlcMsat: f.htlcMsat, height: f.height))
            }
        }
    }
}
