// libFuzzer target: arbitrary input into the compact TLS 1.3 record layer (TLSRecordLayer) of a
// server, both as raw bytes and as records a client-side layer seals (so the fuzzer reaches the
// inner content types, padding, alerts and KeyUpdate, not only authentication failures).
// Run: Scripts/fuzz TLSRecordLayer [RUNS]
//
// Byte 0: bits 0-1 the suite (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), bits 2-6 the feed
// chunk size (1..31, 0 = whole), bit 7 small plaintext reads (7 bytes). Then operations:
//   0 n bytes...          raw bytes to the server
//   1 type pad n bytes... a record the client seals (inner type, padding, content: n bytes, or
//                         (n & 0x7f) x 200 when n & 0x80, reading on into the input)
//   2 pos bit             flip bit `bit` of byte `pos` of the client's pending ciphertext
//   3 req                 the client sends KeyUpdate (request_update = req & 1)
//   4 n                   the server seals n bytes back; the client must read them intact (odd n:
//                         straight into a buffer, as the send path does, through the outbox when
//                         that declines)
//   5                     the server sends KeyUpdate (update_requested)
// At most 4 KeyUpdates (ops 3 and 5) take effect per input: each derives three HKDF-Expand-Labels,
// which cost ~80% of the run time when unbounded, and a fifth update reaches no state the first
// four did not (the sequence restarts and the new keys are used the same way every time).
// Invariant: while no raw or flipped bytes were fed, every application byte the client sealed
// comes out of the server, in order, and the server's data reaches the client.
@testable import Transport
import Glibc

/// The three suites' layers, keys derived once (each run starts from copies: the keys are the
/// same every run, so runs differ only by input), and the scratch buffers.
final class Fixture: @unchecked Sendable {
    var layers: [(client: TLSRecordLayer, server: TLSRecordLayer)] = []
    var plain = [UInt8](repeating: 0, count: 20000)
    var wire = [UInt8](repeating: 0, count: 1 << 16)
    init() {
        for suite: UInt16 in [0x1301, 0x1302, 0x1303] {
            let len = suite == 0x1302 ? 48 : 32
            let a = [UInt8](repeating: 0x11, count: len), b = [UInt8](repeating: 0x22, count: len)
            layers.append((TLSRecordLayer(cipherSuite: suite, readSecret: b, writeSecret: a, readSequence: 7, writeSequence: 3)!,
                           TLSRecordLayer(cipherSuite: suite, readSecret: a, writeSecret: b, readSequence: 3, writeSequence: 7)!))
        }
    }
}
nonisolated(unsafe) let fixture = Fixture()

/// Byte equality by one memcmp: `==` on [UInt8] compares element by element, and the fuzzer's
/// comparison hooks on each byte cost a fifth of the run time.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let mode = data[0]
    let chunk = Int((mode >> 2) & 0x1f)
    let smallReads = mode & 0x80 != 0
    var (client, server) = fixture.layers[Int(mode & 3) % 3]
    let crypto = TLSRecordCrypto.forCurrentThread
    var clean = true
    var expected: [UInt8] = [], received: [UInt8] = []

    func drainServer() {
        while true {
            let r = server.readPlaintext(into: &fixture.plain, cap: smallReads ? 7 : fixture.plain.count, crypto: crypto)
            guard case .bytes(let n) = r else { return }
            received += fixture.plain[0..<n]
        }
    }
    func feedServer(_ bytes: UnsafeRawBufferPointer) {
        var off = 0
        let step = chunk == 0 ? max(bytes.count, 1) : chunk
        while off < bytes.count {
            let n = min(step, bytes.count - off)
            server.feed(bytes.baseAddress! + off, n)
            drainServer()
            off += n
        }
    }
    func flushClient(flip: (Int, UInt8)? = nil) {
        var out: [UInt8] = []
        while client.pendingCiphertext > 0 { let n = client.takeCiphertext(into: &fixture.wire, cap: fixture.wire.count); out += fixture.wire[0..<n] }
        if let (pos, bit) = flip, !out.isEmpty { out[pos % out.count] ^= 1 << (bit & 7); clean = false }
        out.withUnsafeBytes { feedServer($0) }
    }

    var i = 1
    var keyUpdates = 0
    func keyUpdateAllowed() -> Bool { keyUpdates += 1; return keyUpdates <= 4 }
    func next() -> Int? { guard i < size else { return nil }; defer { i += 1 }; return Int(data[i]) }
    while let op = next() {
        switch op % 6 {
        case 0:
            guard let n = next() else { break }
            let m = min(n, size - i)
            feedServer(UnsafeRawBufferPointer(start: data + i, count: m))
            i += m
            if m > 0 { clean = false }
        case 1:
            guard let type = next(), let pad = next(), let n = next() else { break }
            let m = min(n & 0x80 != 0 ? (n & 0x7f) * 200 : n, size - i)   // up to 25 KB: more than one record
            let content = UnsafeRawBufferPointer(start: data + i, count: m)
            i += min(n, size - i)
            _ = client.sealRecords(content, contentType: UInt8(type), padding: pad * 3, crypto: crypto)
            if type != 23 { clean = false } else { expected += content }
            flushClient()
        case 2:
            guard let pos = next(), let bit = next() else { break }
            flushClient(flip: (pos, UInt8(bit)))
        case 3:
            guard let req = next(), keyUpdateAllowed() else { break }
            _ = client.sendKeyUpdate(requestPeerUpdate: req & 1 == 1, crypto: crypto)
            flushClient()
        case 4:
            guard let n = next() else { break }
            let msg = [UInt8](repeating: UInt8(n), count: n * 100)
            var ok = false
            var got: [UInt8] = []
            if n & 1 == 1, let k = msg.withUnsafeBytes({
                server.seal($0.baseAddress!, $0.count, into: &fixture.wire, cap: fixture.wire.count, crypto: crypto)
            }) {
                client.feed(fixture.wire, k)   // the send path: one record straight into the caller's buffer
                ok = true
            } else {
                ok = msg.withUnsafeBytes { server.seal($0.baseAddress!, $0.count, crypto: crypto) }
            }
            while server.pendingCiphertext > 0 {
                let k = server.takeCiphertext(into: &fixture.wire, cap: fixture.wire.count)
                client.feed(fixture.wire, k)
            }
            while case .bytes(let k) = client.readPlaintext(into: &fixture.plain, cap: fixture.plain.count, crypto: crypto) { got += fixture.plain[0..<k] }
            if clean && ok && server.state == .open { precondition(sameBytes(got, msg), "server data lost or altered") }
        default:
            guard keyUpdateAllowed() else { break }
            _ = server.sendKeyUpdate(requestPeerUpdate: true, crypto: crypto)
            while server.pendingCiphertext > 0 {
                let k = server.takeCiphertext(into: &fixture.wire, cap: fixture.wire.count)
                client.feed(fixture.wire, k)
            }
            while case .bytes = client.readPlaintext(into: &fixture.plain, cap: fixture.plain.count, crypto: crypto) {}
            flushClient()   // the client's KeyUpdate answer
        }
    }
    if clean { precondition(sameBytes(received, expected), "application data lost or altered") }
    return 0
}
