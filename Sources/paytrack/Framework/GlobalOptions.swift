import NodeLayout

/// The global flags (given before the command name), as lncli's: where the node listens and
/// which TLS certificate and macaroon to use.
///
/// Defaults mirror `paytrackd`'s (`NodeDefaults`, `NodeDirectory`): `--rpcserver 127.0.0.1:10009`,
/// `--datadir ~/.paytrack`, cert `DATADIR/tls.cert`, macaroon
/// `DATADIR/data/chain/bitcoin/<network>/admin.macaroon`, `--network testnet`.
struct GlobalOptions: Sendable {
    var rpcServer = NodeDefaults.rpcListen
    var dataDirectory = NodeDefaults.dataDirectory
    var tlsCertPath: String?
    var macaroonPath: String?
    var network = "testnet"
    var noMacaroons = false
    /// lncli's `--macaroontimeout`: every call's macaroon gets a `time-before now+N s` caveat.
    var macaroonTimeoutSeconds: Int64 = 60
    /// lncli's `--macaroonip`: adds an `ipaddr` caveat.
    var macaroonIP: String?
    /// Deadline for each RPC (nil: none, as lncli).
    var timeout: Duration?
    /// Show bytes fields as hex (lncli's display) instead of base64.
    var hexBytes = false

    static let flags: [Flag] = [
        Flag("rpcserver", value: "HOST:PORT", help: "host:port of the PayTrack node's gRPC interface", default: NodeDefaults.rpcListen),
        Flag("datadir", aliases: ["lnddir"], value: "DIR", help: "the node's data directory; tls.cert and macaroons are found under it", default: "~/.paytrack"),
        Flag("tlscertpath", value: "FILE", help: "the node's TLS certificate (pinned)", default: "DATADIR/tls.cert"),
        Flag("macaroonpath", value: "FILE", help: "macaroon to authenticate with", default: "DATADIR/data/chain/bitcoin/NETWORK/admin.macaroon"),
        Flag("network", aliases: ["n"], value: "NET", help: "the network the node runs on: mainnet, testnet, regtest, simnet, signet", default: "testnet"),
        Flag("no-macaroons", help: "send no macaroon (for a node started with --no-macaroons)"),
        Flag("macaroontimeout", value: "SECONDS", help: "lifetime of the macaroon sent with each call (adds a time-before caveat; 0 for none)", default: "60"),
        Flag("macaroonip", value: "IP", help: "lock the macaroon sent with each call to this IP address (adds an ipaddr caveat)"),
        Flag("hexbytes", help: "print bytes fields as hex, as lncli does (default: base64, as LND's REST gateway)"),
        Flag("timeout", value: "DURATION", help: "deadline for each RPC, e.g. 30s, 500ms, 2m, or plain seconds (default: none)"),
    ]

    init() {}

    init(_ p: ParsedFlags) throws(CLIError) {
        if let v = p.string("rpcserver") {
            guard let colon = v.lastIndex(of: ":"), UInt16(v[v.index(after: colon)...]) != nil else {
                throw .usage("--rpcserver wants HOST:PORT, got \"\(v)\"")
            }
            rpcServer = v
        }
        if let v = p.string("datadir") { dataDirectory = Self.expandTilde(v) }
        tlsCertPath = p.string("tlscertpath").map(Self.expandTilde)
        macaroonPath = p.string("macaroonpath").map(Self.expandTilde)
        if let v = p.string("network") {
            guard NodeDefaults.networks.contains(v) else {
                throw .usage("unknown network \"\(v)\": use one of \(NodeDefaults.networks.joined(separator: ", "))")
            }
            network = v
        }
        noMacaroons = p.bool("no-macaroons")
        if let v = try p.int64("macaroontimeout") {
            guard v >= 0 else { throw .usage("--macaroontimeout must not be negative") }
            macaroonTimeoutSeconds = v
        }
        macaroonIP = p.string("macaroonip")
        hexBytes = p.bool("hexbytes")
        if let v = p.string("timeout") { timeout = try Self.parseDuration(v, flag: "timeout") }
    }

    var nodeDirectory: NodeDirectory { NodeDirectory(root: dataDirectory, network: network) }
    var resolvedCertPath: String { tlsCertPath ?? nodeDirectory.tlsCertPath }
    var resolvedMacaroonPath: String { macaroonPath ?? nodeDirectory.macaroonPath("admin") }

    /// `host` and `port` of `--rpcserver` (brackets around an IPv6 host removed).
    var hostAndPort: (String, Int) {
        let colon = rpcServer.lastIndex(of: ":")!
        var host = String(rpcServer[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, Int(rpcServer[rpcServer.index(after: colon)...])!)
    }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = NodeDefaults.dataDirectory.dropLast("/.paytrack".count)
        return String(home) + String(path.dropFirst())
    }

    /// Parses Go-style durations (`1m30s`, `500ms`, `2h`) and plain seconds (`30`, `1.5`).
    static func parseDuration(_ text: String, flag: String) throws(CLIError) -> Duration {
        if let s = Double(text), s >= 0, s.isFinite { return .nanoseconds(Int64(s * 1e9)) }
        var total: Double = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw .usage("invalid duration \"\(text)\" for --\(flag)") }
        while !rest.isEmpty {
            let num = rest.prefix(while: { $0.isNumber || $0 == "." })
            rest = rest.dropFirst(num.count)
            let unit = rest.prefix(while: { $0.isLetter || $0 == "µ" })
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "h": scale = 3600e9
            case "m": scale = 60e9
            case "s": scale = 1e9
            case "ms": scale = 1e6
            case "us", "µs": scale = 1e3
            case "ns": scale = 1
            default: throw .usage("invalid duration \"\(text)\" for --\(flag)")
            }
            guard let n = Double(num) else { throw .usage("invalid duration \"\(text)\" for --\(flag)") }
            total += n * scale
        }
        return .nanoseconds(Int64(total))
    }
}
