import NodeLayout
import BOLT11
import Crypto
import Dashboard
import Foundation
import GRPC
import RPCCore
import Invoices
import LightningRPC
import Macaroons
import PaymentLifecycle
import PaymentStore
import Payments
import RESTGateway
import RPCCore
import Routing
import Services
import Simnet
import Transport

/// One node PayTrack serves over gRPC: a node of the simulated network with its files (LND
/// layout under `directory`), TLS credentials, macaroons, invoice registry, payment engine
/// (store, control, tower) and the router that sends its payments.
///
/// Lifecycle: `init` prepares everything (creating certificates and default macaroons on first
/// start); `resume` relaunches payments left in flight by a previous process; `start` binds the
/// listeners; `shutdown` drains them and closes the stores.
public final class ServedNode: @unchecked Sendable {
    public let name: String
    public let nodeID: NodeID
    public let directory: NodeDirectory
    public let tls: TLSCredentials
    public let paymentStore: any PaymentPersistence
    public let control: PaymentControl
    public let tower: ControlTower
    public let macaroons: MacaroonService
    public let invoices: InvoiceRegistry
    public let router: ChannelRouter
    public let health = HealthService()
    let network: SimulatedNetwork
    let currency: Currency
    let log: Logger
    var server: GRPCServer?
    var restServer: TLSServer?
    var routerService: RouterService?
    /// The Komodo DeFi Framework API, once `enableKDF` ran.
    public private(set) var kdf: KDFService?
    var kdfServer: TLSServer?
    /// With --db.backend postgres: other replicas' payment changes into `tower`.
    var paymentFeed: PostgresPaymentFeed?
    /// With --db.backend postgres: the payment lease and the shared payment-index sequence.
    let replica: PaymentReplica?
    /// The process's metrics (`--prometheus.enable`), nil when off.
    let metrics: NodeMetrics?
    /// With --db.backend postgres: hold invoices settled or canceled through other replicas.
    var invoiceFeed: PostgresInvoiceFeed?

    public init(name: String, directory: NodeDirectory, config: Config, network: SimulatedNetwork,
                certPath: String? = nil, keyPath: String? = nil, sink: LogSink, metrics: NodeMetrics? = nil) throws {
        self.name = name
        self.metrics = metrics
        self.directory = directory
        self.network = network
        log = sink.logger("RPCS")
        guard let id = network.nodeID(alias: name), let key = network.privateKey(of: id) else {
            throw ConfigError(description: "no simulated node \"\(name)\" with a signing key; nodes: \(network.aliases.joined(separator: ", "))")
        }
        nodeID = id
        guard let currency = Currency(network: config.network) else {
            throw ConfigError(description: "no BOLT 11 currency for network \(config.network)")
        }
        self.currency = currency
        try directory.create()
        // The node's identity key lives in the datadir (0600) like LND's; the simulated network
        // decides it (from --sim.seed), so a datadir stays bound to the node it was made for.
        let identity = try NodeIdentity.loadOrAdopt(path: directory.nodeKeyPath, key: key)
        guard identity.publicKey.compressed == id.bytes else {
            throw ConfigError(description: "\(directory.nodeKeyPath) holds node \(Hex.encode(identity.publicKey.compressed)), "
                + "but simulated node \(name) is \(id.hex) (was --sim.seed or the topology changed?)")
        }
        tls = try TLSCredentials.loadOrCreate(certPath: certPath ?? directory.tlsCertPath,
                                              keyPath: keyPath ?? directory.tlsKeyPath,
                                              extraDomains: config.tlsExtraDomains, extraIPs: config.tlsExtraIPs)
        if tls.generated { log.info("\(name): generated TLS certificate \(tls.certPath)") }

        replica = config.dbBackend == .postgres ? try PaymentReplica(config: config, node: name) : nil
        paymentStore = try config.openPaymentStore(node: name, sqlitePath: directory.paymentsDatabasePath, leaseGate: replica?.gate)
        if let metrics { paymentStore.observeCommits(metrics.commitObserver) }
        // CRTR (LND's control-tower subsystem) at debug: one line per published update with the
        // wall clock at which the fan-out began (benchmarks split commit time from fan-out time).
        tower = ControlTower(store: paymentStore,
                             publishObserver: Self.publishLogger(sink.logger("CRTR"), node: name, useStatusInitiated: config.useStatusInitiated))
        var options = PaymentControl.Options()
        options.keepFailedAttempts = config.keepFailedPaymentAttempts
        options.indexSource = replica?.indexSource
        options.statusObserver = metrics?.paymentStatusObserver
        control = PaymentControl(store: paymentStore, tower: tower, options: options)
        paymentFeed = try config.startPaymentFeed(node: name, tower: tower)

        var invoiceConfig = InvoiceRegistry.Configuration(currency: currency, nodeKey: key)
        invoiceConfig.acceptKeysend = true
        invoiceConfig.mppTimeoutSeconds = config.mppTimeoutSeconds
        // A shared network's HTLCs outlive this process's start: another replica may hold them.
        invoiceConfig.cancelAcceptedAtOpen = config.dbBackend == .sqlite
        invoices = try InvoiceRegistry(database: config.invoiceDatabase(node: name, sqlitePath: directory.invoicesDatabasePath),
                                       configuration: invoiceConfig)
        invoiceFeed = try config.startInvoiceFeed(node: name, registry: invoices)
        network.setPayeeHandler(InvoicePayee(registry: invoices), for: id)
        // LND's invoice expiry watcher: accepted hold invoices are canceled 18 blocks before their HTLCs expire.
        network.onNewBlock { [invoices] height in invoices.cancelExpiringHoldInvoices(height: height) }

        let paymentLog = sink.logger("PAYM")
        router = ChannelRouter(source: id, network: network, control: control,
                               intents: try config.openIntentStore(node: name, sqlitePath: directory.graphDirectory + "/intents.sqlite"),
                               maxCLTVExpiry: config.maxCLTVExpiry, leaseGate: replica?.gate, ledgerScope: replica?.ledgerScope,
                               log: { paymentLog.info("\(name): \($0)") })

        if config.noMacaroons {
            macaroons = MacaroonService(checker: .disabled(), store: nil)
            log.warn("\(name): macaroon authentication is OFF (--no-macaroons)")
        } else {
            var password: [UInt8]?
            if let file = config.macaroonPasswordFile {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                password = Array(text.trimmingCharacters(in: .newlines).utf8)
            }
            let store = try config.openMacaroonStore(node: name, datadir: directory.root, network: directory.network, password: password)
            let written = try DefaultMacaroons.writeDefaultMacaroons(store: store, directory: directory.chainDirectory)
            for path in written { log.info("\(name): wrote \(path)") }
            macaroons = MacaroonService(checker: MacaroonChecker(
                rootKeys: store, requiredPermissions: RequiredPermissions.requiredPermissions(reflectionMacaroon: config.reflectionMacaroon),
                openMethods: RequiredPermissions.openMethods(reflectionMacaroon: config.reflectionMacaroon)), store: store)
        }
    }

