/// Maps ":path" ("/package.Service/Method") to a handler.
public struct Router: Sendable {
    public enum Lookup {
        case found(RPCHandler)
        case unknownService(String)
        case unknownMethod(String, String)
        case malformed
    }

    private var routes: [String: RPCHandler] = [:]
    private var services: Set<String> = []

    public init(services: [GRPCService] = []) { for s in services { add(s) } }

    public mutating func add(_ service: GRPCService) {
        services.insert(service.serviceName)
        for (m, h) in service.methods { routes["/\(service.serviceName)/\(m)"] = h }
    }

    /// Names of every registered service (for reflection).
    public var serviceNames: [String] { services.sorted() }

    public func lookup(_ path: String) -> Lookup {
        if let h = routes[path] { return .found(h) }
        guard path.first == "/" else { return .malformed }
        let rest = path.dropFirst()
        guard let slash = rest.firstIndex(of: "/") else { return .malformed }
        let service = String(rest[..<slash])
        let method = String(rest[rest.index(after: slash)...])
        if !services.contains(service) { return .unknownService(service) }
        return .unknownMethod(method, service)
    }
}
