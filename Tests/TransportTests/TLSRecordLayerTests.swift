import XCTest
import Glibc
import COpenSSL
@testable import Transport

/// The compact TLS 1.3 record layer against OpenSSL itself: a real OpenSSL client (`TLSEngine`
/// in client mode, memory BIOs) talks to a server engine that switches to `TLSRecordLayer`.
final class TLSRecordLayerTests: XCTestCase {
    var certs: TemporaryCertificates!
    var buf = [UInt8](repeating: 0, count: 1 << 17)

    override func setUp() { certs = TemporaryCertificates(prefix: "paytrack-tlsrec") }
    override func tearDown() { certs.remove() }

    let offer = ALPNOffer([ALPNProtocol.http2, ALPNProtocol.http1])

    /// A handshaken pair (client offers http/1.1; `tls12` caps the client at TLS 1.2).
    func pair(tls12: Bool = false, cipherSuites: String? = nil) throws -> (client: TLSEngine, server: TLSEngine) {
        let s = TLSEngine(context: try TLSContext(serverCertificatePath: certs.cert, privateKeyPath: certs.key),
                          alpnOffer: offer, compactRecordLayer: true)
        let c = TLSEngine(context: try TLSContext(clientTrusting: certs.cert), serverName: "localhost", alpnProtocols: ["http/1.1"])
        if tls12 { _ = SSL_ctrl(c.ssl, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(TLS1_2_VERSION), nil) }
        if let cipherSuites { XCTAssertEqual(SSL_set_ciphersuites(c.ssl, cipherSuites), 1) }
        for _ in 0..<10 {
            _ = c.handshake(); move(c, s)
            _ = s.handshake(); move(s, c)
            if c.handshakeComplete && s.handshakeComplete { break }
        }
        XCTAssertTrue(c.handshakeComplete && s.handshakeComplete)
        XCTAssertEqual(s.alpn, "http/1.1")
        return (c, s)
    }

    func move(_ from: TLSEngine, _ to: TLSEngine) {
        while from.pendingCiphertext > 0 {
            let n = from.takeCiphertext(into: &buf, cap: buf.count)
            to.feed(buf, n)
        }
    }

    func ciphertext(_ from: TLSEngine) -> [UInt8] {
        var out: [UInt8] = []
        while from.pendingCiphertext > 0 { let n = from.takeCiphertext(into: &buf, cap: buf.count); out += buf[0..<n] }
        return out
    }

    /// Everything `e` can decrypt now, and how reading stopped.
    func readAll(_ e: TLSEngine) -> ([UInt8], TLSEngine.ReadResult) {
        var out: [UInt8] = []
        var plain = [UInt8](repeating: 0, count: 20000)
        while true {
            let r = e.readPlaintext(into: &plain, cap: plain.count)
            if case .bytes(let n) = r { out += plain[0..<n]; continue }
            return (out, r)
        }
    }

    func send(_ from: TLSEngine, _ to: TLSEngine, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(from.writePlaintext(bytes, bytes.count), file: file, line: line)
        move(from, to)
        let (got, end) = readAll(to)
        XCTAssertEqual(got, bytes, file: file, line: line)
        guard case .wantMore = end else { return XCTFail("reading ended: \(end)", file: file, line: line) }
    }

