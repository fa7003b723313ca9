import NodeLayout
import Foundation
import Options

/// Everything `paytrackd` can be told on its command line. Flag names follow LND's where LND has
/// the same setting (`--rpclisten`, `--tlsextradomain`, `--debuglevel`, `--no-macaroons`, ...).
public struct Config: Sendable {
    public var dataDirectory: String = Config.defaultDataDirectory
    public var rpcListen: [String] = []
    public var tlsCertPath: String?
    public var tlsKeyPath: String?
    public var tlsExtraDomains: [String] = []
    public var tlsExtraIPs: [String] = []
    public var noMacaroons = false
    public var network = "testnet"
    public var debugLevel = LogLevels()
    public var useStatusInitiated = false
    /// `--reflection.macaroon`: server reflection needs a macaroon with info:read (default: open).
    public var reflectionMacaroon = false
    public var keepFailedPaymentAttempts = true
    public var serve: [(name: String, address: String)] = []
    public var node = "alice"
    public var topologyPath: String?
    public var describeGraphPath: String?
    public var simSeed: UInt64 = 1
    public var blockIntervalSeconds: Double = 600
    public var hopLatencyMilliseconds: Double = 30
    public var temporaryFailureRate: Double = 0
    /// Seconds a simulated payee holds an incomplete MPP set before failing it with mpp_timeout
    /// (LND's invoice registry hold duration, 120 s).
    public var mppTimeoutSeconds: Int64 = 120
    public var maxReceiveMessageSize = 200 * 1024 * 1024
    public var maxCLTVExpiry: UInt32 = 2016
    public var macaroonPasswordFile: String?
    public var threads = 0
    /// LND's REST gateway (and its WebSocket proxy) for the primary node (`--restlisten`).
    public var restListen: [String] = []
    public var noREST = false
    /// REST listeners of other served nodes (`--serve-rest NAME=HOST:PORT`).
    public var serveREST: [(name: String, address: String)] = []
    /// `--restcors` origins ("*" for any).
    public var restCORS: [String] = []
    /// WebSocket proxy keepalive: ping interval and pong wait, seconds (LND's --ws-ping-interval, --ws-pong-wait).
    public var wsPingIntervalSeconds: Double = 30
    public var wsPongWaitSeconds: Double = 5

    /// `--configfile`: nil means `DATADIR/paytrackd.conf`, read only if it exists.
    public var configFile: String?
    /// `--logdir` (LND's): nil means `DATADIR/logs`; the file is `LOGDIR/bitcoin/<network>/paytrackd.log`.
    public var logDirectory: String?
    /// `--maxlogfilesize` in MB (LND's default 20) and `--maxlogfiles` (LND's default 3; 0: never rotate).
    public var maxLogFileSizeMB = 20
    public var maxLogFiles = 3
    /// Where durable state lives (`--db.backend`, LND's names; see DatabaseBackend.swift).
    public var dbBackend: DatabaseBackend = .sqlite
    public var postgresDSN: String?
    /// Seconds any one wait on PostgreSQL may take; 0 for none (LND's default).
    public var postgresTimeoutSeconds: Double = 0
    public var postgresMaxConnections = DatabaseBackend.defaultPostgresMaxConnections
    /// `--db.postgres.leasetimeout`: within this long of a replica's death or loss of the database,
    /// another replica takes its in-flight payments over (PaymentLeaseMachine).
    public var postgresLeaseTimeoutSeconds = DatabaseBackend.defaultPostgresLeaseTimeoutSeconds

    public static let defaultRPCListen = NodeDefaults.rpcListen
    public static let defaultRESTListen = "127.0.0.1:8080"
    public static let defaultConfigFilename = "paytrackd.conf"
    /// The Komodo DeFi Framework API (mmrpc 2.0) of the primary node; nil = `defaultKDFListen`.
    public var kdfListen: String?
    public var noKDF = false
    /// `--serve-kdf NAME=HOST:PORT`: the mmrpc listener of another served node.
    public var serveKDF: [(name: String, address: String)] = []
    public var kdfHTTPS = false
    /// nil = NODEDIR/kdf/rpc_password (generated 0600 on first start).
    public var kdfPasswordFile: String?
    public var kdfAllowWeakPassword = false
    /// nil = `tBTC-lightning`, `BTC-lightning` on mainnet.
    public var kdfCoin: String?
    public var kdfCORS: String?
    public var kdfLocalOnly = true
    /// `--prometheus.enable` (LND's flag): serve the metrics on `prometheusListen`.
    public var prometheusEnable = false
    /// `--prometheus.listen`: the scrape listener (plain HTTP, `GET /metrics`).
    public var prometheusListen = Config.defaultPrometheusListen
    /// LND's default Prometheus listener.
    public static let defaultPrometheusListen = "127.0.0.1:8989"

