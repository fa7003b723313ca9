// GRPCTestServer: a gRPC server for interop tests and benchmarks (not shipped).
//
//   GRPCTestServer --cert C --key K [--host H] [--port P] [--loops N] [--max-recv BYTES]
//                  [--descriptor-set FILE] [--bench-payment FILE] [--require-macaroon]
//                  [--keepalive-ms MS] [--grace-ms MS]
//
// Serves paytrack.test.TestService (see test_service.proto), grpc.health.v1.Health and server
// reflection; with --bench-payment, also routerrpc.Router/TrackPaymentV2 answering every call with
// the fixed gRPC message in FILE (the benchmark body; the payment engine is not wired here).
// Prints "LISTENING <port>" when ready. SIGTERM/SIGINT: graceful shutdown, exit 0.
import Locks
import GRPC
import RPCCore
import Transport
import ProtoWire
import Glibc

// Signals: block SIGTERM/SIGINT before any thread starts (threads inherit the mask) and wait for one with sigwait (no async-signal handler).
var sigs = sigset_t()
sigemptyset(&sigs); sigaddset(&sigs, SIGTERM); sigaddset(&sigs, SIGINT)
pthread_sigmask(SIG_BLOCK, &sigs, nil)

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "client" {
    runClient(Array(CommandLine.arguments.dropFirst(2)))
}

var args = CommandLine.arguments.dropFirst()
var opts: [String: String] = [:]
var flags: Set<String> = []
while let a = args.popFirst() {
    if a == "--require-macaroon" { flags.insert(a); continue }
    guard let v = args.popFirst() else { die("missing value for \(a)", 2) }
    opts[a] = v
}
guard let cert = opts["--cert"], let key = opts["--key"] else {
    die("usage: GRPCTestServer --cert C --key K [--port P] ...", 2)
}

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

// MARK: Test messages (hand-coded with ProtoWire)

struct EchoRequest: Sendable {
    var message = "", count: Int32 = 0, delayMs: Int32 = 0, size: Int32 = 0, failCode: Int32 = 0
    init(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: message = try r.readString(tag)
                case 2: count = try r.readInt32(tag)
                case 3: delayMs = try r.readInt32(tag)
                case 4: size = try r.readInt32(tag)
                case 5: failCode = try r.readInt32(tag)
                default: try r.skip(tag)
                }
            }
        }
    }
}

@Sendable func echoResponse(_ req: EchoRequest, index: Int32, ctx: ServerCallContext, withMetadata: Bool) -> [UInt8] {
    var w = ProtoWriter(capacity: 64 + Int(req.size))
    w.writeString(req.message, field: 1)
    w.writeInt32(index, field: 2)
    if req.size > 0 { w.writeBytes([UInt8](repeating: 0xAB, count: Int(req.size)), field: 3) }
    w.writeString(ctx.peerAddress, field: 4)
    if withMetadata {
        for e in ctx.metadata {
            switch e.value {
            case .string(let s): w.writeString("\(e.key)=\(s)", field: 5)
            case .binary(let b): w.writeString("\(e.key)=hex:" + b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(), field: 5)
            }
        }
    }
    return w.bytes
}

final class Counters: @unchecked Sendable {
    let lock = Lock()
    var cancelled: Int64 = 0
    var deadlines: Int64 = 0
}
let counters = Counters()

// A separate loop standing in for "another thread" that completes calls later.
let worker = EventLoop(index: 99)
worker.start()

