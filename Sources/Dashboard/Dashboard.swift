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
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The headers of every dashboard response.
    public static var securityHeaders: HTTPHeaders {
        var h = HTTPHeaders()
        h.add(name: "Content-Security-Policy", value: contentSecurityPolicy)
        h.add(name: "X-Content-Type-Options", value: "nosniff")
        h.add(name: "Referrer-Policy", value: "no-referrer")
        h.add(name: "X-Frame-Options", value: "DENY")
        h.add(name: "Cache-Control", value: "no-cache")
        return h
    }

    /// Registers the page's files on `gateway` (call once, before the listener starts).
    public static func install(on gateway: RESTGateway, files: [DashboardFile] = DashboardFiles.all) {
        gateway.setStaticHeaders(securityHeaders)
        for f in files {
            gateway.addStaticFile(path: "/" + f.name, contentType: f.contentType, body: f.bytes)
            if f.name == "index.html" {
                gateway.addStaticFile(path: "/", contentType: f.contentType, body: f.bytes)
            }
        }
    }
}