    /// KDF's rpcip and rpcport defaults.
    public static let defaultKDFListen = "127.0.0.1:7783"

    /// The ticker the mmrpc API answers to.
    public var kdfTicker: String { kdfCoin ?? (network == "mainnet" ? "BTC-lightning" : "tBTC-lightning") }
    public static let networks = NodeDefaults.networks

    public static var defaultDataDirectory: String { NodeDefaults.dataDirectory }

    public init() {}

    /// LND's log file location: `LOGDIR/bitcoin/<network>/paytrackd.log`, LOGDIR `DATADIR/logs` by default.
    public var logFilePath: String { (logDirectory ?? dataDirectory + "/logs") + "/bitcoin/\(network)/paytrackd.log" }

    /// The listeners of the primary node (`--rpclisten`, default 127.0.0.1:10009).
    public var primaryListeners: [String] { rpcListen.isEmpty ? [Self.defaultRPCListen] : rpcListen }

    /// The REST listeners of node `name` (the primary's default 127.0.0.1:8080; none with `--norest`).
    public func restListeners(node name: String) -> [String] {
        if noREST { return [] }
        if name == node { return restListen.isEmpty ? [Self.defaultRESTListen] : restListen }
        return serveREST.filter { $0.name == name }.map(\.address)
    }
}

