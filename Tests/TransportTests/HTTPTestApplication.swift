@testable import Transport

/// A small `HTTPApplication` for the session tests:
///  - `/echo`: answers 200 with the request body once it ended (`respond`);
///  - `/stream?n=K`: a streamed response of K lines "line i\n" (`writeHead`/`writeBody`/`end`);
///  - `/hold`: answers nothing; the test answers later through `held`;
///  - `/ws`: accepts a WebSocket (echoing the first offered subprotocol), echoes text and binary
///    messages; the text "bye" makes it close with 1000.
/// Every event is recorded in `events`.
final class HTTPTestApplication: HTTPApplication {
    var events: [String] = []
    var heads: [HTTPRequestHead] = []
    var held: [HTTPResponseWriter] = []
    var channels: [WebSocketChannel] = []
    var wsClosed: [(UInt16, String)] = []
    var wsMessages: [String] = []
    /// Every handler made, weakly: a test checks they are let go of.
    var handlers: [Weak] = []
    struct Weak { weak var handler: Handler? }

    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        heads.append(head)
        events.append("request \(head.method) \(head.target)")
        let h = Handler(app: self, head: head, writer: writer)
        handlers.append(Weak(handler: h))
        if head.path == "/early" {
            // Answered at once, before the body arrives.
            writer.respond(status: 200, headers: HTTPHeaders(), body: Array("early".utf8))
        }
        if head.path == "/ws" && head.isWebSocketUpgrade {
            let offered = head.headers["Sec-WebSocket-Protocol"]?.split(separator: ",").first.map { String($0.trimmingASCIIWhitespace) }
            if let ch = writer.acceptWebSocket(subprotocol: offered, handler: Echo(app: self)) { channels.append(ch) }
        } else if head.path == "/hold" {
            held.append(writer)
        }
        return h
    }

    final class Handler: HTTPRequestHandler {
        unowned let app: HTTPTestApplication
        let head: HTTPRequestHead
        let writer: HTTPResponseWriter
        var body: [UInt8] = []
        init(app: HTTPTestApplication, head: HTTPRequestHead, writer: HTTPResponseWriter) {
            self.app = app; self.head = head; self.writer = writer
        }
        func body(_ chunk: [UInt8]) { body += chunk }
        func end() {
            app.events.append("end \(head.path) \(body.count)")
            switch head.path {
            case "/echo":
                writer.respond(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: body)
            case "/stream":
                let n = head.queryItems.first { $0.name == "n" }.flatMap { Int($0.value) } ?? 3
                writer.writeHead(status: 200, headers: HTTPHeaders([("Content-Type", "application/x-ndjson")]))
                for i in 0..<n { writer.writeBody(Array("line \(i)\n".utf8)) }
                writer.end()
            default:
                break
            }
        }
        func cancelled() { app.events.append("cancelled \(head.path)") }
    }

    final class Echo: WebSocketHandler {
        unowned let app: HTTPTestApplication
        init(app: HTTPTestApplication) { self.app = app }
        func text(_ channel: WebSocketChannel, _ message: String) {
            app.wsMessages.append(message)
            if message == "bye" { channel.close(code: 1000, reason: "done") } else { channel.send(text: message) }
        }
        func binary(_ channel: WebSocketChannel, _ message: [UInt8]) {
            app.wsMessages.append("binary \(message.count)")
            channel.send(binary: message)
        }
        func closed(code: UInt16, reason: String) { app.wsClosed.append((code, reason)) }
    }
}

/// Drives an `HTTP1Session` with bytes, as a connection would.
final class HTTP1Driver {
    let loop = EventLoop()
    let app = HTTPTestApplication()
    let session: HTTP1Session
    var output: [UInt8] = []
    var flushes = 0

    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
        loop.adoptCurrentThread()
        session = HTTP1Session(loop: loop, application: app, configuration: configuration)
        session.onNeedsFlush = { [unowned self] in self.flushes += 1 }
    }

    /// Feeds `text` (in pieces of `chunk` bytes) and drains the output; returns false if the
    /// session reported a fatal error.
    @discardableResult
    func send(_ text: String, chunk: Int = .max) -> Bool { send(Array(text.utf8), chunk: chunk) }

    @discardableResult
    func send(_ bytes: [UInt8], chunk: Int = .max) -> Bool {
        var ok = true
        var off = 0
        while off < bytes.count {
            let n = min(chunk, bytes.count - off)
            // A connection feeds only while the session wants input.
            drain()
            if !session.wantsInput { break }
            ok = bytes[off..<off + n].withUnsafeBytes { session.receive($0) } && ok
            off += n
        }
        drain()
        return ok
    }

    func drain() {
        for _ in 0..<8 {
            var got = false
            _ = session.produceWhile { c in output += c; got = got || c.count > 0; return true }
            if !got { break }
        }
    }

    /// True when the session is in its lingering close after an error answer, still reads (and
    /// drops) input, and closes at the linger deadline.
    func closesAfterLinger() -> Bool {
        guard session.isLingering, session.wantsInput, session.isAlive, let deadline = session.nextDeadline else { return false }
        guard send("more bytes from a client still sending") else { return false }
        if !output.isEmpty { return false }
        session.deadlineReached(now: deadline)
        return !session.isAlive
    }

    /// The output so far as text, and clears it.
    func take() -> String {
        defer { output = [] }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Splits HTTP/1.1 responses out of `text` (status codes in order).
func statusCodes(_ text: String) -> [Int] {
    text.ranges(of: "HTTP/1.1 ").compactMap { r in Int(text[r.upperBound...].prefix(3)) }
}
