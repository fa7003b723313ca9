import Foundation
import GRPC
import LightningRPC
import Macaroons
import PaymentStore
import Payments
import Services
import Transport

/// One node PayTrack serves over gRPC: its files (LND layout under `directory`), TLS credentials,
/// macaroons, payment engine (store, control, tower) and the services bound to them.
///
/// Lifecycle: `open` prepares everything (creating keys, certificates and default macaroons on
/// first start); `start` binds the listeners; `shutdown` drains them and closes the store.
public final class ServedNode: @unchecked Sendable {
    public let name: String
    public let directory: NodeDirectory
    public let tls: TLSCredentials
    public let paymentStore: SQLitePaymentStore
    public let control: PaymentControl
    public let tower: ControlTower
    public let macaroons: MacaroonService
    public let health = HealthService()
    let log: Logger
    var server: GRPCServer?
    public private(set) var boundPorts: [Int] = []

    public init(name: String, directory: NodeDirectory, config: Config, certPath: String? = nil, keyPath: String? = nil,
                sink: LogSink) throws {
        self.name = name
        self.directory = directory
        log = sink.logger("RPCS")
        try directory.create()
        tls = try TLSCredentials.loadOrCreate(certPath: certPath ?? directory.tlsCertPath,
                                              keyPath: keyPath ?? directory.tlsKeyPath,
                                              extraDomains: config.tlsExtraDomains, extraIPs: config.tlsExtraIPs)
        if tls.generated { log.info("\(name): generated TLS certificate \(tls.certPath)") }

        paymentStore = try SQLitePaymentStore(path: directory.paymentsDatabasePath)
        tower = ControlTower(store: paymentStore)
        var options = PaymentControl.Options()
        options.keepFailedAttempts = config.keepFailedPaymentAttempts
        control = PaymentControl(store: paymentStore, tower: tower, options: options)

        if config.noMacaroons {
            macaroons = MacaroonService(checker: .disabled(), store: nil)
            log.warn("\(name): macaroon authentication is OFF (--no-macaroons)")
        } else {
            var password: [UInt8]?
            if let file = config.macaroonPasswordFile {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                password = Array(text.trimmingCharacters(in: .newlines).utf8)
            }
            let store = try MacaroonStore.openOrCreate(datadir: directory.root, network: directory.network, password: password)
            let written = try DefaultMacaroons.writeDefaultMacaroons(store: store, directory: directory.chainDirectory)
            for path in written { log.info("\(name): wrote \(path)") }
            macaroons = MacaroonService(checker: MacaroonChecker(rootKeys: store), store: store)
        }
    }

    /// The services this node answers, given its payment backend.
    func services(config: Config, sender: PaymentSending?, work: BlockingWork) -> [GRPCService] {
        let marshaller = PaymentMarshaller(useStatusInitiated: config.useStatusInitiated)
        let reflection = ReflectionService(descriptors: LightningDescriptors.files,
                                           serviceNames: LightningDescriptors.serviceNames + ["grpc.health.v1.Health"])
        return [
            RouterService(tower: tower, marshaller: marshaller, work: work, sender: sender),
            LightningService(control: control, marshaller: marshaller, macaroons: macaroons, work: work),
            health,
        ] + reflection.services
    }

    /// Binds `listeners` ("host:port") on `group` and starts answering.
    public func start(listeners: [String], config: Config, sender: PaymentSending?, work: BlockingWork,
                      group: EventLoopGroup) throws {
        var configuration = GRPCServerConfiguration()
        configuration.maxReceiveMessageSize = config.maxReceiveMessageSize
        let server = GRPCServer(services: services(config: config, sender: sender, work: work),
                                interceptors: [MacaroonInterceptor(checker: macaroons.checker)],
                                tls: try tls.makeServerContext(), configuration: configuration, group: group)
        for listener in listeners {
            let (host, port) = try Self.split(listener)
            let bound = try server.start(host: host, port: port)
            boundPorts.append(bound)
            log.info("\(name): gRPC listening on \(host):\(bound)")
        }
        health.setStatus(.serving, service: "")
        for s in LightningDescriptors.serviceNames { health.setStatus(.serving, service: s) }
        self.server = server
    }

    /// Graceful stop: NOT_SERVING, GOAWAY, unary calls finish, streams end UNAVAILABLE.
    public func shutdown(gracePeriod: Duration) {
        health.shutdown()
        server?.shutdown(gracePeriod: gracePeriod)
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
