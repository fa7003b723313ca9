// libFuzzer target: arbitrary bytes into a server HTTP/2 + gRPC session (no socket, no TLS).
// Run: Scripts/fuzz HTTP2Server [RUNS]
//
// Input byte 0 chooses the mode: bit 0 set -> a valid client preface + SETTINGS is sent first (so
// the fuzzer spends its time past the preface); bits 1-7 choose the chunk size the rest is fed in.
// Every call gets a fresh session routed to a server with unary, server-streaming and bidi
// (reflection) methods; pending tasks run and timers are dropped after each input.
import Transport
import GRPC
import RPCCore

final class Harness: @unchecked Sendable {
    let loop = EventLoop()
    let server: GRPCServer

    init() {
        loop.adoptCurrentThread()
        let echo = ServiceDefinition(name: "fuzz.Echo", methods: [
            "Unary": .unary { _, req, r in r.respond(req) },
            "Fail": .unary { _, _, r in r.fail(.notFound, "nope %\u{7f}") },
            "Stream": .serverStreaming { ctx, req, w in
                for i in 0..<min(Int(req.first ?? 1), 8) { w.send([UInt8](repeating: UInt8(i), count: 3000)) }
                ctx.onCancel {}
                if req.count > 1 { w.finish() }
            },
        ])
        let reflection = ReflectionService(descriptors: [], serviceNames: ["fuzz.Echo"])
        let health = HealthService()
        health.setStatus(.serving, service: "")
        var config = GRPCServerConfiguration()
        config.maxReceiveMessageSize = 1 << 16
        server = GRPCServer(services: [echo, health] + reflection.services, tls: nil, configuration: config,
                            group: EventLoopGroup(loops: [loop]))
    }
}

// Created on the fuzzing thread by the first input (adopts that thread as the loop's).
nonisolated(unsafe) var harness: Harness?

let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    if harness == nil { harness = Harness() }
    let loop = harness!.loop, server = harness!.server
    let session = server.makeServerSession(peerAddress: "fuzz:1")
    var sink = 0
    if data[0] & 1 == 1 { preface.withUnsafeBytes { _ = session.receive($0) } }
    let chunk = max(1, Int(data[0] >> 1) * 37)
    var off = 1
    while off < size {
        let n = min(chunk, size - off)
        if !session.receive(UnsafeRawBufferPointer(start: data + off, count: n)) { break }
        session.produce { sink &+= $0.count }
        loop.runPendingTasks()
        off += n
    }
    session.produce { sink &+= $0.count }
    loop.runPendingTasks()
    loop.cancelAllTimers()
    session.closeAllStreams(errorCode: 0)
    return sink == -1 ? 1 : 0
}
