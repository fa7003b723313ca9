// `GRPCTestServer client ...`: our GRPC client driven from the command line, for interop tests
// against a Python grpcio server. Output is line-oriented:
//   MSG <index> <message> <payload-bytes>       one per response message
//   META <key>=<value>                           (unary) response headers/trailers metadata
//   STATUS <code> <message>                      final status
//
//   GRPCTestServer client --target HOST:PORT --cacert FILE [--timeout-ms N] [--cancel-after N]
//                         [--meta k=v]... [--fail-code N] (unary|stream|slow) MESSAGE [COUNT] [SIZE] [DELAY_MS]
import Locks
import GRPC
import RPCCore
import Transport
import ProtoWire
import Glibc

func runClient(_ argv: [String]) -> Never {
    var args = argv[...]
    var opts: [String: String] = [:]
    var meta = Metadata()
    var positional: [String] = []
    while let a = args.popFirst() {
        if a.hasPrefix("--") {
            guard let v = args.popFirst() else { die("missing value for \(a)", 2) }
            if a == "--meta" {
                let kv = v.split(separator: "=", maxSplits: 1).map(String.init)
                if kv[0].hasSuffix("-bin") { meta.add(kv[0], binary: Array(kv[1].utf8)) } else { meta.add(kv[0], kv[1]) }
            } else { opts[a] = v }
        } else { positional.append(a) }
    }
    guard let target = opts["--target"], positional.count >= 2 else { die("usage: client --target H:P --cacert F MODE MESSAGE", 2) }
    let hp = target.split(separator: ":")
    let client: GRPCClient
    do {
        client = try GRPCClient(host: String(hp[0]), port: Int(hp[1]) ?? 0, trustedCertificatePath: opts["--cacert"])
    } catch {
        say("STATUS 14 connect failed: \(error)"); exit(3)
    }
    var w = ProtoWriter()
    w.writeString(positional[1], field: 1)
    if positional.count > 2 { w.writeInt32(Int32(positional[2]) ?? 0, field: 2) }
    if positional.count > 4 { w.writeInt32(Int32(positional[4]) ?? 0, field: 3) }
    if positional.count > 3 { w.writeInt32(Int32(positional[3]) ?? 0, field: 4) }
    if let f = opts["--fail-code"] { w.writeInt32(Int32(f) ?? 0, field: 5) }
    let request = w.bytes
    let timeout: Duration? = opts["--timeout-ms"].flatMap { Int64($0) }.map { .milliseconds($0) }
    let service = "/paytrack.test.TestService/"
    @Sendable func describe(_ bytes: [UInt8]) -> String {
        var index: Int32 = 0, message = "", payload = 0, md: [String] = []
        try? bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: message = try r.readString(tag)
                case 2: index = try r.readInt32(tag)
                case 3: payload = try r.readBytes(tag).count
                case 5: md.append(try r.readString(tag))
                default: try r.skip(tag)
                }
            }
        }
        return (["MSG \(index) \(message) \(payload)"] + md.map { "MD " + $0 }).joined(separator: "\n")
    }
    switch positional[0] {
    case "unary":
        do {
            let resp = try client.unarySync(path: service + "UnaryEcho", request: request, metadata: meta, timeout: timeout)
            say(describe(resp))
            say("STATUS 0 ")
        } catch {
            say("STATUS \(error.code.rawValue) \(error.message)")
        }
    case "stream", "slow":
        let cancelAfter = opts["--cancel-after"].flatMap { Int($0) }
        final class Box: @unchecked Sendable { var n = 0; var call: ClientCall? }
        let box = Box()
        let latch = Latch<GRPCStatus>()
        let call = client.serverStreaming(path: service + (positional[0] == "stream" ? "StreamEcho" : "SlowStream"),
                                          request: request, metadata: meta, timeout: timeout,
                                          onMessage: { m in
                                              say(describe(m))
                                              box.n += 1
                                              if let c = cancelAfter, box.n == c { box.call?.cancel() }
                                          }, onFinish: { latch.fulfil($0) })
        box.call = call
        let st = latch.wait()
        say("STATUS \(st.code.rawValue) \(st.message)")
    default:
        die("unknown mode \(positional[0])", 2)
    }
    client.close()
    exit(0)
}
