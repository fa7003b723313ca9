/// Maps ":path" ("/package.Service/Method") to a handler. Matching works on the raw header bytes
/// (no String per request); each route keeps its path as a String for `ServerCallContext.path`.
public struct Router: Sendable {
    public enum Lookup {
        case found(RPCHandler)
        case unknownService(String)
        case unknownMethod(String, String)
        case malformed
    }

    struct Route: Sendable {
        let path: String
        let bytes: [UInt8]
        let handler: RPCHandler
        let service: Substring
        let method: Substring
        /// The service's `shutdownStatus`.
        let shutdownStatus: GRPCStatus
    }

    private(set) var routes: [Route] = []
    private var services: Set<String> = []

    public init(services: [GRPCService] = []) { for s in services { add(s) } }

    public mutating func add(_ service: GRPCService) {
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
        for i in routes.indices where routes[i].bytes.count == n {
            if routes[i].bytes.withUnsafeBytes({ $0.elementsEqual(path) }) { return i }
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
