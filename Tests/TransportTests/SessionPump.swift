@testable import Transport

/// Moves bytes between two sessions (client and server) in memory until neither has output.
func pump(_ a: HTTP2Session, _ b: HTTP2Session, rounds: Int = 20) {
    for _ in 0..<rounds {
        var moved = false
        a.produce { chunk in moved = true; b.receive(chunk) }
        b.produce { chunk in moved = true; a.receive(chunk) }
        if !moved { return }
    }
}

/// Records stream events.
final class RecordingStream: HTTP2StreamDelegate {
    var headers: [(String, String)] = []
    var data: [UInt8] = []
    var headerBlocks = 0
    var remoteEnded = false
    var closedCode: UInt32?
    var writable = 0
    var onHeadersEnded: ((HTTP2Stream) -> Void)?
    var onRemoteEnded: ((HTTP2Stream) -> Void)?

    func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool) { headerBlocks += 1; onHeadersEnded?(stream) }
    func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer) { self.data.append(contentsOf: data) }
    func streamRemoteEnded(_ stream: HTTP2Stream) { remoteEnded = true; onRemoteEnded?(stream) }
    func streamWritable(_ stream: HTTP2Stream) { writable += 1 }
    func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32) { closedCode = errorCode }
}

/// Server side: records each opened stream.
final class RecordingServer: HTTP2SessionDelegate {
    var streams: [(HTTP2Stream, RecordingStream)] = []
    var drained = false
    var configure: ((HTTP2Stream, RecordingStream) -> Void)?
    func session(_ session: HTTP2Session, streamOpened stream: HTTP2Stream) {
        let r = RecordingStream()
        stream.delegate = r
        streams.append((stream, r))
        configure?(stream, r)
    }
    func sessionWillDrain(_ session: HTTP2Session) { drained = true }
}

/// A server session that answers every request, once the client ended its side, with response
/// headers, `body(request)` and trailers `grpc-status: 0`.
func answeringServer(_ body: @escaping (RecordingStream) -> [UInt8] = { _ in [] }) -> (HTTP2Session, RecordingServer) {
    let server = HTTP2Session(server: true)
    let rec = RecordingServer()
    server.delegate = rec
    rec.configure = { _, r in
        r.onRemoteEnded = { s in
            s.sendHeaders(HTTP2HeaderBlock([(":status", "200")]))
            let b = body(r)
            if !b.isEmpty { s.write(b) }
            s.finish(trailers: HTTP2HeaderBlock([("grpc-status", "0")]))
        }
    }
    return (server, rec)
}
