// libFuzzer target: arbitrary bytes into a server HTTP1Session (no socket, no TLS) over a small
// application. Run: Scripts/fuzz HTTP1Server [RUNS]
//
// Input byte 0 chooses the mode: bits 0-4 the chunk size the rest is fed in (1..32, 32 meaning all
// at once), bit 5 a sink that refuses more after each chunk (a peer that reads slowly), bit 6 runs
// the session's deadline (408, idle close, WebSocket ping/pong) after the input, bit 7 closes the
// connection while requests may be open. Small limits (head 2 KiB, body 4 KiB, 4 pipelined,
// WebSocket messages 4 KiB) so the fuzzer reaches them.
import Transport

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
    let app = FuzzHTTPApplication()
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
