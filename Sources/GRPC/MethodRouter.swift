import RPCCore
import Glibc

/// The gRPC method table: maps ":path" ("/package.Service/Method") to a handler. Matching works on the raw header bytes
/// (no String per request); each route keeps its path as a String for `ServerCallContext.path`.
public struct MethodRouter: Sendable {
    public enum Lookup {
        case found(RPCHandler)
        case unknownService(String)
        case unknownMethod(String, String)
        case malformed
    }

    /// One method. A class: the per-call path reads its fields through one reference instead of
    /// copying (and retaining) every field of a struct.
    final class Route: Sendable {
        let path: String
        let bytes: [UInt8]
        let handler: RPCHandler
        let service: Substring
        let method: Substring
        /// The service's `shutdownStatus`.
        let shutdownStatus: GRPCStatus
        init(path: String, bytes: [UInt8], handler: RPCHandler, service: Substring, method: Substring,
             shutdownStatus: GRPCStatus) {
            self.path = path; self.bytes = bytes; self.handler = handler; self.service = service
            self.method = method; self.shutdownStatus = shutdownStatus
        }
    }

    private(set) var routes: [Route] = []
    private var services: Set<String> = []

    public init(services: [RPCService] = []) { for s in services { add(s) } }

    public mutating func add(_ service: RPCService) {
        services.insert(service.serviceName)
        for (m, h) in service.methods.sorted(by: { $0.key < $1.key }) {
            let p = "/\(service.serviceName)/\(m)"
            routes.removeAll { $0.path == p }
            let sIdx = p.index(after: p.startIndex)
            let slash = p.lastIndex(of: "/")!
            routes.append(Route(path: p, bytes: Array(p.utf8), handler: h, service: p[sIdx..<slash],
                                method: p[p.index(after: slash)...], shutdownStatus: service.shutdownStatus))
        }
    }

    /// Names of every registered service (for reflection).
    public var serviceNames: [String] { services.sorted() }

    /// Index of the route whose path equals `path` byte for byte.
    func match(_ path: UnsafeRawBufferPointer) -> Int? {
        let n = path.count
        guard n > 0, let p = path.baseAddress else { return nil }
        for i in routes.indices {
            let r = routes[i]
            if r.bytes.count == n && r.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, p, n) }) == 0 { return i }
        }
        return nil
    }

    public func lookup(_ path: String) -> Lookup {
        var p = path
        if let i = p.withUTF8({ match(UnsafeRawBufferPointer($0)) }) { return .found(routes[i].handler) }
        return classify(path)
    }

    /// Why an unmatched path failed (unknown service vs unknown method, as grpc-go words it).
    func classify(_ path: String) -> Lookup {
        guard path.first == "/" else { return .malformed }
        let rest = path.dropFirst()
        guard let slash = rest.firstIndex(of: "/") else { return .malformed }
        let service = String(rest[..<slash])
        let method = String(rest[rest.index(after: slash)...])
        if !services.contains(service) { return .unknownService(service) }
        return .unknownMethod(method, service)
    }
}