    /// The control tower's publish observer when CRTR logs at debug (nil otherwise: no clock read,
    /// no formatting): `published payment HASH status=S htlcs=N inflight=I settled=K failed=F
    /// subscribers=M published_at_ns=T`, with the lnrpc status number and T the CLOCK_REALTIME at
    /// which the fan-out of the committed update began.
    static func publishLogger(_ log: Logger, node: String, useStatusInitiated: Bool) -> ControlTower.PublishObserver? {
        guard log.enabled(.debug) else { return nil }
        return { (s: PaymentSnapshot, at: Int64, n: Int) in
            var settled = 0, failed = 0, inFlight = 0
            for a in s.attempts {
                switch a.status {
                case .succeeded: settled += 1
                case .failed: failed += 1
                case .inFlight: inFlight += 1
                }
            }
            let status = s.status.rpcValue(useStatusInitiated: useStatusInitiated)
            let counts = "htlcs=\(s.attempts.count) inflight=\(inFlight) settled=\(settled) failed=\(failed)"
            log.debug("\(node): published payment \(s.paymentHash.hex) status=\(status) \(counts) subscribers=\(n) published_at_ns=\(at)")
        }
    }

    /// An in-memory invoice registry accepting keysend for a simulated node nobody serves.
    static func memoryRegistry(alias: String, network: SimulatedNetwork, networkName: String,
                               mppTimeoutSeconds: Int64) throws -> InvoiceRegistry? {
        guard let id = network.nodeID(alias: alias), let key = network.privateKey(of: id),
              let currency = Currency(network: networkName) else { return nil }
        var c = InvoiceRegistry.Configuration(currency: currency, nodeKey: key)
        c.acceptKeysend = true
        c.mppTimeoutSeconds = mppTimeoutSeconds
        let registry = try InvoiceRegistry(path: ":memory:", configuration: c)
        network.setPayeeHandler(InvoicePayee(registry: registry), for: id)
        return registry
    }

