// Shared by the HTTP fuzz targets that list it in their `shared` file (HTTP1Server,
// HTTP2Application): one small application behind Transport's HTTP interface, so the same routes
// are fuzzed over HTTP/1.1 and over HTTP/2 streams.
import Transport

/// Routes: /echo (respond with the body), /stream (streamed, honouring writability), /hold
/// (answered by the next request), /ws (WebSocket echo; "bye" closes).
final class FuzzHTTPApplication: HTTPApplication {
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
