import JSON

/// What the mmrpc listener received: the HTTP method, the body and the client's IP.
public struct MMRPCHTTPRequest: Sendable {
    public var method: String
    public var body: [UInt8]
    public var peerIP: String

    public init(method: String, body: [UInt8], peerIP: String) {
        self.method = method
        self.body = body
        self.peerIP = peerIP
    }
}

/// The methods behind the dispatcher: given a method name and its params, a result, an error,
/// or nil when the name is not one of its methods (NoSuchMethod).
public protocol MMRPCMethods: Sendable {
    func call(method: String, params: JSONValue) -> Result<JSONValue, MMRPCError>?
    /// Whether `method` never blocks (no lock held for long, no network, no waiting on another
    /// thread), so the listener may run it on its event loop instead of handing it to a pool.
    func runsInline(method: String) -> Bool
    /// Every method name `call` answers (metrics label other names `unknown`).
    var methodNames: [String] { get }
}

extension MMRPCMethods {
    public func runsInline(method: String) -> Bool { false }
    public var methodNames: [String] { [] }
}

/// How the dispatcher answers one HTTP request: at once, or by work that may block and so
/// belongs off the event loop.
public enum MMRPCRouting: Sendable {
    case answered(MMRPCHTTPResponse)
    /// Run `finish` where blocking is allowed; it returns the response.
    case blocking(finish: @Sendable () -> MMRPCHTTPResponse)
}

/// KDF's RPC front door (`mm2_main` `rpc.rs` + `dispatcher.rs`) as a pure function of one HTTP
/// request: bytes, method and peer IP in; status, headers and body out. No I/O.
///
/// Order (KDF's): non-POST and OPTIONS; body JSON; a top-level array is a batch (HTTP 200, one
/// reply per element); no `mmrpc` → the legacy auth (HTTP 500 `{"error"}` on failure) then v2;
/// `mmrpc` version → envelope parse → local-only → ban → userpass → method routing → params →
/// coin → method.
public final class MMRPCDispatcher: Sendable {
    public struct Configuration: Sendable {
        /// `rpccors`; nil → KDF's default origin.
        public var corsOrigin: String?
        /// KDF `rpc_local_only` (default true).
        public var localOnly: Bool = true
        /// `https: true` changes only the default CORS origin.
        public var https: Bool = false
        /// Requests of one batch beyond this are answered with an error each (memory bound).
        public var maxBatch: Int = 1000

        public init() {}

        public var allowOrigin: String { corsOrigin ?? (https ? "https://localhost:3000" : "http://localhost:3000") }
    }

    public let configuration: Configuration
    public let guardian: UserpassGuard
    public let methods: any MMRPCMethods
    let parser = JSONParser(limits: .init(maximumDepth: 64, maximumBytes: 1 << 20))
    /// The CORS header every reply carries (built once).
    let corsHeaders: [(String, String)]
    /// Counts each request (each element of a batch) and each userpass refusal; nil: metrics off.
    public let metrics: MMRPCMetrics?

    public init(configuration: Configuration, guardian: UserpassGuard, methods: any MMRPCMethods, metrics: MMRPCMetrics? = nil) {
        self.configuration = configuration
        self.guardian = guardian
        self.methods = methods
        corsHeaders = [("Access-Control-Allow-Origin", configuration.allowOrigin)]
        self.metrics = metrics
    }

    /// Answers one HTTP request (on the caller's thread, whatever its method).
    public func handle(_ request: MMRPCHTTPRequest) -> MMRPCHTTPResponse {
        switch route(request) {
        case .answered(let response): return response
        case .blocking(let finish): return finish()
        }
    }

