// libFuzzer target: arbitrary bytes as client frames into a server WebSocketSession (libwslay),
// with an echo handler. Run: Scripts/fuzz WebSocketFrames [RUNS]
//
// Input byte 0 chooses the mode: bits 0-4 the chunk size (1..32, 0 = all at once), bit 5 a sink
// that takes one chunk per call, bit 6 runs the ping/pong and close deadlines, bit 7 makes the
// server close (1000) after the input. Messages are limited to 4 KiB and the outgoing queue to
// 2 KiB so the fuzzer reaches both limits.
import Transport

final class Echo: WebSocketHandler {
    var closes = 0
    func text(_ channel: WebSocketChannel, _ message: String) { channel.send(text: message) }
    func binary(_ channel: WebSocketChannel, _ message: [UInt8]) { channel.send(binary: message) }
    func closed(code: UInt16, reason: String) { closes += 1; precondition(closes == 1, "closed reported twice") }
}

final class Harness: @unchecked Sendable {
    let loop = EventLoop()
    var configuration = WebSocketConfiguration()
    init() {
        loop.adoptCurrentThread()
        configuration.maxMessageBytes = 4096
    }
}

nonisolated(unsafe) var harness: Harness?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    if harness == nil { harness = Harness() }
    let h = harness!
    let ws = WebSocketSession(loop: h.loop, handler: Echo(), subprotocol: nil, configuration: h.configuration,
                              outputLimit: 2048, now: 0)
    let mode = data[0]
    let chunk = Int(mode & 0x1f) == 0 ? size : Int(mode & 0x1f)
    let oneChunk = mode & 0x20 != 0
    var sink = 0
    func drain() { _ = ws.produceWhile { c in sink &+= c.count; return !oneChunk } }
    var off = 1
    while off < size {
        let n = min(chunk, size - off)
        if !ws.receive(UnsafeRawBufferPointer(start: data + off, count: n)) { break }
        drain()
        off += n
    }
    if mode & 0x80 != 0 { ws.close(code: 1000, reason: "fuzz") ; drain() }
    if mode & 0x40 != 0 {
        for _ in 0..<3 { if let d = ws.nextDeadline { ws.deadlineReached(now: d); drain() } }
    }
    ws.connectionClosed()
    return sink == -1 ? 1 : 0
}