    /// Resumes payments a previous process left in flight (their HTLCs died with it);
    /// `payees` are the served nodes' invoice registries, asked whether an attempt's final node
    /// already settled it.
    ///
    /// Replicas (PostgreSQL): only payments whose owner's lease lapsed are resumed, now and
    /// whenever another replica's lease lapses later (`PaymentReplica`); this returns once this
    /// process holds its lease.
    public func resume(payees: [NodeID: InvoiceRegistry] = [:]) throws {
        let settled: @Sendable (NodeID, PaymentHash) -> [UInt8]? = { destination, hash in
            guard let registry = payees[destination], let invoice = try? registry.lookupInvoice(rHash: hash.bytes),
                  invoice.state == .settled, let preimage = invoice.rPreimage,
                  Crypto.SHA256.hash(preimage) == hash.bytes else { return nil }
            return preimage
        }
        guard let replica else {
            return try router.resumePayments(settledPreimage: settled)
        }
        let leaseLog = log
        try replica.start(router: router, ledger: network.ledger, log: { [name] in leaseLog.info("\(name): \($0)") }) { [router, name] payments in
            do { try router.resume(payments, settledPreimage: settled) } catch {
                leaseLog.warn("\(name): resuming \(payments.count) payment(s) taken over: \(error)")
            }
        }
    }

    /// GetInfo's view of this node now.
    func nodeInfo() -> NodeInfo {
        let channels = network.channels(of: nodeID)
        let active = channels.filter { $0.localPolicy?.disabled != true }.count
        let peers = Set(channels.map(\.remoteNode)).count
        return NodeInfo(identityPubkey: nodeID.hex, alias: name, color: "#3399ff",
                        numActiveChannels: UInt32(active), numInactiveChannels: UInt32(channels.count - active),
                        numPeers: UInt32(peers), blockHeight: network.blockHeight, blockHash: "",
                        bestHeaderTimestamp: Int64(Date().timeIntervalSince1970), network: directory.network,
                        features: FeatureVector(bits: [FeatureVector.varOnionOptinRequired, FeatureVector.paymentSecretRequired,
                                                       FeatureVector.basicMPPOptional]))
    }

    /// One single-hop route hint per private channel whose peer's policy is known: the peer's
    /// fees and CLTV delta for forwarding to us (LND `SelectHopHints`, used by AddInvoice `private`).
    func privateHopHints() -> [[BOLT11.HopHint]] {
        network.channels(of: nodeID).compactMap { c in
            guard c.isPrivate, let p = c.remotePolicy, !p.disabled,
                  let key = try? PublicKey(serialized: c.remoteNode.bytes) else { return nil }
            return [BOLT11.HopHint(nodeID: key, shortChannelID: c.shortChannelID.rawValue,
                                   feeBaseMsat: UInt32(clamping: p.feeBaseMsat),
                                   feeProportionalMillionths: UInt32(clamping: p.feeRatePPM),
                                   cltvExpiryDelta: UInt16(clamping: p.timeLockDelta))]
        }
    }

    /// The services this node answers.
    func services(config: Config, work: BlockingWork) -> [RPCService] {
        let marshaller = PaymentMarshaller(useStatusInitiated: config.useStatusInitiated)
        let parser = SendPaymentRequestParser(selfNode: nodeID, currency: currency, maxCLTVExpiry: config.maxCLTVExpiry)
        let sender = NodePaymentSender(parser: parser, router: router)
        let reflection = ReflectionService(descriptors: LightningDescriptors.files,
                                           serviceNames: LightningDescriptors.serviceNames + ["grpc.health.v1.Health"])
        let router = RouterService(tower: tower, marshaller: marshaller, work: work, sender: sender,
                                   fanoutLatency: metrics?.fanoutDeliverySeconds)
        routerService = router
        return [
            router,
            LightningService(control: control, marshaller: marshaller, macaroons: macaroons, invoices: invoices,
                             currency: currency, version: PayTrackVersion.string,
                             nodeInfo: { [unowned self] in nodeInfo() }, work: work,
                             privateHints: { [unowned self] in privateHopHints() }),
            health,
            SimnetService(network: network, servedAliases: Set([config.node] + config.serve.map(\.name))),
        ] + moreServices(marshaller: marshaller, parser: parser, sender: sender, work: work) + reflection.services
    }

