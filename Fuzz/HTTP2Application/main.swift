// libFuzzer target: arbitrary bytes into a server HTTP/2 session of an HTTP listener (no socket,
// no TLS): the HTTP application face on h2 streams (HTTP2ApplicationAdapter) and WebSockets over
// extended CONNECT (RFC 8441, HTTP2WebSocketStream). Run: Scripts/fuzz HTTP2Application [RUNS]
//
// Input byte 0 chooses the mode: bit 0 sends a valid client preface + SETTINGS first; bit 1 sends
// instead a client's preface, SETTINGS and an extended CONNECT opening a WebSocket on stream 1 (so
// the fuzzer spends its time on that stream's DATA: RFC 6455 frames inside HTTP/2 frames); bits 2-7
// choose the chunk size the rest is fed in. The application is Fuzz/Shared's FuzzHTTPApplication
// (the HTTP1Server target's). Small limits (head 2 KiB, body 4 KiB, output 2 KiB,
// WebSocket messages 4 KiB) so the fuzzer reaches them. Pending tasks run and timers are dropped
// after each input.
@testable import Transport

final class Harness: @unchecked Sendable {
    let loop = EventLoop()
    var configuration = HTTPServerConfiguration()
    /// A client's preface, SETTINGS and the HEADERS of `CONNECT /ws` with `:protocol websocket`.
    let webSocketOpening: [UInt8]
    let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

    init() {
        loop.adoptCurrentThread()
        configuration.maxHeaderBytes = 2048
        configuration.maxBodyBytes = 4096
        configuration.responseBufferLimit = 2048
        configuration.webSocket.maxMessageBytes = 4096
        let client = HTTP2Session(server: false)
        final class Ignore: HTTP2StreamDelegate {
            func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {}
            func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) {}
            func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) {}
            func streamRemoteEnded(_ stream: HTTP2Stream) {}
            func streamWritable(_ stream: HTTP2Stream) {}
            func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) {}
        }
        _ = client.openStream(headers: HTTP2HeaderBlock([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                                         (":path", "/ws?method=GET"), (":authority", "fuzz"),
                                                         ("sec-websocket-version", "13"), ("sec-websocket-protocol", "a, b")]),
                              delegate: Ignore())
        var bytes: [UInt8] = []
        _ = client.produce { bytes += $0 }
        webSocketOpening = bytes
        client.closeAllStreams(errorCode: 0)
    }
}

nonisolated(unsafe) var harness: Harness?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    if harness == nil { harness = Harness() }
    let h = harness!
    let session = HTTP2Session(server: true, configuration: .httpListener)
    let app = FuzzHTTPApplication()
    session.delegate = HTTP2ApplicationAdapter(application: app, configuration: h.configuration, loop: h.loop)
    var sink = 0
    if data[0] & 2 == 2 {
        h.webSocketOpening.withUnsafeBytes { _ = session.receive($0) }
    } else if data[0] & 1 == 1 {
        h.preface.withUnsafeBytes { _ = session.receive($0) }
    }
    session.produce { sink &+= $0.count }
    h.loop.runPendingTasks()
    let chunk = max(1, Int(data[0] >> 2) * 37)
    var off = 1
    while off < size {
        let n = min(chunk, size - off)
        if !session.receive(UnsafeRawBufferPointer(start: data + off, count: n)) { break }
        session.produce { sink &+= $0.count }
        h.loop.runPendingTasks()
        off += n
    }
    session.produce { sink &+= $0.count }
    h.loop.runPendingTasks()
    h.loop.cancelAllTimers()
    session.closeAllStreams(errorCode: 0)
    session.releaseClosedStreams()
    app.held.removeAll()
    return sink == -1 ? 1 : 0
}
