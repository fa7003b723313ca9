import RESTGateway
import Transport

/// The live dashboard: a page served by paytrackd itself on the REST listener, talking to the
/// node only through LND's REST gateway and WebSocket proxy (and PayTrack's
/// `GET /v1/paytrack/network`), as any browser app on LND would.
///
/// Contract: `install` serves every file of `DashboardFiles.all` at `/<name>` and `index.html`
/// also at `/`, each with `securityHeaders`. The page holds the macaroon in memory only; the
/// policy allows scripts, styles and connections only to the page's own origin (a WebSocket to
/// the same host and port counts as `'self'` in CSP Level 3), images from itself or `data:`.
public enum Dashboard {
    /// Only the page's own files may run, style, load or be connected to; no inline script or
    /// style, no plugins, no framing, no form posts, no `<base>` changes.
    public static let contentSecurityPolicy = contentSecurityPolicy(peers: [])

    /// The policy of a page that may also call `peers` (the REST listeners of the other nodes this
    /// process serves, "https://HOST:PORT"): their HTTPS and WebSocket origins join `connect-src`.
    public static func contentSecurityPolicy(peers: [DashboardPeer]) -> String {
        let extra = peers.flatMap { [$0.origin, "wss://" + $0.origin.dropFirst("https://".count)] }
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src " + (["'self'"] + extra).joined(separator: " ") + "; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// The headers of every dashboard response.
    public static var securityHeaders: HTTPHeaders { securityHeaders(peers: []) }

    public static func securityHeaders(peers: [DashboardPeer]) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.add(name: "Content-Security-Policy", value: contentSecurityPolicy(peers: peers))
        h.add(name: "X-Content-Type-Options", value: "nosniff")
        h.add(name: "Referrer-Policy", value: "no-referrer")
        h.add(name: "X-Frame-Options", value: "DENY")
        h.add(name: "Cache-Control", value: "no-cache")
        return h
    }

    /// Registers the page's files on `gateway` (call once, before the listener starts), and
    /// `/dashboard-peers.json`: the other served nodes' REST origins, which the page offers for
    /// making invoices there (with that node's macaroon, entered in the page; the peers' listeners
    /// allow this page's origin by CORS).
    public static func install(on gateway: RESTGateway, files: [DashboardFile] = DashboardFiles.all,
                               peers: [DashboardPeer] = []) {
        gateway.setStaticHeaders(securityHeaders(peers: peers))
        let list = peers.map { "{\"alias\":\"\(jsonEscaped($0.alias))\",\"url\":\"\(jsonEscaped($0.origin))\"}" }
        gateway.addStaticFile(path: "/dashboard-peers.json", contentType: "application/json",
                              body: Array(("[" + list.joined(separator: ",") + "]").utf8))
        for f in files {
            gateway.addStaticFile(path: "/" + f.name, contentType: f.contentType, body: f.bytes)
            if f.name == "index.html" {
                gateway.addStaticFile(path: "/", contentType: f.contentType, body: f.bytes)
            }
        }
    }
}

/// Another node served by the same process, as the dashboard offers it.
public struct DashboardPeer: Sendable, Equatable {
    public let alias: String
    /// "https://HOST:PORT" of its REST listener.
    public let origin: String
    public init(alias: String, origin: String) { self.alias = alias; self.origin = origin }
}

/// A string's JSON escapes (aliases and origins come from flags, not from the network).
func jsonEscaped(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where u.value < 0x20:
            let h = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}