    /// Answers one HTTP request at once when that cannot block: every error before the method
    /// runs, and the methods that `runsInline`; otherwise returns the work that finishes it (a
    /// batch is always such work).
    public func route(_ request: MMRPCHTTPRequest) -> MMRPCRouting {
        let headers = corsHeaders
        if request.method == "OPTIONS" {
            let headers = headers + [("Access-Control-Allow-Methods", "POST, OPTIONS"), ("Access-Control-Allow-Headers", "Content-Type"),
                        ("Access-Control-Max-Age", "3600")]
            return .answered(MMRPCHTTPResponse(status: 200, headers: headers, body: []))
        }
        guard request.method == "POST" else {
            return .answered(reply(500, MMRPCEnvelope.legacy("rpc:180] Only POST requests are supported!"), headers))
        }
        let value: JSONValue
        do { value = try parser.parse(request.body) } catch {
            return .answered(reply(500, MMRPCEnvelope.legacy(Self.serdeJSONMessage(error, body: request.body)), headers))
        }
        if case .array(let elements) = value {
            return .blocking { [self] in batch(elements, peerIP: request.peerIP, headers) }
        }
        let start = metrics == nil ? nil : ContinuousClock.now
        switch admit(value, peerIP: request.peerIP) {
        case .answered(let status, let body):
            count(value, status: status, since: start)
            return .answered(reply(status, body, headers))
        case .call(let req, let id):
            if methods.runsInline(method: req.method) {
                let (status, body) = run(req, id: id)
                count(value, status: status, since: start)
                return .answered(reply(status, body, headers))
            }
            return .blocking { [self] in
                let (status, body) = run(req, id: id)
                count(value, status: status, since: start)
                return reply(status, body, headers)
            }
        }
    }

    /// A JSON array: one reply per element, in order (HTTP 200).
    func batch(_ elements: [JSONValue], peerIP: String, _ headers: [(String, String)]) -> MMRPCHTTPResponse {
        var replies: [JSONValue] = []
        replies.reserveCapacity(min(elements.count, configuration.maxBatch))
        for (i, e) in elements.enumerated() {
            if i >= configuration.maxBatch {
                replies.append(MMRPCEnvelope.legacy("rpc:205] Batch too large: at most \(configuration.maxBatch) requests"))
                continue
            }
            // A nested array is not a request: the legacy path refuses it for lack of userpass.
            replies.append(single(e, peerIP: peerIP).body)
        }
        return reply(200, .array(replies), headers)
    }

    func reply(_ status: Int, _ body: JSONValue, _ headers: [(String, String)]) -> MMRPCHTTPResponse {
        var w = JSONWriter(capacity: 512)
        w.write(body)
        return MMRPCHTTPResponse(status: status, headers: headers, body: w.bytes)
    }

    /// One request object (or any other JSON value) → HTTP status and reply body, counted in the
    /// RPC metrics (method label: its `method` when served, else `unknown`; code: the HTTP status).
    func single(_ value: JSONValue, peerIP: String) -> (status: Int, body: JSONValue) {
        let start = metrics == nil ? nil : ContinuousClock.now
        let reply: (status: Int, body: JSONValue)
        switch admit(value, peerIP: peerIP) {
        case .answered(let status, let body): reply = (status, body)
        case .call(let req, let id): reply = run(req, id: id)
        }
        count(value, status: reply.status, since: start)
        return reply
    }

    /// Counts one answered request in the RPC metrics (method label: its `method` when served,
    /// else `unknown`; code: the HTTP status; latency since `start`).
    func count(_ value: JSONValue, status: Int, since start: ContinuousClock.Instant?) {
        guard let metrics, let start else { return }
        var method: String?
        if case .string(let m)? = value["method"] { method = m }
        metrics.ended(method: method, httpStatus: status, elapsed: start.duration(to: .now))
    }

    /// Where KDF's order stands once everything before the method itself has been checked.
    enum Admission {
        case answered(status: Int, body: JSONValue)
        /// Envelope, access and method name are fine: the method runs next.
        case call(MMRPCRequest, id: UInt64?)
    }