let testService = ServiceDefinition(name: "paytrack.test.TestService", methods: [
    "UnaryEcho": .unary { ctx, bytes, responder in
        guard let req = try? EchoRequest(bytes) else { responder.fail(.invalidArgument, "bad EchoRequest"); return }
        if req.failCode != 0 {
            responder.fail(GRPCStatus(GRPCStatus.Code(rawValue: Int(req.failCode)) ?? .unknown, req.message)); return
        }
        let resp = echoResponse(req, index: 0, ctx: ctx, withMetadata: true)
        if req.delayMs > 0 {
            ctx.onCancel {
                counters.lock.withLock { counters.cancelled += 1 }
                if let d = ctx.deadline, monotonicNanos() >= d { counters.lock.withLock { counters.deadlines += 1 } }
            }
            worker.execute {
                worker.scheduleTimer(afterNanos: UInt64(req.delayMs) * 1_000_000) { responder.respond(resp) }
            }
        } else {
            responder.respond(resp)
        }
    },
    "StreamEcho": .serverStreaming { ctx, bytes, writer in
        guard let req = try? EchoRequest(bytes) else { writer.finish(GRPCStatus(.invalidArgument, "bad EchoRequest")); return }
        // Producer pulls on demand: send until the bounded buffer is full, resume on onReady.
        final class State: @unchecked Sendable { var next: Int32 = 0 }
        let st = State()
        let pump: @Sendable () -> Void = {
            while st.next < req.count {
                if !writer.send(echoResponse(req, index: st.next, ctx: ctx, withMetadata: false)) { return }
                st.next += 1
            }
            writer.finish()
        }
        writer.onReady(pump)
        pump()
    },
    "SlowStream": .serverStreaming { ctx, bytes, writer in
        guard let req = try? EchoRequest(bytes) else { writer.finish(GRPCStatus(.invalidArgument, "bad EchoRequest")); return }
        final class State: @unchecked Sendable { var i: Int32 = 0; var timer: EventLoopTimer? }
        let st = State()
        let loop = ctx.eventLoop
        ctx.onCancel {
            counters.lock.withLock { counters.cancelled += 1 }
            if let t = st.timer { loop.cancelTimer(t) }
        }
        func tick() {
            if ctx.isCancelled { return }
            if req.count > 0 && st.i >= req.count { writer.finish(); return }
            _ = writer.send(echoResponse(req, index: st.i, ctx: ctx, withMetadata: false))
            st.i += 1
            st.timer = loop.scheduleTimer(afterNanos: UInt64(max(1, req.delayMs)) * 1_000_000) { tick() }
        }
        tick()
    },
    "Stats": .unary { _, _, responder in
        var w = ProtoWriter()
        counters.lock.withLock {
            w.writeInt64(counters.cancelled, field: 1)
            w.writeInt64(counters.deadlines, field: 2)
        }
        responder.respond(w.bytes)
    },
])

var services: [RPCService] = [testService]
let health = HealthService()
services.append(health)

// Benchmark service: the fixed finished Payment, as the bench peers serve it.
if let path = opts["--bench-payment"] {
    guard let framed = readFile(path), framed.count > 5 else { die("cannot read \(path)", 2) }
    let payment = Array(framed[5...])
    services.append(ServiceDefinition(name: "routerrpc.Router", methods: [
        "TrackPaymentV2": .serverStreaming { _, _, writer in
            writer.send(payment)
            writer.finish()
        },
    ]))
}

var descriptors: [(name: String, bytes: [UInt8])] = []
if let path = opts["--descriptor-set"] {
    guard let set = readFile(path), let files = try? ReflectionService.splitDescriptorSet(set) else {
        die("cannot read descriptor set \(path)", 2)
    }
    descriptors = files
}
var serviceNames = services.map { $0.serviceName }
serviceNames += ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
let reflection = ReflectionService(descriptors: descriptors, serviceNames: serviceNames)
services += reflection.services

struct RequireMacaroon: ServerInterceptor {
    func intercept(_ context: ServerCallContext) -> GRPCStatus? {
        if context.serviceName.hasPrefix("grpc.") || context.serviceName.hasPrefix("paytrack.test") { return nil }
        return context.metadata.withStringValues("macaroon") { n, _ in n == 0 } ? GRPCStatus(.unauthenticated, "expected 1 macaroon, got 0") : nil
    }
}

var config = GRPCServerConfiguration()
if let l = opts["--loops"], let n = Int(l) { config.loopCount = n }
if let m = opts["--max-recv"], let n = Int(m) { config.maxReceiveMessageSize = n }
if let k = opts["--keepalive-ms"], let n = UInt64(k) {
    config.http2.keepaliveTimeNanos = n * 1_000_000
    config.http2.keepaliveTimeoutNanos = n * 1_000_000
}
let tls: TLSContext
do { tls = try TLSContext(serverCertificatePath: cert, privateKeyPath: key) } catch {
    die("TLS: \(error)", 1)
}
let server = GRPCServer(services: services, interceptors: flags.contains("--require-macaroon") ? [RequireMacaroon()] : [],
                        tls: tls, configuration: config)
let port: Int
do { port = try server.start(host: opts["--host"] ?? "127.0.0.1", port: Int(opts["--port"] ?? "0") ?? 0) } catch {
    die("listen: \(error)", 1)
}
health.setStatus(.serving, service: "")
health.setStatus(.serving, service: "paytrack.test.TestService")
say("LISTENING \(port)")

var got: Int32 = 0
sigwait(&sigs, &got)
health.shutdown()
let graceMs = Int64(opts["--grace-ms"] ?? "5000") ?? 5000
server.shutdown(gracePeriod: .milliseconds(graceMs))
say("STOPPED")
// Without exit's handlers, as paytrackd's main: the loops' threads are joined by now, but any other
// thread still ending runs OpenSSL's per-thread destructors, which OpenSSL's atexit cleanup would
// race with (a SIGSEGV at exit, seen once here before the loops were joined).
_exit(0)
