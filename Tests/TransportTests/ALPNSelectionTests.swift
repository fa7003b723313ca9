import XCTest
import Glibc
@testable import Transport

/// The listener's ALPN offer decides the protocol: h2 first, then http/1.1; none -> HTTP/1.1.
final class ALPNSelectionTests: XCTestCase {
    var certs: TemporaryCertificates!

    override func setUp() { certs = TemporaryCertificates(prefix: "paytrack-alpn") }
    override func tearDown() { certs.remove() }

    /// Handshakes a client offering `client` (nil: no ALPN extension) with a server offering
    /// `server`; returns the server's negotiated protocol, or "failed".
    func negotiate(server: [String], client: [String]?) throws -> String? {
        let offer = ALPNOffer(server)
        let s = TLSEngine(context: try TLSContext(serverCertificatePath: certs.cert, privateKeyPath: certs.key),
                          alpnOffer: offer)
        let clientContext = try TLSContext(clientTrusting: nil)
        let c = TLSEngine(context: clientContext, alpnProtocols: client ?? [])
        var buf = [UInt8](repeating: 0, count: 65536)
        func move(_ from: TLSEngine, _ to: TLSEngine) {
            while from.pendingCiphertext > 0 { let n = from.takeCiphertext(into: &buf, cap: buf.count); to.feed(buf, n) }
        }
        for _ in 0..<10 {
            if case .failed = c.handshake() { return "failed" }
            move(c, s)
            if case .failed = s.handshake() { return "failed" }
            move(s, c)
            if c.handshakeComplete && s.handshakeComplete { return withExtendedLifetime(offer) { s.alpn } }
        }
        return "failed"
    }

    func testHTTPListenerPrefersH2() throws {
        let http = [ALPNProtocol.http2, ALPNProtocol.http1]
        XCTAssertEqual(try negotiate(server: http, client: ["http/1.1", "h2"]), "h2")
        XCTAssertEqual(try negotiate(server: http, client: ["http/1.1"]), "http/1.1")
        XCTAssertEqual(try negotiate(server: http, client: nil), nil, "no ALPN: HTTP/1.1 by the factory")
        XCTAssertEqual(try negotiate(server: http, client: ["spdy/3"]), "failed")
    }

    func testGRPCListenerOffersOnlyH2() throws {
        XCTAssertEqual(try negotiate(server: ["h2"], client: ["h2", "http/1.1"]), "h2")
        XCTAssertEqual(try negotiate(server: ["h2"], client: ["http/1.1"]), "failed")
    }
}
