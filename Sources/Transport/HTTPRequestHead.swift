/// The head of an HTTP request, the same whether it arrived on HTTP/1.1 or on an HTTP/2 stream.
public struct HTTPRequestHead: Sendable {
    /// The method token as sent, e.g. "GET" (case-sensitive, RFC 9110 §9.1).
    public var method: String
    /// The request target as sent (origin form "/path?query"; HTTP/2: `:path`).
    public var target: String
    /// The target's path, still percent-encoded (the application decodes: a REST gateway must
    /// tell "%2F" from "/" inside a path segment).
    public var path: String
    /// The raw query after "?" (percent-encoded), or nil when the target has none.
    public var query: String?
    /// HTTP version: (1, 0), (1, 1) or (2, 0).
    public var version: (major: Int, minor: Int)
    /// Header fields (HTTP/2: regular fields; `:authority` is also given as `Host`).
    public var headers: HTTPHeaders
    /// The URI scheme ("https" on TLS listeners).
    public var scheme: String
    /// HTTP/2 extended CONNECT (RFC 8441): the `:protocol` pseudo-header, e.g. "websocket".
    public var connectProtocol: String?

    public init(method: String, target: String, version: (major: Int, minor: Int), headers: HTTPHeaders,
                scheme: String = "https") {
        self.method = method; self.target = target; self.version = version; self.headers = headers
        self.scheme = scheme
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<q]); query = String(target[target.utf8.index(after: q)...])
        } else {
            path = target; query = nil
        }
    }

    /// True for a WebSocket opening handshake: on HTTP/1.1 (RFC 6455 §4.1) GET, `Upgrade: websocket`,
    /// `Connection: upgrade` and a `Sec-WebSocket-Key`; on HTTP/2 (RFC 8441 §4) an extended CONNECT
    /// with `:protocol websocket`. (`HTTPResponseWriter.acceptWebSocket` answers 400/426 itself when
    /// the rest, e.g. `Sec-WebSocket-Version: 13`, is not right.)
    public var isWebSocketUpgrade: Bool {
        if version.major == 2 {
            return method == "CONNECT" && connectProtocol.map { HTTPHeaders.equalsIgnoringCase($0, "websocket") } == true
        }
        return method == "GET" && version.minor >= 1
            && headers.containsToken("websocket", in: "Upgrade")
            && headers.containsToken("upgrade", in: "Connection")
            && headers["Sec-WebSocket-Key"] != nil
    }

    /// The query's `name=value` pairs, percent-decoded ("+" as space), in order. A pair whose
    /// escapes are malformed keeps its raw text.
    public var queryItems: [(name: String, value: String)] {
        guard let q = query, !q.isEmpty else { return [] }
        return q.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let n = String(kv[0]), v = kv.count > 1 ? String(kv[1]) : ""
            return (HTTPRequestHead.percentDecode(n, plusAsSpace: true) ?? n,
                    HTTPRequestHead.percentDecode(v, plusAsSpace: true) ?? v)
        }
    }

    /// Decodes %XX escapes (and "+" as space when `plusAsSpace`); nil when an escape is malformed
    /// or the result is not UTF-8.
    public static func percentDecode(_ s: String, plusAsSpace: Bool = false) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard let h = it.popFirst(), let l = it.popFirst(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                out.append(hv << 4 | lv)
            } else if plusAsSpace && c == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