/// What parsing the command line asks the program to do.
public enum CommandLineAction: Sendable {
    case run(Config)
    case help(String)
    case version(String)
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Config {
    /// One flag: its name(s), whether it takes a value, its help line and how it applies. Every
    /// flag can also be set in the configuration file (``Config/parse(_:)``).
    ///
    /// Contract: a flag whose help says "repeatable" may be given more than once (values are
    /// applied in order); any other flag only once per source. `apply` validates the value and
    /// throws a ``ConfigError`` in the `--flag ...` wording, which the parser prefixes with the
    /// file and line when the value came from the configuration file.
    struct Flag: Sendable {
        let names: [String]
        let value: String?   // placeholder for the value, nil for a boolean switch
        let help: String
        let apply: @Sendable (inout Config, String) throws -> Void

        init(names: [String], value: String?, help: String, apply: @escaping @Sendable (inout Config, String) throws -> Void) {
            self.names = names
            self.value = value
            self.help = help
            self.apply = apply
        }

        /// What the shared option parser needs of this flag.
        var spec: OptionSpec { OptionSpec(names: names, placeholder: value, repeatable: help.contains("repeatable")) }
    }

    static let flags: [Flag] = [
        Flag(names: ["datadir"], value: "DIR", help: "data directory: TLS files, macaroons, stores (default ~/.paytrack)") { $0.dataDirectory = $1 },
        Flag(names: ["rpclisten"], value: "HOST:PORT", help: "gRPC listener for the primary node; repeatable (default 127.0.0.1:10009)") { c, v in
            try checkAddress(v, flag: "rpclisten"); c.rpcListen.append(v) },
        Flag(names: ["tlscertpath"], value: "FILE", help: "TLS certificate (default DATADIR/tls.cert)") { $0.tlsCertPath = $1 },
        Flag(names: ["tlskeypath"], value: "FILE", help: "TLS private key (default DATADIR/tls.key)") { $0.tlsKeyPath = $1 },
        Flag(names: ["tlsextradomain"], value: "NAME", help: "extra DNS name for the self-signed certificate; repeatable") { $0.tlsExtraDomains.append($1) },
        Flag(names: ["tlsextraip"], value: "IP", help: "extra IP address for the self-signed certificate; repeatable") { $0.tlsExtraIPs.append($1) },
        Flag(names: ["no-macaroons"], value: nil, help: "disable macaroon authentication (insecure; for development only)") { c, _ in c.noMacaroons = true },
        Flag(names: ["macaroon-password-file"], value: "FILE", help: "encrypt the macaroon root key store with the password in FILE") { $0.macaroonPasswordFile = $1 },
        Flag(names: ["network"], value: "NET", help: "bitcoin network: mainnet, testnet, regtest, simnet, signet (default testnet)") { c, v in
            guard networks.contains(v) else { throw ConfigError(description: "unknown network \"\(v)\": use one of \(networks.joined(separator: ", "))") }
            c.network = v },
        Flag(names: ["debuglevel", "d"], value: "LEVEL", help: "log level for all subsystems, or SUBSYSTEM=level pairs (trace, debug, info, warn, error, critical, off)") { c, v in
            do { c.debugLevel = try LogLevels(parsing: v) } catch { throw ConfigError(description: "\(error)") } },
        Flag(names: ["configfile"], value: "FILE", help: "configuration file in LND's INI syntax (default DATADIR/paytrackd.conf); flags override it") { $0.configFile = $1 },
        Flag(names: ["logdir"], value: "DIR", help: "log directory: logs go to LOGDIR/bitcoin/NETWORK/paytrackd.log besides stderr (default DATADIR/logs)") { $0.logDirectory = $1 },
        Flag(names: ["maxlogfilesize"], value: "MB", help: "rotate the log file when it reaches this size in MB (default 20)") { c, v in
            guard let n = Int(v), n > 0, n <= 1 << 20 else { throw ConfigError(description: "--maxlogfilesize wants a positive number of MB") }; c.maxLogFileSizeMB = n },
        Flag(names: ["maxlogfiles"], value: "N", help: "rotated log files to keep (default 3; 0 never rotates)") { c, v in
            guard let n = Int(v), n >= 0, n <= 1000 else { throw ConfigError(description: "--maxlogfiles wants an integer in [0,1000]") }; c.maxLogFiles = n },
        Flag(names: ["usestatusinitiated", "routerrpc.usestatusinitiated"], value: nil, help: "send INITIATED (not IN_FLIGHT) for payments with no HTLCs yet, as LND's routerrpc.usestatusinitiated") { c, _ in c.useStatusInitiated = true },
        Flag(names: ["reflection.macaroon"], value: nil, help: "require a macaroon with info:read for gRPC server reflection (default: reflection is open)") { c, _ in c.reflectionMacaroon = true },
        Flag(names: ["keep-failed-payment-attempts"], value: nil, help: "keep failed HTLC attempts after a payment completes (the default)") { c, _ in c.keepFailedPaymentAttempts = true },
        Flag(names: ["prune-failed-payment-attempts"], value: nil, help: "delete failed HTLC attempts once a payment completes (LND's default behaviour)") { c, _ in c.keepFailedPaymentAttempts = false },
        Flag(names: ["node"], value: "NAME", help: "simulated node served on --rpclisten (default alice)") { $0.node = $1 },
        Flag(names: ["serve"], value: "NAME=HOST:PORT", help: "also serve simulated node NAME on HOST:PORT, files under DATADIR/nodes/NAME; repeatable") { c, v in
            guard let eq = v.firstIndex(of: "="), !v[..<eq].isEmpty else { throw ConfigError(description: "--serve wants NAME=HOST:PORT, got \"\(v)\"") }
            let addr = String(v[v.index(after: eq)...]); try checkAddress(addr, flag: "serve")
            c.serve.append((String(v[..<eq]), addr)) },
        Flag(names: ["topology"], value: "FILE", help: "simulated network topology file (JSON, docs/topology.md); default: the built-in network") { $0.topologyPath = $1 },
        Flag(names: ["describegraph"], value: "FILE", help: "build the simulated network from `lncli describegraph` JSON") { $0.describeGraphPath = $1 },
        Flag(names: ["sim.seed"], value: "N", help: "seed for simulated balances, latency jitter and failures (default 1)") { c, v in
            guard let n = UInt64(v) else { throw ConfigError(description: "--sim.seed wants an unsigned integer") }; c.simSeed = n },
        Flag(names: ["sim.blockinterval"], value: "SECONDS", help: "seconds between simulated blocks (default 600)") { c, v in c.blockIntervalSeconds = try positive(v, "sim.blockinterval") },
        Flag(names: ["sim.latency"], value: "MS", help: "mean per-hop HTLC latency in milliseconds (default 30; 0 for none)") { c, v in c.hopLatencyMilliseconds = try nonNegative(v, "sim.latency") },
        Flag(names: ["sim.failrate"], value: "RATE", help: "probability [0,1] of a random temporary channel failure per hop (default 0)") { c, v in
            let r = try nonNegative(v, "sim.failrate"); guard r <= 1 else { throw ConfigError(description: "--sim.failrate must be in [0,1]") }; c.temporaryFailureRate = r },
        Flag(names: ["sim.mpptimeout"], value: "SECONDS", help: "seconds a payee holds an incomplete MPP set before failing it with mpp_timeout (default 120)") { c, v in
            guard let n = Int64(v), n > 0 else { throw ConfigError(description: "--sim.mpptimeout wants a positive integer") }; c.mppTimeoutSeconds = n },
        Flag(names: ["max-recv-msg-size"], value: "BYTES", help: "largest gRPC request accepted (default 209715200, 200 MiB)") { c, v in
            guard let n = Int(v), n > 0 else { throw ConfigError(description: "--max-recv-msg-size wants a positive integer") }; c.maxReceiveMessageSize = n },
        Flag(names: ["max-cltv-expiry"], value: "BLOCKS", help: "largest total time lock a payment may use (default 2016)") { c, v in
            guard let n = UInt32(v), n > 0 else { throw ConfigError(description: "--max-cltv-expiry wants a positive integer") }; c.maxCLTVExpiry = n },
        Flag(names: ["restlisten"], value: "HOST:PORT", help: "REST gateway and WebSocket proxy listener for the primary node; repeatable (default 127.0.0.1:8080)") { c, v in
            try checkAddress(v, flag: "restlisten"); c.restListen.append(v) },
        Flag(names: ["norest"], value: nil, help: "do not serve the REST gateway") { c, _ in c.noREST = true },
        Flag(names: ["serve-rest"], value: "NAME=HOST:PORT", help: "REST listener of node NAME served with --serve; repeatable") { c, v in
            guard let eq = v.firstIndex(of: "="), !v[..<eq].isEmpty else { throw ConfigError(description: "--serve-rest wants NAME=HOST:PORT, got \"\(v)\"") }
            let addr = String(v[v.index(after: eq)...]); try checkAddress(addr, flag: "serve-rest")
            c.serveREST.append((String(v[..<eq]), addr)) },
        Flag(names: ["restcors"], value: "ORIGIN", help: "allow browser requests from ORIGIN (\"*\" for any); repeatable") { $0.restCORS.append($1) },
        Flag(names: ["ws-ping-interval"], value: "SECONDS", help: "WebSocket proxy: ping after this long (default 30)") { c, v in c.wsPingIntervalSeconds = try positive(v, "ws-ping-interval") },
        Flag(names: ["ws-pong-wait"], value: "SECONDS", help: "WebSocket proxy: close when no pong within this (default 5)") { c, v in c.wsPongWaitSeconds = try positive(v, "ws-pong-wait") },
        Flag(names: ["kdf.rpclisten"], value: "HOST:PORT", help: "Komodo DeFi Framework API (mmrpc 2.0, HTTP/1.1 + JSON) of the primary node (default 127.0.0.1:7783)") { c, v in
            try checkAddress(v, flag: "kdf.rpclisten"); c.kdfListen = v },
        Flag(names: ["nokdf"], value: nil, help: "serve no Komodo DeFi Framework API") { c, _ in c.noKDF = true },
        Flag(names: ["serve-kdf"], value: "NAME=HOST:PORT", help: "Komodo API of served node NAME on HOST:PORT; repeatable") { c, v in
            guard let eq = v.firstIndex(of: "="), !v[..<eq].isEmpty else { throw ConfigError(description: "--serve-kdf wants NAME=HOST:PORT, got \"\(v)\"") }
            let addr = String(v[v.index(after: eq)...]); try checkAddress(addr, flag: "serve-kdf")
            c.serveKDF.append((String(v[..<eq]), addr)) },
        Flag(names: ["kdf.https"], value: nil, help: "serve the Komodo API over TLS with the node's certificate (default plain HTTP, as KDF)") { c, _ in c.kdfHTTPS = true },
        Flag(names: ["kdf.rpcpassword-file"], value: "FILE", help: "the Komodo API's rpc_password (default NODEDIR/kdf/rpc_password, generated 0600)") { $0.kdfPasswordFile = $1 },
        Flag(names: ["kdf.allow-weak-password"], value: nil, help: "skip KDF's password policy (KDF allow_weak_password)") { c, _ in c.kdfAllowWeakPassword = true },
        Flag(names: ["kdf.coin"], value: "TICKER", help: "the ticker the Komodo API answers to (default tBTC-lightning; BTC-lightning on mainnet)") { c, v in
            guard !v.isEmpty else { throw ConfigError(description: "--kdf.coin wants a ticker") }; c.kdfCoin = v },
        Flag(names: ["kdf.rpccors"], value: "ORIGIN", help: "Access-Control-Allow-Origin of the Komodo API (default http://localhost:3000)") { $0.kdfCORS = $1 },
        Flag(names: ["kdf.rpc-local-only"], value: "BOOL", help: "refuse Komodo API calls from non-loopback clients (default true, KDF rpc_local_only)") { c, v in
            switch v.lowercased() {
            case "true", "1": c.kdfLocalOnly = true
            case "false", "0": c.kdfLocalOnly = false
            default: throw ConfigError(description: "--kdf.rpc-local-only wants true or false")
            } },
        Flag(names: ["prometheus.enable"], value: nil, help: "export Prometheus metrics (text format 0.0.4, GET /metrics) on --prometheus.listen") { c, _ in
            c.prometheusEnable = true },
        Flag(names: ["prometheus.listen"], value: "HOST:PORT", help: "the Prometheus metrics listener, plain HTTP (default 127.0.0.1:8989)") { c, v in
            try checkAddress(v, flag: "prometheus.listen"); c.prometheusListen = v },
        Flag(names: ["threads"], value: "N", help: "event-loop threads (default: one per core)") { c, v in
            guard let n = Int(v), n >= 0 else { throw ConfigError(description: "--threads wants a non-negative integer") }; c.threads = n },
        Flag(names: ["db.backend"], value: "sqlite|postgres", help: "database for durable state: sqlite (one file per store in DATADIR, the default) or postgres") { c, v in
            c.dbBackend = try DatabaseBackend(flag: v) },
        Flag(names: ["db.postgres.dsn"], value: "DSN", help: "PostgreSQL connection string or URI (with --db.backend postgres)") { $0.postgresDSN = $1 },
        Flag(names: ["db.postgres.timeout"], value: "DURATION", help: "longest wait on PostgreSQL, e.g. 10s or 500ms (default 0: none)") { c, v in
            c.postgresTimeoutSeconds = try DatabaseBackend.seconds(v, flag: "db.postgres.timeout") },
        Flag(names: ["db.postgres.maxconnections"], value: "N", help: "most PostgreSQL connections per store (default 50)") { c, v in
            guard let n = Int(v), n >= 2 else { throw ConfigError(description: "--db.postgres.maxconnections wants an integer ≥ 2") }
            c.postgresMaxConnections = n },
        Flag(names: ["db.postgres.leasetimeout"], value: "DURATION", help: "replicas: another takes a replica's in-flight payments over this long after it dies or loses the database (default 10s; at least 1s)") { c, v in
            let t = try DatabaseBackend.seconds(v, flag: "db.postgres.leasetimeout")
            guard t >= 1 else { throw ConfigError(description: "--db.postgres.leasetimeout wants at least 1s, got \"\(v)\"") }
            c.postgresLeaseTimeoutSeconds = t },
    ]

    static func checkAddress(_ v: String, flag: String) throws {
        guard let colon = v.lastIndex(of: ":"), let port = UInt16(v[v.index(after: colon)...]), port > 0 || v.hasSuffix(":0") else {
            throw ConfigError(description: "--\(flag) wants HOST:PORT, got \"\(v)\"")
        }
        _ = port
    }

    static func positive(_ v: String, _ flag: String) throws -> Double {
        guard let d = Double(v), d > 0 else { throw ConfigError(description: "--\(flag) wants a positive number") }
        return d
    }

    static func nonNegative(_ v: String, _ flag: String) throws -> Double {
        guard let d = Double(v), d >= 0 else { throw ConfigError(description: "--\(flag) wants a number ≥ 0") }
        return d
    }

    /// `--help` text: every flag, with its value placeholder and help line.
    public static func usage(program: String = "paytrackd") -> String {
        var lines = ["Usage: \(program) [flags]", "",
                     "PayTrack: an LND-compatible Lightning payment node with an embedded simulated network.", "",
                     "Flags (--flag VALUE or --flag=VALUE):"]
        for f in flags {
            let name = f.names.map { $0.count == 1 ? "-\($0)" : "--\($0)" }.joined(separator: ", ")
            let left = f.value.map { "\(name) \($0)" } ?? name
            lines.append("  " + left.padding(toLength: max(34, left.count + 2), withPad: " ", startingAt: 0) + f.help)
        }
        lines.append("  " + "-h, --help".padding(toLength: 34, withPad: " ", startingAt: 0) + "show this help")
        lines.append("  " + "-V, --version".padding(toLength: 34, withPad: " ", startingAt: 0) + "print the version")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The specs of `flags`, then `-V`/`--version` (handled here, not a setting).
    static var specs: [OptionSpec] { flags.map(\.spec) + [OptionSpec(names: ["version", "V"], placeholder: nil)] }

    /// Parses `arguments` (without the program name), then the configuration file: `--configfile`
    /// if given (it must exist), else `DATADIR/paytrackd.conf` if it exists (DATADIR as given on
    /// the command line, or the default).
    ///
    /// Contract: every flag may be set in the file (LND's INI syntax, ``ConfigFileParser``), except
    /// `configfile` itself; a flag given on the command line overrides the file's values of it
    /// (``OptionLayers``). An unknown flag or key, a bad value, or a second value of a
    /// non-repeatable flag in one source throws a ``ConfigError``; for the file it names the path,
    /// the line and the key.
    public static func parse(_ arguments: [String]) throws -> CommandLineAction {
        let specs = specs
        let scanned: CommandLineScanner.Result
        do {
            scanned = try CommandLineScanner.scan(arguments, specs: specs)
        } catch .helpRequested {
            return .help(usage())
        } catch .unknownFlag(let name) {
            throw ConfigError(description: "unknown flag --\(name) (see --help)")
        } catch {
            throw ConfigError(description: "\(error)")
        }
        if let p = scanned.positionals.first { throw ConfigError(description: "unexpected argument \"\(p)\" (see --help)") }
        if scanned.occurrences.contains(where: { $0.index == flags.count && $0.isOn }) {
            return .version("paytrackd version \(PayTrackVersion.string)")
        }
        // First the command line alone: it says where the file is (--configfile, --datadir), and
        // its bad values are reported as command-line errors. Then the file with the flags over it.
        var commandLineOnly = Config()
        try apply(scanned.occurrences, to: &commandLineOnly)
        let fileOccurrences = try readConfigFile(commandLineOnly.configFile, dataDirectory: commandLineOnly.dataDirectory, specs: specs)
        var config = Config()
        try apply(OptionLayers.merge(file: fileOccurrences, commandLine: scanned.occurrences), to: &config)
        return .run(config)
    }

    /// The occurrences of the configuration file, or none when the default file does not exist.
    static func readConfigFile(_ explicit: String?, dataDirectory: String, specs: [OptionSpec]) throws -> [OptionOccurrence] {
        let path = explicit ?? dataDirectory + "/" + defaultConfigFilename
        guard explicit != nil || FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > ConfigFileParser.maximumBytes {
                throw ConfigError(description: "\(OptionError.unreadableFile(path: path, reason: "larger than \(ConfigFileParser.maximumBytes) bytes"))")
            }
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(description: "\(OptionError.unreadableFile(path: path, reason: error.localizedDescription))")
        }
        do {
            let occurrences = try ConfigFileParser.parse(text, path: path, specs: specs)
            for o in occurrences where o.index >= flags.count || flags[o.index].names.contains("configfile") {
                throw OptionError.invalidValue(name: o.name, message: "not allowed in the configuration file", source: o.source)
            }
            return occurrences
        } catch let error as OptionError {
            throw ConfigError(description: "\(error)")
        }
    }

    /// Applies occurrences in order; a switch given as false is not applied (as before the file).
    static func apply(_ occurrences: [OptionOccurrence], to config: inout Config) throws {
        for o in occurrences where o.index < flags.count {
            let flag = flags[o.index]
            if flag.value == nil && !o.isOn { continue }
            do {
                try flag.apply(&config, flag.value == nil ? "" : o.value)
            } catch let error as ConfigError {
                guard case .file = o.source else { throw error }
                throw ConfigError(description: "\(OptionError.invalidValue(name: o.name, message: error.description, source: o.source))")
            }
        }
    }
}

