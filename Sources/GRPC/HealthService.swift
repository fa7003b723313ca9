import Locks
import RPCCore
import Transport
import ProtoWire

/// `grpc.health.v1.Health` (Check and Watch). Messages are hand-coded:
/// HealthCheckRequest { string service = 1; } / HealthCheckResponse { ServingStatus status = 1; }.
/// Thread-safe: statuses may be set from any thread; watchers are notified through their writers.
public final class HealthService: RPCService, @unchecked Sendable {
    public enum ServingStatus: Int32, Sendable {
        case unknown = 0, serving = 1, notServing = 2, serviceUnknown = 3
    }

    public let serviceName = "grpc.health.v1.Health"
    private let lock = Lock()
    private var statuses: [String: ServingStatus] = [:]
    private var watchers: [Int: (service: String, writer: ServerStreamWriter)] = [:]
    private var nextWatcher = 0

    public init() {}

    /// Sets the status of `service` ("" = the whole server) and notifies watchers.
    public func setStatus(_ status: ServingStatus, service: String) {
        let targets: [ServerStreamWriter] = lock.withLock {
            statuses[service] = status
            return watchers.values.filter { $0.service == service }.map { $0.writer }
        }
        let msg = HealthService.response(status)
        for w in targets { w.send(msg) }
    }

    /// Marks every service NOT_SERVING (call before a graceful shutdown, as grpc-go does).
    public func shutdown() {
        let names = lock.withLock { Array(statuses.keys) }
        for n in names { setStatus(.notServing, service: n) }
    }

    static func response(_ s: ServingStatus) -> [UInt8] {
        var w = ProtoWriter(capacity: 4)
        w.writeEnum(s.rawValue, field: 1)
        return w.bytes
    }

    static func requestedService(_ bytes: [UInt8]) throws -> String {
        try bytes.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            var name = ""
            while let tag = try r.nextTag() {
                if tag.number == 1 { name = try r.readString(tag) } else { try r.skip(tag) }
            }
            return name
        }
    }

    public var methods: [String: RPCHandler] {
        [
            "Check": .unary { [self] _, bytes, responder in
                guard let name = try? HealthService.requestedService(bytes) else {
                    responder.fail(.invalidArgument, "bad HealthCheckRequest"); return
                }
                guard let s = lock.withLock({ statuses[name] }) else {
                    responder.fail(.notFound, "unknown service"); return
                }
                responder.respond(HealthService.response(s))
            },
            "Watch": .serverStreaming { [self] ctx, bytes, writer in
                guard let name = try? HealthService.requestedService(bytes) else {
                    writer.finish(GRPCStatus(.invalidArgument, "bad HealthCheckRequest")); return
                }
                let (id, current): (Int, ServingStatus) = lock.withLock {
                    let id = nextWatcher; nextWatcher += 1
                    watchers[id] = (name, writer)
                    return (id, statuses[name] ?? .serviceUnknown)
                }
                ctx.onCancel { [self] in _ = lock.withLock { watchers.removeValue(forKey: id) } }
                writer.send(HealthService.response(current))
            },
        ]
    }
}
