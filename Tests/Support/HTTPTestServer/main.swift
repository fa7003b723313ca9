// HTTPTestServer: an HTTPApplication over Transport's HTTP listener (TLS; h2 and http/1.1), for the
// interop tests of the HTTP/1.1 and WebSocket transport (Tests/Interop/test_transport_http1.py).
// Not shipped.
//
//   HTTPTestServer --cert C --key K [--port P] [--loops N] [--max-body BYTES] [--header-timeout-ms MS]
//                  [--idle-timeout-ms MS] [--ping-interval-ms MS] [--pong-wait-ms MS] [--max-message BYTES]
//
// Routes:
//   POST /echo               200 with the request body (Content-Length)
//   GET  /stream?n=K&size=S  a streamed response of K NDJSON lines {"result":{"i":I,"pad":"xxx…"}}
//                            (S pad bytes), written as the writer allows (onWritable)
//   GET  /info               "<protocol> <peer>"
//   GET  /ws (upgrade)       WebSocket echo; accepts the first offered subprotocol; "bye" -> close
//                            1000; "stream N" -> N messages then close 1000
// Prints "LISTENING <port>" when ready. SIGTERM/SIGINT: graceful shutdown, exit 0.
import Transport
import Glibc

var sigs = sigset_t()
sigemptyset(&sigs); sigaddset(&sigs, SIGTERM); sigaddset(&sigs, SIGINT)
pthread_sigmask(SIG_BLOCK, &sigs, nil)

func writeLine(_ fd: Int32, _ s: String) {
    let b = Array((s + "\n").utf8)
    _ = b.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

func die(_ msg: String) -> Never {
    writeLine(2, "HTTPTestServer: \(msg)")
    exit(2)
}

var args = CommandLine.arguments.dropFirst()
var opts: [String: String] = [:]
while let a = args.popFirst() {
    guard let v = args.popFirst() else { die("missing value for \(a)") }
    opts[a] = v
}
guard let cert = opts["--cert"], let key = opts["--key"] else { die("usage: HTTPTestServer --cert C --key K [--port P] ...") }

var config = HTTPServerConfiguration()
if let v = opts["--max-body"].flatMap(Int.init) { config.maxBodyBytes = v }
if let v = opts["--header-timeout-ms"].flatMap(UInt64.init) { config.headerTimeoutNanos = v * 1_000_000 }
if let v = opts["--idle-timeout-ms"].flatMap(UInt64.init) { config.idleTimeoutNanos = v * 1_000_000 }
if let v = opts["--ping-interval-ms"].flatMap(UInt64.init) { config.webSocket.pingIntervalNanos = v * 1_000_000 }
if let v = opts["--pong-wait-ms"].flatMap(UInt64.init) { config.webSocket.pongWaitNanos = v * 1_000_000 }
if let v = opts["--max-message"].flatMap(Int.init) { config.webSocket.maxMessageBytes = v }

/// The test application (one instance, called on every loop: it keeps no shared mutable state).
final class TestApplication: HTTPApplication, @unchecked Sendable {
    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        if head.path == "/ws" && head.isWebSocketUpgrade {
            let offered = head.headers["Sec-WebSocket-Protocol"]?.split(separator: ",").first.map { String($0).trimmed }
            _ = writer.acceptWebSocket(subprotocol: offered, handler: Echo())
        }
        return Request(head: head, writer: writer)
    }
}

extension String {
    var trimmed: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}

final class Request: HTTPRequestHandler {
    let head: HTTPRequestHead
    let writer: HTTPResponseWriter
    var body: [UInt8] = []
    var remaining = 0
    var index = 0
    var pad = ""

    init(head: HTTPRequestHead, writer: HTTPResponseWriter) { self.head = head; self.writer = writer }

    func body(_ chunk: [UInt8]) { body += chunk }

    func end() {
        switch (head.method, head.path) {
        case ("POST", "/echo"):
            writer.respond(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: body)
        case ("GET", "/info"), ("HEAD", "/info"):
            writer.respond(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]),
                           body: Array("\(writer.protocolName) \(writer.peerAddress)".utf8))
        case ("GET", "/stream"):
            let q = head.queryItems
            remaining = q.first { $0.name == "n" }.flatMap { Int($0.value) } ?? 3
            pad = String(repeating: "x", count: q.first { $0.name == "size" }.flatMap { Int($0.value) } ?? 0)
            writer.writeHead(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]))
            writer.onWritable = { [unowned self] in self.pump() }
            pump()
        case (_, "/ws"):
            break   // upgraded in `request`, or refused there
        default:
            writer.respond(status: 404, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: Array("Not Found\n".utf8))
        }
    }

    /// Writes lines while the writer takes them.
    func pump() {
        while remaining > 0 {
            remaining -= 1
            let line = "{\"result\":{\"i\":\(index),\"pad\":\"\(pad)\"}}\n"
            index += 1
            if !writer.writeBody(Array(line.utf8)) { if remaining == 0 { break } else { return } }
        }
        writer.onWritable = nil
        writer.end()
    }

    func cancelled() { writer.onWritable = nil; remaining = 0 }
}

final class Echo: WebSocketHandler {
    var remaining = 0
    var channel: WebSocketChannel?

    func text(_ channel: WebSocketChannel, _ message: String) {
        if message == "bye" { channel.close(code: 1000, reason: "bye"); return }
        if message.hasPrefix("stream "), let n = Int(message.dropFirst(7)) {
            remaining = n
            self.channel = channel
            channel.onWritable = { [unowned self] in self.pump() }
            pump()
            return
        }
        channel.send(text: message)
    }

    func pump() {
        guard let ch = channel else { return }
        while remaining > 0 {
            remaining -= 1
            if !ch.send(text: "{\"result\":{\"i\":\(remaining)}}") && remaining > 0 { return }
        }
        ch.onWritable = nil
        ch.close(code: 1000, reason: "")
        channel = nil
    }

    func binary(_ channel: WebSocketChannel, _ message: [UInt8]) { channel.send(binary: message) }
    func closed(code: UInt16, reason: String) { channel = nil; remaining = 0 }
}

let group = EventLoopGroup(loopCount: opts["--loops"].flatMap(Int.init) ?? 2)
let tls: TLSContext
do { tls = try TLSContext(serverCertificatePath: cert, privateKeyPath: key) } catch { die("\(error)") }
let server = TLSServer.http(group: group, tls: tls, application: TestApplication(), configuration: config)
let port: Int
do { port = try server.bind(host: "127.0.0.1", port: opts["--port"].flatMap(Int.init) ?? 0) } catch { die("\(error)") }
writeLine(1, "LISTENING \(port)")
var sig: Int32 = 0
sigwait(&sigs, &sig)
server.shutdown(gracePeriodNanos: 2_000_000_000)
group.shutdown()
exit(0)
