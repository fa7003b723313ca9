import KomodoRPC
import Services
import Transport

/// The Komodo API's face on an HTTP listener: collects a request body (at most `maxBody` bytes),
/// lets the mmrpc dispatcher answer on the loop what cannot block (errors before the method,
/// get_payment_details), runs the rest off the loop (`BlockingWork`: it may write SQLite and find
/// routes), and answers on the request's loop. Past the pool's limit a request is answered at once
/// with HTTP 500 and KDF's legacy error body instead of waiting.
final class KDFHTTPApplication: HTTPApplication {
    let dispatcher: MMRPCDispatcher
    let work: BlockingWork
    let maxBody: Int

    init(dispatcher: MMRPCDispatcher, work: BlockingWork, maxBody: Int = 1 << 20) {
        self.dispatcher = dispatcher
        self.work = work
        self.maxBody = maxBody
    }

    func request(_ head: HTTPRequestHead, _ writer: HTTPResponseWriter) -> HTTPRequestHandler {
        Request(app: self, method: head.method, writer: writer)
    }

    /// "ip:port" or "[ip]:port" → ip.
    static func ip(of address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<end])
        }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }

    static func headers(_ r: MMRPCHTTPResponse) -> HTTPHeaders { HTTPHeaders(r.headers) }

    final class Request: HTTPRequestHandler {
        let app: KDFHTTPApplication
        let method: String
        let writer: HTTPResponseWriter
        var body: [UInt8] = []
        var tooLarge = false

        init(app: KDFHTTPApplication, method: String, writer: HTTPResponseWriter) {
            self.app = app
            self.method = method
            self.writer = writer
        }

        func body(_ chunk: [UInt8]) {
            guard !tooLarge else { return }
            if body.count + chunk.count > app.maxBody { tooLarge = true; body = []; return }
            body += chunk
        }

        func end() {
            let writer = self.writer
            if tooLarge {
                app.dispatcher.metrics?.refusedBeforeDispatch(httpStatus: 500)
                writer.respond(status: 500, headers: HTTPHeaders([("Access-Control-Allow-Origin", app.dispatcher.configuration.allowOrigin)]),
                               body: Array(#"{"error":"rpc:171] Request body is too large"}"#.utf8))
                return
            }
            let request = MMRPCHTTPRequest(method: method, body: body, peerIP: KDFHTTPApplication.ip(of: writer.peerAddress))
            body = []
            let finish: @Sendable () -> MMRPCHTTPResponse
            switch app.dispatcher.route(request) {
            case .answered(let response):
                writer.respond(status: response.status, headers: KDFHTTPApplication.headers(response), body: response.body)
                return
            case .blocking(let f): finish = f
            }
            let box = WriterBox(writer)
            let accepted = app.work.submit {
                let response = finish()
                box.writer.eventLoop.execute {
                    box.writer.respond(status: response.status, headers: KDFHTTPApplication.headers(response), body: response.body)
                }
            }
            if !accepted {
                app.dispatcher.metrics?.refusedBeforeDispatch(httpStatus: 500)
                writer.respond(status: 500, headers: HTTPHeaders([("Access-Control-Allow-Origin", app.dispatcher.configuration.allowOrigin)]),
                               body: Array(#"{"error":"rpc:171] Server busy: too many requests waiting"}"#.utf8))
            }
        }

        func cancelled() { body = [] }
    }

    /// Carries the writer to the pool thread and back; it is only touched on its loop.
    final class WriterBox: @unchecked Sendable {
        let writer: HTTPResponseWriter
        init(_ w: HTTPResponseWriter) { writer = w }
    }
}
