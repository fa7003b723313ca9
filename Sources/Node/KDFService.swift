import Foundation
import Invoices
import KomodoRPC
import Payments
import Routing
import Simnet

/// One served node's Komodo DeFi Framework API: its rpc_password (from a file, generated 0600
/// with a random password meeting KDF's policy when absent), its KDF records
/// (`NODEDIR/kdf/payments.sqlite`, or the node's PostgreSQL schema with `--db.backend postgres`),
/// the keeper that follows the engine, and the mmrpc dispatcher.
public final class KDFService: @unchecked Sendable {
    public let passwordPath: String
    public let lightning: KDFLightning
    public let keeper: KDFRecordKeeper
    public let dispatcher: MMRPCDispatcher

    /// KDF's startup checks of rpc_password, with KDF's messages.
    public static func loadPassword(path: String, allowWeak: Bool, generate: Bool) throws -> String {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            guard generate else { throw ConfigError(description: "rpc_password file \(path) does not exist") }
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
            let password = KDFPasswordPolicy.generate(random: { Crypto.SecureRandom.bytes($0) })
            guard fm.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ConfigError(description: "cannot write \(path)")
            }
            return password
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .newlines)
        if let problem = KDFPasswordPolicy.check(text, allowWeak: allowWeak) {
            throw ConfigError(description: "\(path): \(problem)")
        }
        return text
    }

    init(node: ServedNode, config: Config, log: Logger) throws {
        let dir = node.directory.root + "/kdf"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        passwordPath = config.kdfPasswordFile ?? dir + "/rpc_password"
        let password = try Self.loadPassword(path: passwordPath, allowWeak: config.kdfAllowWeakPassword,
                                             generate: config.kdfPasswordFile == nil)
        let store = try config.openKDFRecords(node: node.name, sqlitePath: dir + "/payments.sqlite")
        let network = node.network, id = node.nodeID
        lightning = KDFLightning(
            node: KDFLightning.Node(coin: config.kdfTicker, nodeID: id, invoices: node.invoices, router: node.router,
                                    control: node.control, routeHints: { KDFService.routeHints(network: network, node: id) }),
            store: store)
        keeper = KDFRecordKeeper(store: store, tower: node.tower, invoices: node.invoices,
                                 log: { [name = node.name] in log.warn("\(name): \($0)") })
        try keeper.start()
        var c = MMRPCDispatcher.Configuration()
        c.corsOrigin = config.kdfCORS
        c.localOnly = config.kdfLocalOnly
        c.https = config.kdfHTTPS
        dispatcher = MMRPCDispatcher(configuration: c, guardian: UserpassGuard(password: password), methods: lightning,
                                     metrics: node.metrics?.mmrpc(methodNames: lightning.methodNames))
    }

    /// lightning-invoice 0.21 `filter_channels`: no hints when any public channel exists;
    /// otherwise, per counterparty, its channel with the most inbound liquidity, with the
    /// counterparty's forwarding policy.
    static func routeHints(network: SimulatedNetwork, node: NodeID) -> [[BOLT11.HopHint]] {
        let channels = network.channels(of: node)
        if channels.contains(where: { !$0.isPrivate }) { return [] }
        var best: [NodeID: SimulatedNetwork.ChannelBalance] = [:]
        for c in channels where c.remotePolicy != nil && c.remotePolicy?.disabled != true {
            if let b = best[c.remoteNode], b.remoteBalanceMsat >= c.remoteBalanceMsat { continue }
            best[c.remoteNode] = c
        }
        return best.values.sorted { $0.shortChannelID.rawValue < $1.shortChannelID.rawValue }.compactMap { c in
            guard let p = c.remotePolicy, let key = try? PublicKey(serialized: c.remoteNode.bytes) else { return nil }
            return [BOLT11.HopHint(nodeID: key, shortChannelID: c.shortChannelID.rawValue, feeBaseMsat: UInt32(clamping: p.feeBaseMsat),
                                   feeProportionalMillionths: UInt32(clamping: p.feeRatePPM),
                                   cltvExpiryDelta: UInt16(clamping: p.timeLockDelta))]
        }
    }

    public func shutdown() { keeper.stop() }
}

import BOLT11
import Crypto