    /// Binds `listeners` ("host:port", gRPC) and `restListeners` (LND's REST gateway and WebSocket
    /// proxy) on `group` and starts answering; returns the bound gRPC ports. Both faces run the
    /// same service instances and the same macaroon interceptor.
    @discardableResult
    public func start(listeners: [String], restListeners: [String] = [], restPeers: [DashboardPeer] = [],
                      config: Config, work: BlockingWork, group: EventLoopGroup) throws -> [Int] {
        var configuration = GRPCServerConfiguration()
        configuration.maxReceiveMessageSize = config.maxReceiveMessageSize
        let services = services(config: config, work: work)
        let interceptors: [ServerInterceptor] = [MacaroonInterceptor(checker: macaroons.checker, refusals: metrics?.macaroonRefusals)]
        let tlsContext = try tls.makeServerContext()
        let server = GRPCServer(services: services, interceptors: interceptors,
                                tls: tlsContext, configuration: configuration, group: group, metrics: metrics?.rpc)
        server.listenerMetrics = metrics?.listener("grpc")
        self.server = server    // before binding: `shutdown` then closes whatever bound
        var ports: [Int] = []
        for listener in listeners {
            let (host, port) = try Self.split(listener)
            let bound = try server.start(host: host, port: port)
            ports.append(bound)
            log.info("\(name) (\(nodeID.hex.prefix(16))…): gRPC listening on \(host):\(bound)")
        }
        if !restListeners.isEmpty {
            // The dashboards of the other nodes this process serves may make invoices here: their
            // origins are allowed by CORS besides --restcors (same operator, same process).
            let peerPages = restPeers.flatMap(\.pageOrigins)
            let gateway = RESTGateway(services: services, interceptors: interceptors,
                                      corsOrigins: config.restCORS + peerPages, metrics: metrics?.rpc)
            Dashboard.install(on: gateway, peers: restPeers)
            var http = HTTPServerConfiguration()
            http.maxBodyBytes = config.maxReceiveMessageSize
            http.webSocket.pingIntervalNanos = UInt64(config.wsPingIntervalSeconds * 1e9)
            http.webSocket.pongWaitNanos = UInt64(config.wsPongWaitSeconds * 1e9)
            let rest = TLSServer.http(group: group, tls: tlsContext, application: gateway, configuration: http)
            rest.listenerMetrics = metrics?.listener("rest")
            restServer = rest
            for listener in restListeners {
                let (host, port) = try Self.split(listener)
                let bound = try rest.bind(host: host, port: port)
                log.info("\(name): REST gateway and WebSocket proxy listening on \(host):\(bound)")
            }
        }
        health.setStatus(.serving, service: "")
        for s in LightningDescriptors.serviceNames { health.setStatus(.serving, service: s) }
        return ports
    }

    /// Prepares the Komodo DeFi Framework API (password, records, keeper, dispatcher).
    @discardableResult
    public func enableKDF(config: Config) throws -> KDFService {
        if let kdf { return kdf }
        let service = try KDFService(node: self, config: config, log: log)
        kdf = service
        return service
    }

    /// Binds the Komodo API (mmrpc 2.0 over HTTP/1.1; TLS with the node's certificate when
    /// `--kdf.https`) on `listener`; returns the bound port.
    @discardableResult
    public func startKDF(listener: String, config: Config, work: BlockingWork, group: EventLoopGroup) throws -> Int {
        let service = try enableKDF(config: config)
        let app = KDFHTTPApplication(dispatcher: service.dispatcher, work: work)
        let server = config.kdfHTTPS ? TLSServer.http(group: group, tls: try tls.makeServerContext(), application: app)
                                     : TLSServer.plainHTTP1(group: group, application: app)
        server.listenerMetrics = metrics?.listener("kdf")
        kdfServer = server
        let (host, port) = try Self.split(listener)
        let bound = try server.bind(host: host, port: port)
        log.info("\(name): Komodo DeFi Framework API (mmrpc 2.0, coin \(config.kdfTicker)) listening on "
            + "\(config.kdfHTTPS ? "https" : "http")://\(host):\(bound); rpc_password in \(service.passwordPath)")
        return bound
    }

    /// Graceful stop: NOT_SERVING, GOAWAY, unary calls finish, streams end UNAVAILABLE.
    public func shutdown(gracePeriod: Duration) {
        kdfServer?.shutdown(gracePeriodNanos: UInt64(gracePeriod.components.seconds) * 1_000_000_000)
        kdf?.shutdown()
        health.shutdown()
        routerService?.shutdown()
        let (secs, atto) = gracePeriod.components
        restServer?.shutdown(gracePeriodNanos: UInt64(max(0, secs)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000))
        server?.shutdown(gracePeriod: gracePeriod)
        replica?.stop()
        paymentFeed?.stop()
        invoiceFeed?.stop()
        paymentStore.close()
    }

    static func split(_ listener: String) throws -> (String, Int) {
        guard let colon = listener.lastIndex(of: ":"), let port = Int(listener[listener.index(after: colon)...]) else {
            throw ConfigError(description: "bad listen address \"\(listener)\"")
        }
        var host = String(listener[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