    /// KDF's order up to method routing: legacy auth, version, envelope, local-only, ban, userpass.
    func admit(_ value: JSONValue, peerIP: String) -> Admission {
        let id = MMRPCRequest.echoedID(value)
        let mmrpc = value["mmrpc"]
        var request = value
        if mmrpc == nil || mmrpc == .null {
            // Legacy dispatcher first: its own auth, then (no lightning method is legacy) v2.
            guard case .string(let pass)? = value["userpass"] else {
                metrics?.userpassRefused(.notSet)
                return .answered(status: 500, body: MMRPCEnvelope.legacy("rpc:158] RPC call failed: Userpass is not set!"))
            }
            guard guardian.matches(pass) else {
                metrics?.userpassRefused(.invalid)
                return .answered(status: 500, body: MMRPCEnvelope.legacy("rpc:158] RPC call failed: Userpass is invalid!"))
            }
            guard case .object(var members) = value else {
                return .answered(status: 500, body: MMRPCEnvelope.legacy("rpc:158] RPC call failed"))
            }
            members.removeAll { $0.key == "mmrpc" }
            members.insert(JSONMember("mmrpc", .string("2.0")), at: 0)
            request = .object(members)
        }
        do throws(MMRPCError) {
            try MMRPCRequest.checkVersion(request)
            let req: MMRPCRequest
            do throws(MMRPCError) { req = try MMRPCRequest(request) } catch {
                return .answered(status: error.httpStatus, body: MMRPCEnvelope.failure(error, id: nil))
            }
            if configuration.localOnly && !Self.isLoopback(peerIP) { throw .localHostOnly() }
            if guardian.isBanned(peerIP) { metrics?.userpassRefused(.banned); throw .banned() }
            switch guardian.check(req.userpass, ip: peerIP) {
            case .allowed: break
            case .notSet: metrics?.userpassRefused(.notSet); throw .userpassIsNotSet()
            case .banned: metrics?.userpassRefused(.banned); throw .banned()
            case .invalid(let left): metrics?.userpassRefused(.invalid); throw .userpassIsInvalid(attemptsLeft: left)
            }
            guard req.method.hasPrefix("lightning::") else { throw .noSuchMethod() }
            return .call(req, id: id)
        } catch {
            return .answered(status: error.httpStatus, body: MMRPCEnvelope.failure(error, id: id))
        }
    }

    /// Method routing, params, coin and the method itself (`admit` passed `req`).
    func run(_ req: MMRPCRequest, id: UInt64?) -> (status: Int, body: JSONValue) {
        switch methods.call(method: req.method, params: req.params) {
        case .success(let v)?: return (200, MMRPCEnvelope.success(v, id: req.id))
        case .failure(let e)?: return (e.httpStatus, MMRPCEnvelope.failure(e, id: id))
        case nil:
            let e = MMRPCError.noSuchMethod()
            return (e.httpStatus, MMRPCEnvelope.failure(e, id: id))
        }
    }

    /// 127.0.0.0/8, ::1 and IPv4-mapped loopback.
    public static func isLoopback(_ ip: String) -> Bool {
        ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.") || ip == "localhost"
    }

    /// serde_json's message for a body that is not JSON, with its `at line L column C`.
    static func serdeJSONMessage(_ e: JSONError, body: [UInt8]) -> String {
        let text: String, offset: Int
        switch e {
        case .unexpectedEnd: (text, offset) = ("EOF while parsing a value", body.count)
        case .unexpectedCharacter(_, let o):
            // serde_json names what it wanted: an object key after `{` or `,` of an object.
            var i = o - 1
            while i >= 0, [0x20, 0x0A, 0x0D, 0x09].contains(body[i]) { i -= 1 }
            let key = i >= 0 && body[i] == UInt8(ascii: "{")
            (text, offset) = (key ? "key must be a string" : "expected value", o + 1)
        case .invalidNumber(let o): (text, offset) = ("invalid number", o + 1)
        case .invalidEscape(let o): (text, offset) = ("invalid escape", o + 1)
        case .controlCharacterInString(let o): (text, offset) = ("control character (\\u0000-\\u001F) found while parsing a string", o + 1)
        case .invalidUTF8(let o): (text, offset) = ("invalid unicode code point", o + 1)
        case .tooDeep(let o): (text, offset) = ("recursion limit exceeded", o + 1)
        case .tooLarge(let n): return "request body of \(n) bytes is too large"
        case .trailingData(let o): (text, offset) = ("trailing characters", o + 1)
        case .duplicateKey(let k, let o): (text, offset) = ("duplicate key `\(k)`", o + 1)
        }
        var line = 1, column = 0
        for b in body.prefix(offset) {
            if b == 0x0A { line += 1; column = 0 } else { column += 1 }
        }
        return "\(text) at line \(line) column \(column)"
    }
}