    func pattern(_ n: Int, _ seed: UInt8 = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

    /// Sends the client's pending bytes and lets the server switch; returns whether it did.
    func switched(_ c: TLSEngine, _ s: TLSEngine) -> Bool {
        _ = readAll(s)
        move(s, c)
        _ = readAll(c)
        return s.switchToRecordLayer()
    }

    func testSwitchRightAfterHandshakeAndDataBothWays() throws {
        for suites in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] {
            let (c, s) = try pair(cipherSuites: suites)
            XCTAssertTrue(s.awaitsRecordLayer)
            XCTAssertTrue(switched(c, s), suites)
            XCTAssertNotNil(s.records)
            XCTAssertNil(s.ssl, "the SSL object is freed")
            XCTAssertFalse(s.awaitsRecordLayer)
            send(c, s, Array("GET / HTTP/1.1\r\n\r\n".utf8))
            send(s, c, Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
            // Larger than a record each way (cut into 16 KiB records).
            send(c, s, pattern(50_000, 1))
            send(s, c, pattern(70_000, 2))
        }
    }

    /// Records sealed straight into the caller's buffer (the send path) and records sealed
    /// through the outbox share one sequence: the client reads them all, in order. The direct
    /// path declines whenever order or room would be at stake.
    func testSealIntoCallerBufferKeepsOrderWithTheOutbox() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        var wire = [UInt8](repeating: 0, count: 40_000)
        let a = pattern(16_384, 1), b = pattern(3_400, 2), d = pattern(10, 3)
        XCTAssertNil(s.writePlaintext(a, a.count, into: &wire, cap: a.count + 21), "no room for the tag")
        let na = try XCTUnwrap(s.writePlaintext(a, a.count, into: &wire, cap: wire.count))
        XCTAssertEqual(na, 5 + a.count + 1 + 16)
        XCTAssertTrue(s.writePlaintext(b, b.count))   // through the outbox
        XCTAssertNil(wire.withUnsafeMutableBytes { s.writePlaintext(d, d.count, into: $0.baseAddress! + na, cap: $0.count - na) },
                     "the outbox holds a record: order first")
        let queued = ciphertext(s)
        let nd = try XCTUnwrap(wire.withUnsafeMutableBytes { s.writePlaintext(d, d.count, into: $0.baseAddress! + na, cap: $0.count - na) })
        XCTAssertNil(s.writePlaintext(pattern(16_385), 16_385, into: &wire, cap: wire.count), "more than one record")
        // On the wire: a, then b (taken from the outbox), then d.
        c.feed(wire, na)
        c.feed(queued, queued.count)
        wire.withUnsafeBytes { c.feed($0.baseAddress! + na, nd) }
        let (got, end) = readAll(c)
        XCTAssertEqual(got, a + b + d)
        guard case .wantMore = end else { return XCTFail("reading ended: \(end)") }
        XCTAssertEqual(s.records!.sequenceNumbers.write, 2 + 3, "two session tickets, then three records")
        s.shutdown()
        _ = ciphertext(s)
        XCTAssertNil(s.writePlaintext(d, d.count, into: &wire, cap: wire.count), "nothing after close_notify")
    }

    func testSequenceNumbersCountTrafficBeforeTheSwitch() throws {
        let (c, s) = try pair()
        // Records both ways through OpenSSL first (and the session tickets the server sent).
        for i in 0..<3 { send(c, s, pattern(100 + i, UInt8(i))) }
        for i in 0..<5 { send(s, c, pattern(20_000 + i, UInt8(i))) }
        XCTAssertTrue(switched(c, s))
        let seq = s.records!.sequenceNumbers
        XCTAssertEqual(seq.read, 3)
        XCTAssertEqual(seq.write, 2 + 10, "two session tickets, then 5 messages of 2 records")
        send(c, s, pattern(300, 9))
        send(s, c, pattern(300, 8))
    }

    func testNoSwitchWhileBytesArePending() throws {
        let (c, s) = try pair()
        _ = readAll(s); move(s, c); _ = readAll(c)
        let msg = pattern(100)
        XCTAssertTrue(c.writePlaintext(msg, msg.count))
        let wire = ciphertext(c)
        s.feed(wire, 10)   // half a record waits in OpenSSL's read BIO
        XCTAssertFalse(s.switchToRecordLayer())
        XCTAssertTrue(s.awaitsRecordLayer)
        wire.withUnsafeBytes { s.feed($0.baseAddress! + 10, wire.count - 10) }
        XCTAssertFalse(s.switchToRecordLayer(), "not yet read")
        XCTAssertEqual(readAll(s).0, msg)
        XCTAssertTrue(s.writePlaintext(msg, msg.count))
        XCTAssertFalse(s.switchToRecordLayer(), "ciphertext not yet taken")
        move(s, c)
        XCTAssertEqual(readAll(c).0, msg)
        XCTAssertTrue(s.switchToRecordLayer())
        send(c, s, msg)
        send(s, c, msg)
    }

