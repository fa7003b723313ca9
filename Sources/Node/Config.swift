import Foundation

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
    /// Where durable state lives (`--db.backend`, LND's names; see DatabaseBackend.swift).
    public var dbBackend: DatabaseBackend = .sqlite
    public var postgresDSN: String?
    /// Seconds any one wait on PostgreSQL may take; 0 for none (LND's default).
    public var postgresTimeoutSeconds: Double = 0
    public var postgresMaxConnections = DatabaseBackend.defaultPostgresMaxConnections

    public static let defaultRPCListen = "127.0.0.1:10009"
    public static let networks = ["mainnet", "testnet", "regtest", "simnet", "signet"]

    public static var defaultDataDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.paytrack"
    }

    public init() {}

    /// The listeners of the primary node (`--rpclisten`, default 127.0.0.1:10009).
    public var primaryListeners: [String] { rpcListen.isEmpty ? [Self.defaultRPCListen] : rpcListen }
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
    /// One flag: its name(s), whether it takes a value, its help line and how it applies.
    struct Flag: Sendable {
        let names: [String]
        let value: String?   // placeholder for the value, nil for a boolean switch
        let help: String
        let apply: @Sendable (inout Config, String) throws -> Void
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
        Flag(names: ["usestatusinitiated", "routerrpc.usestatusinitiated"], value: nil, help: "send INITIATED (not IN_FLIGHT) for payments with no HTLCs yet, as LND's routerrpc.usestatusinitiated") { c, _ in c.useStatusInitiated = true },
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

    /// Parses `arguments` (without the program name).
    public static func parse(_ arguments: [String]) throws -> CommandLineAction {
        var config = Config()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if arg == "-h" || arg == "--help" { return .help(usage()) }
            if arg == "-V" || arg == "--version" { return .version("paytrackd version \(PayTrackVersion.string)") }
            guard arg.hasPrefix("-") else { throw ConfigError(description: "unexpected argument \"\(arg)\" (see --help)") }
            var name = String(arg.drop(while: { $0 == "-" }))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let flag = flags.first(where: { $0.names.contains(name) }) else {
                throw ConfigError(description: "unknown flag --\(name) (see --help)")
            }
            if flag.value != nil {
                if value == nil {
                    guard i < arguments.count else { throw ConfigError(description: "--\(name) needs a value (\(flag.value!))") }
                    value = arguments[i]
                    i += 1
                }
                try flag.apply(&config, value!)
            } else {
                if let v = value, !["true", "1"].contains(v.lowercased()) {
                    if ["false", "0"].contains(v.lowercased()) { continue }
                    throw ConfigError(description: "--\(name) is a switch; got value \"\(v)\"")
                }
                try flag.apply(&config, "")
            }
        }
        return .run(config)
    }
}

/// The version reported by `--version` and GetInfo.
public enum PayTrackVersion {
    public static let string = "0.1.0-paytrack"
}
