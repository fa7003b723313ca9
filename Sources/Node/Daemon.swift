import NodeLayout
import Dashboard
import Foundation
import Invoices
import Services
import Transport

/// The composition root's entry point: builds every component for `config`, serves until SIGINT
/// or SIGTERM, then shuts down gracefully (in-flight unary calls finish, streams end with
/// UNAVAILABLE) and returns exit status 0.
public enum Daemon {
    public static func run(config: Config) throws -> Int32 {
        // Block the stop signals before any thread starts, so only `sigwait` below sees them;
        // a peer that disconnects mid-write must not kill the process.
        signal(SIGPIPE, SIG_IGN)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

        let logFile = try RotatingLogFile(path: config.logFilePath, maximumBytes: config.maxLogFileSizeMB * 1024 * 1024,
                                          keptFiles: config.maxLogFiles)
        let sink = LogSink(levels: config.debugLevel, file: logFile)
        let log = sink.logger("LTND")
        log.info("paytrackd version \(PayTrackVersion.string), network \(config.network), datadir \(config.dataDirectory)")

        let metrics = config.prometheusEnable ? try NodeMetrics() : nil
        let network = try EmbeddedNetwork.make(config: config)
        log.info("simulated network: \(network.aliases.count) nodes, \(network.channelCount) channels, height \(network.blockHeight)")
        let primary = try ServedNode(name: config.node,
                                     directory: NodeDirectory(root: config.dataDirectory, network: config.network),
                                     config: config, network: network, certPath: config.tlsCertPath,
                                     keyPath: config.tlsKeyPath, sink: sink, metrics: metrics)
        var nodes: [(ServedNode, [String])] = [(primary, config.primaryListeners)]
        for (name, address) in config.serve {
            guard name != config.node, !nodes.contains(where: { $0.0.name == name }) else {
                throw ConfigError(description: "node \(name) is served twice")
            }
            let dir = NodeDirectory.secondary(name: name, datadir: config.dataDirectory, network: config.network)
            nodes.append((try ServedNode(name: name, directory: dir, config: config, network: network, sink: sink, metrics: metrics), [address]))
        }
        // The Komodo DeFi Framework API: the primary node unless --nokdf, others by --serve-kdf.
        // Prepared (rpc_password checked with KDF's policy) before anything listens.
        var kdfNodes: [(ServedNode, String)] = []
        for (name, address) in (config.noKDF ? [] : [(primary.name, config.kdfListen ?? Config.defaultKDFListen)]) + config.serveKDF {
            guard let node = nodes.first(where: { $0.0.name == name })?.0 else {
                throw ConfigError(description: "--serve-kdf \(name): node \(name) is not served (add --serve \(name)=HOST:PORT)")
            }
            try node.enableKDF(config: config)
            kdfNodes.append((node, address))
        }
        // Nodes nobody serves still receive: keysend payments settle into in-memory registries.
        var unserved: [InvoiceRegistry] = []
        for alias in network.aliases where !nodes.contains(where: { $0.0.name == alias }) {
            if let registry = try ServedNode.memoryRegistry(alias: alias, network: network, networkName: config.network,
                                                             mppTimeoutSeconds: config.mppTimeoutSeconds) {
                unserved.append(registry)
            }
        }
        // Only served nodes keep invoices across restarts (the others' registries are in memory).
        let payees = Dictionary(uniqueKeysWithValues: nodes.map { ($0.0.nodeID, $0.0.invoices) })
        for (node, _) in nodes { try node.resume(payees: payees) }
        // Payees fail incomplete MPP sets with mpp_timeout once held too long; nothing else
        // drives that clock, so without this a payment whose set never completes stays in
        // flight forever.
        let registries = nodes.map { $0.0.invoices } + unserved
        let mppExpiry = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "paytrack.mpp-expiry"))
        mppExpiry.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1))
        mppExpiry.setEventHandler { for r in registries { r.expireTimedOutHTLCSets() } }
        mppExpiry.resume()

        let group = EventLoopGroup(loopCount: config.threads > 0 ? config.threads : nil)
        let work = BlockingWork()
        var metricsServer: TLSServer?
        /// Stops everything started so far, in dependency order: listeners and their connections
        /// first (they hold the nodes' services), then the loops that ran them.
        func stopAll(gracePeriod: Duration) {
            network.stopBlockClock()
            mppExpiry.cancel()
            metricsServer?.shutdown(gracePeriodNanos: min(UInt64(gracePeriod.components.seconds), 1) * 1_000_000_000)
            for (node, _) in nodes { node.shutdown(gracePeriod: gracePeriod) }
            group.shutdown()
        }
        do {
            for (node, listeners) in nodes {
                let peers = nodes.filter { $0.0.name != node.name }.flatMap { other in
                    config.restListeners(node: other.0.name).compactMap { DashboardPeer.forListener($0, alias: other.0.name) }
                }
                try node.start(listeners: listeners, restListeners: config.restListeners(node: node.name), restPeers: peers,
                               config: config, work: work, group: group)
            }
            for (node, address) in kdfNodes {
                try node.startKDF(listener: address, config: config, work: work, group: group)
            }
            if let metrics {
                let server = TLSServer.plainHTTP1(group: group, application: MetricsHTTPApplication(registry: metrics.registry))
                server.listenerMetrics = metrics.listener("metrics")
                metricsServer = server
                let (host, port) = try ServedNode.split(config.prometheusListen)
                let bound = try server.bind(host: host, port: port)
                log.info("Prometheus metrics listening on http://\(host):\(bound)\(MetricsHTTPApplication.path)")
            }
        } catch {
            // A listener that cannot bind (a port in use, a bad address) ends startup. What
            // already listens is closed and the loops are joined before the error leaves: the
            // servers are released when this function returns, and a loop still accepting for
            // them (a client connecting meanwhile) would touch a freed server.
            log.error("startup failed: \(error)")
            stopAll(gracePeriod: .zero)
            throw error
        }
        log.info("ready")

        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        log.info("received signal \(received), shutting down")
        stopAll(gracePeriod: .seconds(5))
        log.info("shutdown complete")
        return 0
    }
}
