import XCTest
import Glibc
@testable import Transport

final class TLSTests: XCTestCase {
    var dir = ""

    override func setUp() {
        var t = Array("/tmp/paytrack-tls-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&t)!)
    }

    override func tearDown() {
        for f in ["tls.cert", "tls.key", "old.cert"] { unlink(dir + "/" + f) }
        rmdir(dir)
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        return st.st_mode & 0o777
    }

    func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true { let n = fread(&buf, 1, 4096, f); if n <= 0 { break }; out += buf[0..<n] }
        return String(decoding: out, as: UTF8.self)
    }

    func testLoadOrCreateGeneratesLikeLND() throws {
        let cert = dir + "/tls.cert", key = dir + "/tls.key"
        let c = try TLSCredentials.loadOrCreate(certPath: cert, keyPath: key, extraDomains: ["node.example"],
                                                extraIPs: ["10.1.2.3"])
        XCTAssertTrue(c.generated)
        XCTAssertEqual(mode(key), 0o600)
        XCTAssertEqual(mode(cert), 0o644)
        XCTAssertTrue(read(key).hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
        XCTAssertTrue(read(cert).hasPrefix("-----BEGIN CERTIFICATE-----"))
        _ = try c.makeServerContext()   // key matches cert
        // Second call keeps the pair.
        let again = try TLSCredentials.loadOrCreate(certPath: cert, keyPath: key)
        XCTAssertFalse(again.generated)
        XCTAssertEqual(read(cert), read(cert))
    }

    func testExpiredCertificateIsRegenerated() throws {
        let cert = dir + "/tls.cert", key = dir + "/tls.key"
        try TLSCredentials.generate(certPath: cert, keyPath: key, now: time(nil) - 500 * 86400)
        XCTAssertTrue(try TLSCredentials.isExpired(certPath: cert))
        let old = read(cert)
        let c = try TLSCredentials.loadOrCreate(certPath: cert, keyPath: key)
        XCTAssertTrue(c.generated)
        XCTAssertNotEqual(read(cert), old)
        XCTAssertFalse(try TLSCredentials.isExpired(certPath: cert))
    }

    func testBadExtraIPIsRejected() {
        XCTAssertThrowsError(try TLSCredentials.generate(certPath: dir + "/tls.cert", keyPath: dir + "/tls.key",
                                                         extraIPs: ["not-an-ip"]))
    }

    /// Two TLS engines over memory BIOs: handshake with ALPN h2, then bytes both ways.
    func testMemoryBIOHandshakeAndPinning() throws {
        let cert = dir + "/tls.cert", key = dir + "/tls.key"
        _ = try TLSCredentials.loadOrCreate(certPath: cert, keyPath: key)
        let server = TLSEngine(context: try TLSContext(serverCertificatePath: cert, privateKeyPath: key))
        let client = TLSEngine(context: try TLSContext(clientTrusting: cert), serverName: "localhost")
        var buf = [UInt8](repeating: 0, count: 65536)
        func move(_ from: TLSEngine, _ to: TLSEngine) {
            while from.pendingCiphertext > 0 {
                let n = from.takeCiphertext(into: &buf, cap: buf.count)
                to.feed(buf, n)
            }
        }
        var done = false
        for _ in 0..<10 {
            _ = client.handshake(); move(client, server)
            _ = server.handshake(); move(server, client)
            if client.handshakeComplete && server.handshakeComplete { done = true; break }
        }
        XCTAssertTrue(done)
        XCTAssertEqual(server.alpn, "h2")
        XCTAssertEqual(client.alpn, "h2")
        let msg = Array("hello over tls".utf8)
        XCTAssertTrue(client.writePlaintext(msg, msg.count))
        move(client, server)
        guard case .bytes(let n) = server.readPlaintext(into: &buf, cap: buf.count) else { return XCTFail() }
        XCTAssertEqual(Array(buf[0..<n]), msg)

        // A client pinned to another certificate refuses this server.
        try TLSCredentials.generate(certPath: dir + "/old.cert", keyPath: dir + "/tls.key.other")
        unlink(dir + "/tls.key.other")
        let server2 = TLSEngine(context: try TLSContext(serverCertificatePath: cert, privateKeyPath: key))
        let wrong = TLSEngine(context: try TLSContext(clientTrusting: dir + "/old.cert"))
        var failed = false
        for _ in 0..<10 {
            if case .failed = wrong.handshake() { failed = true; break }
            move(wrong, server2); _ = server2.handshake(); move(server2, wrong)
        }
        XCTAssertTrue(failed)
    }

    func testGarbageIntoServerEngineFails() throws {
        let cert = dir + "/tls.cert", key = dir + "/tls.key"
        _ = try TLSCredentials.loadOrCreate(certPath: cert, keyPath: key)
        let server = TLSEngine(context: try TLSContext(serverCertificatePath: cert, privateKeyPath: key))
        let junk = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        server.feed(junk, junk.count)
        guard case .failed = server.handshake() else { return XCTFail("plaintext HTTP must fail the handshake") }
    }
}
