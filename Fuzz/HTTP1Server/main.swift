// libFuzzer target: arbitrary bytes into a server HTTP1Session (no socket, no TLS) over a small
// application. Run: Scripts/fuzz HTTP1Server [RUNS]
//
// Input byte 0 chooses the mode: bits 0-4 the chunk size the rest is fed in (1..32, 32 meaning all
// at once), bit 5 a sink that refuses more after each chunk (a peer that reads slowly), bit 6 runs
// the session's deadline (408, idle close, WebSocket ping/pong) after the input, bit 7 closes the
// connection while requests may be open. Small limits (head 2 KiB, body 4 KiB, 4 pipelined,
// WebSocket messages 4 KiB) so the fuzzer reaches them.
import Transport

/// Routes: /echo (respond with the body), /stream (streamed, honouring writability), /hold
/// (answered by the next request), /ws (WebSocket echo; "bye" closes).
final class App: HTTPApplication {
    var held: [HTTPResponseWriter] = []

    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        if let w = held.popLast() { w.respond(status: 200, headers: HTTPHeaders(), body: Array(head.target.utf8)) }
        if head.isWebSocketUpgrade {
            let offered = head.headers["Sec-WebSocket-Protocol"]?.split(separator: ",").first.map { String($0) }
            _ = writer.acceptWebSocket(subprotocol: offered, handler: Echo())
        } else if head.path == "/hold" {
            held.append(writer)
        }
        _ = head.queryItems
        return Handler(head: head, writer: writer)
    }

    final class Handler: HTTPRequestHandler {
        let head: HTTPRequestHead
        let writer: HTTPResponseWriter
        var body: [UInt8] = []
        var left = 0
        init(head: HTTPRequestHead, writer: HTTPResponseWriter) { self.head = head; self.writer = writer }
        func body(_ chunk: [UInt8]) { body += chunk }
        func end() {
            switch head.path {
            case "/echo": writer.respond(status: 200, headers: HTTPHeaders([("X-N", "\(body.count)")]), body: body)
            case "/stream":
                left = min(body.count + 3, 64)
                writer.writeHead(status: 200, headers: HTTPHeaders())
                writer.onWritable = { [unowned self] in self.pump() }
                pump()
            case "/hold", "/ws": break
            default: writer.respond(status: 404, headers: HTTPHeaders(), body: [])
            }
        }
        func pump() {
            while left > 0 {
                left -= 1
                if !writer.writeBody([UInt8](repeating: 0x61, count: 700)) && left > 0 { return }
            }
            writer.onWritable = nil
            writer.end()
        }
        func cancelled() { writer.onWritable = nil; left = 0 }
    }

    final class Echo: WebSocketHandler {
        func text(_ channel: WebSocketChannel, _ message: String) {
            if message == "bye" { channel.close(code: 1000, reason: "bye") } else { channel.send(text: message) }
        }
        func binary(_ channel: WebSocketChannel, _ message: [UInt8]) { channel.send(binary: message) }
        func closed(code: UInt16, reason: String) {}
    }
}

final class Harness: @unchecked Sendable {
    let loop = EventLoop()
    var configuration = HTTPServerConfiguration()
    init() {
        loop.adoptCurrentThread()
        configuration.maxHeaderBytes = 2048
        configuration.maxBodyBytes = 4096
        configuration.maxPipelinedRequests = 4
        configuration.responseBufferLimit = 2048
        configuration.webSocket.maxMessageBytes = 4096
    }
}

nonisolated(unsafe) var harness: Harness?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    if harness == nil { harness = Harness() }
    let h = harness!
    let app = App()
    let session = HTTP1Session(loop: h.loop, application: app, configuration: h.configuration)
    let mode = data[0]
    let chunk = Int(mode & 0x1f) == 0 ? size : Int(mode & 0x1f)
    let slowReader = mode & 0x20 != 0
    var sink = 0
    func drain() {
        var n = 0
        repeat {
            n = 0
            _ = session.produceWhile { c in sink &+= c.count; n += c.count; return !slowReader }
        } while n > 0 && !slowReader
    }
    var off = 1
    while off < size && session.isAlive {
        guard session.wantsInput else { drain(); if !session.wantsInput { break } else { continue } }
        let n = min(chunk, size - off)
        if !session.receive(UnsafeRawBufferPointer(start: data + off, count: n)) { break }
        drain()
        off += n
    }
    if mode & 0x40 != 0, let d = session.nextDeadline {
        session.deadlineReached(now: d)
        drain()
        if let d2 = session.nextDeadline { session.deadlineReached(now: d2); drain() }
    }
    if mode & 0x80 == 0 { drain() }
    session.connectionClosed()
    app.held.removeAll()
    h.loop.cancelAllTimers()
    _ = h.loop.runPendingTasks()
    return sink == -1 ? 1 : 0
}
