import Dashboard
import Foundation

extension DashboardPeer {
    /// The peer for a REST listener "HOST:PORT" of node `alias`: nil for port 0 (not known yet)
    /// and for a wildcard host (no single origin); a page opened as `localhost` or `127.0.0.1`
    /// has either origin, so loopback listeners are reached under both.
    static func forListener(_ listener: String, alias: String) -> DashboardPeer? {
        guard let colon = listener.lastIndex(of: ":"), let port = Int(listener[listener.index(after: colon)...]), port > 0 else { return nil }
        let host = String(listener[..<colon])
        guard !host.isEmpty, host != "0.0.0.0", host != "[::]" else { return nil }
        return DashboardPeer(alias: alias, origin: "https://\(host == "localhost" ? "127.0.0.1" : host):\(port)")
    }

    /// The origins a page served on this peer's listener can have (CORS on the other listeners).
    var pageOrigins: [String] {
        guard origin.hasPrefix("https://127.0.0.1:") else { return [origin] }
        return [origin, origin.replacingOccurrences(of: "https://127.0.0.1:", with: "https://localhost:")]
    }
}