    func testTLS12StaysOnOpenSSL() throws {
        let (c, s) = try pair(tls12: true)
        XCTAssertFalse(s.awaitsRecordLayer)
        XCTAssertFalse(switched(c, s))
        send(c, s, pattern(100))
        send(s, c, pattern(100))
    }

    func testKeyUpdateBeforeTheSwitchKeepsOpenSSL() throws {
        let (c, s) = try pair()
        XCTAssertEqual(SSL_key_update(c.ssl, SSL_KEY_UPDATE_NOT_REQUESTED), 1)
        send(c, s, pattern(10))
        XCTAssertFalse(switched(c, s), "the captured secrets are stale after a KeyUpdate")
        XCTAssertFalse(s.awaitsRecordLayer)
        send(s, c, pattern(10))
    }

    func testKeyUpdateFromTheClientBothKinds() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        // update_not_requested: only the client's keys change.
        XCTAssertEqual(SSL_key_update(c.ssl, SSL_KEY_UPDATE_NOT_REQUESTED), 1)
        send(c, s, pattern(500, 1))
        XCTAssertEqual(s.records!.sequenceNumbers.read, 1)
        send(s, c, pattern(500, 2))
        // update_requested: the server answers with its own KeyUpdate and new keys.
        for round in 0..<3 {
            XCTAssertEqual(SSL_key_update(c.ssl, SSL_KEY_UPDATE_REQUESTED), 1)
            send(c, s, pattern(700, UInt8(round)))
            XCTAssertEqual(s.records!.sequenceNumbers.write, 0, "our KeyUpdate went out under the old keys; the new ones start at 0")
            send(s, c, pattern(900, UInt8(round)))
            XCTAssertEqual(SSL_get_key_update_type(c.ssl), SSL_KEY_UPDATE_NONE)
        }
    }

    func testKeyUpdateFromTheServer() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        let crypto = TLSRecordCrypto.forCurrentThread
        XCTAssertTrue(s.records!.sendKeyUpdate(requestPeerUpdate: false, crypto: crypto))
        send(s, c, pattern(300, 3))
        send(c, s, pattern(300, 4))
        XCTAssertTrue(s.records!.sendKeyUpdate(requestPeerUpdate: true, crypto: crypto))
        send(s, c, pattern(300, 5))
        // OpenSSL answers with its KeyUpdate before its next data.
        send(c, s, pattern(300, 6))
        XCTAssertEqual(s.records!.sequenceNumbers.read, 1, "the client's new keys started with that record")
    }

    func testCloseNotifyBothWays() throws {
        var (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        _ = SSL_shutdown(c.ssl)
        move(c, s)
        guard case .closed = readAll(s).1 else { return XCTFail("close_notify ends reading") }
        move(s, c)
        guard case .closed = readAll(c).1 else { return XCTFail("the server answered with close_notify") }
        XCTAssertFalse(s.writePlaintext([1], 1), "nothing after close_notify")

        (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        s.shutdown()
        move(s, c)
        guard case .closed = readAll(c).1 else { return XCTFail("the client sees our close_notify") }
    }

    /// The alert the client's OpenSSL reports after reading the server's output.
    func alertSeenByClient(_ c: TLSEngine, _ s: TLSEngine) -> Int32 {
        move(s, c)
        ERR_clear_error()
        var b = [UInt8](repeating: 0, count: 100)
        let r = SSL_read(c.ssl, &b, 100)
        XCTAssertLessThanOrEqual(r, 0)
        let e = ERR_get_error()
        ERR_clear_error()
        return Int32(e & 0x7fffff)
    }

    func testTamperedRecordIsBadRecordMAC() throws {
        for position in [0, 1, 2, 5, 20, -1] {   // type, version (in the additional data), body, tag
            let (c, s) = try pair()
            XCTAssertTrue(switched(c, s))
            let msg = pattern(40)
            XCTAssertTrue(c.writePlaintext(msg, msg.count))
            var wire = ciphertext(c)
            let p = position < 0 ? wire.count - 1 : position
            if p < 5 && p != 0 { wire[p] ^= 0x01 } else { wire[p] ^= 0x80 }
            if position == 0 { wire[0] = 23 ^ 0x80 }
            s.feed(wire, wire.count)
            guard case .failed = readAll(s).1 else { return XCTFail("tampered byte \(p) accepted") }
            let expected = position == 0 ? SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE : SSL_R_SSLV3_ALERT_BAD_RECORD_MAC
            XCTAssertEqual(alertSeenByClient(c, s), expected, "byte \(p)")
            XCTAssertFalse(s.writePlaintext([1], 1), "nothing after a fatal alert")
            s.feed(wire, wire.count)
            guard case .failed = readAll(s).1 else { return XCTFail() }
            XCTAssertEqual(s.pendingCiphertext, 0, "one alert only")
        }
    }

    func testOversizeRecordIsRecordOverflow() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        let header: [UInt8] = [23, 3, 3, 0x41, 0x01]   // 16,641 bytes: over 2^14 + 256
        s.feed(header, header.count)
        guard case .failed = readAll(s).1 else { return XCTFail() }
        XCTAssertEqual(alertSeenByClient(c, s), SSL_R_TLSV1_ALERT_RECORD_OVERFLOW)
    }

    func testPaddingAndEmptyRecordsReachOpenSSL() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        let crypto = TLSRecordCrypto.forCurrentThread
        var layer = s.records!   // a copy with the server's keys and sequence numbers
        let msg = pattern(1000)
        XCTAssertTrue(msg.withUnsafeBytes { layer.sealRecords($0, contentType: 23, padding: 200, crypto: crypto) })
        XCTAssertTrue([UInt8]().withUnsafeBytes { layer.sealRecords($0, contentType: 23, crypto: crypto) })
        var wire: [UInt8] = []
        while layer.pendingCiphertext > 0 { let n = layer.takeCiphertext(into: &buf, cap: buf.count); wire += buf[0..<n] }
        c.feed(wire, wire.count)
        XCTAssertEqual(readAll(c).0, msg)
    }

    /// A pure pair of record layers with fixed secrets (client: the secrets swapped).
    func layers(_ suite: UInt16 = 0x1301) -> (client: TLSRecordLayer, server: TLSRecordLayer) {
        let len = suite == 0x1302 ? 48 : 32
        let a = [UInt8](repeating: 0xa5, count: len), b = [UInt8](repeating: 0x5a, count: len)
        return (TLSRecordLayer(cipherSuite: suite, readSecret: b, writeSecret: a, readSequence: 0, writeSequence: 0)!,
                TLSRecordLayer(cipherSuite: suite, readSecret: a, writeSecret: b, readSequence: 0, writeSequence: 0)!)
    }

    /// Seals `inner` as `type` on `from`, feeds it to `to`, returns how `to`'s reading ended.
    func deliver(_ inner: [UInt8], type: UInt8, padding: Int = 0, from: inout TLSRecordLayer, to: inout TLSRecordLayer) -> TLSEngine.ReadResult {
        let crypto = TLSRecordCrypto.forCurrentThread
        XCTAssertTrue(inner.withUnsafeBytes { from.sealRecords($0, contentType: type, padding: padding, crypto: crypto) })
        while from.pendingCiphertext > 0 { let n = from.takeCiphertext(into: &buf, cap: buf.count); to.feed(buf, n) }
        var plain = [UInt8](repeating: 0, count: 20000)
        while true {
            let r = to.readPlaintext(into: &plain, cap: plain.count, crypto: crypto)
            if case .bytes = r { continue }
            return r
        }
    }

    func testInnerContentRules() {
        let cases: [(inner: [UInt8], type: UInt8, expect: String)] = [
            ([1, 2, 3], 20, "failed"),                // ChangeCipherSpec after the handshake
            ([4, 0, 0, 1, 0], 22, "failed"),          // NewSessionTicket from a client (and malformed)
            ([24, 0, 0, 1, 2], 22, "failed"),         // KeyUpdate with a bad request_update
            ([24, 0, 0, 1, 0, 24, 0, 0, 1, 0], 22, "failed"),   // two messages: a key change must end its record
            ([2, 40], 21, "failed"),                  // the peer's fatal alert
            ([1, 0, 0], 21, "failed"),                // malformed alert
            ([1, 0], 21, "closed"),                   // close_notify
            ([1, 90], 21, "wantMore"),                // user_canceled: ignored
            ([], 23, "wantMore"),                     // empty application data
            ([9, 9], 99, "failed"),                   // unknown type
        ]
        for (inner, type, expect) in cases {
            var (c, s) = layers()
            let r = deliver(inner, type: type, from: &c, to: &s)
            XCTAssertEqual("\(r)", expect, "type \(type) \(inner)")
        }
        // A record of zeros only has no content type: unexpected_message.
        var (c, s) = layers()
        XCTAssertEqual("\(deliver([0, 0, 0], type: 0, from: &c, to: &s))", "failed")
        // Our alert reaches the client layer, which stops too.
        let crypto = TLSRecordCrypto.forCurrentThread
        while s.pendingCiphertext > 0 { let n = s.takeCiphertext(into: &buf, cap: buf.count); c.feed(buf, n) }
        var plain = [UInt8](repeating: 0, count: 100)
        XCTAssertEqual("\(c.readPlaintext(into: &plain, cap: 100, crypto: crypto))", "failed")
    }

    func testPureLayersAllSuitesPaddingAndKeyUpdates() {
        for suite: UInt16 in [0x1301, 0x1302, 0x1303] {
            var (c, s) = layers(suite)
            let crypto = TLSRecordCrypto.forCurrentThread
            XCTAssertEqual("\(deliver(pattern(40_000), type: 23, padding: 100, from: &c, to: &s))", "wantMore")
            XCTAssertTrue(c.sendKeyUpdate(requestPeerUpdate: true, crypto: crypto))
            XCTAssertEqual("\(deliver(pattern(10), type: 23, from: &c, to: &s))", "wantMore")
            // The server's answer (its KeyUpdate) and data reach the client under the new keys.
            XCTAssertEqual("\(deliver(pattern(10), type: 23, from: &s, to: &c))", "wantMore")
            XCTAssertEqual(c.sequenceNumbers.read, 1)
            XCTAssertEqual(s.sequenceNumbers.write, 1)
        }
    }

    func testFragmentedRecordsByteByByte() throws {
        let (c, s) = try pair()
        XCTAssertTrue(switched(c, s))
        var sent: [UInt8] = []
        var wire: [UInt8] = []
        for i in 0..<6 {
            let m = pattern(i == 3 ? 17_000 : 10 + 37 * i, UInt8(i))
            sent += m
            XCTAssertTrue(c.writePlaintext(m, m.count))
            if i == 2 { XCTAssertEqual(SSL_key_update(c.ssl, SSL_KEY_UPDATE_REQUESTED), 1) }
            wire += ciphertext(c)
        }
        var got: [UInt8] = []
        var plain = [UInt8](repeating: 0, count: 7)   // small reads too
        for b in wire {
            s.feed([b], 1)
            loop: while true {
                switch s.readPlaintext(into: &plain, cap: plain.count) {
                case .bytes(let n): got += plain[0..<n]
                case .wantMore: break loop
                default: return XCTFail("reading failed")
                }
            }
        }
        XCTAssertEqual(got, sent)
        send(s, c, pattern(100))   // the server's KeyUpdate answer reached OpenSSL
    }

    func testRecordCounter() {
        var counter = TLSRecordCounter()
        let records: [UInt8] = [23, 3, 3, 0, 2, 9, 9, 23, 3, 3, 0, 0, 22, 3, 3, 1, 0] + [UInt8](repeating: 1, count: 256)
        for i in records.indices { records.withUnsafeBytes { counter.consume(UnsafeRawBufferPointer(rebasing: $0[i..<i + 1])) } }
        XCTAssertEqual(counter.records, 3)
        XCTAssertTrue(counter.atBoundary)
        records.prefix(3).withUnsafeBytes { counter.consume($0) }
        XCTAssertFalse(counter.atBoundary)
    }
}
