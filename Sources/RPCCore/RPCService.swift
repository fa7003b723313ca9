/// A service of LND's API: its full protobuf name ("routerrpc.Router") and its methods by name
/// ("TrackPaymentV2"). Every face (gRPC, REST, WebSocket) routes to the same handlers.
public protocol RPCService: Sendable {
    var serviceName: String { get }
    var methods: [String: RPCHandler] { get }
    /// The status this service's open server streams end with when the server shuts down
    /// (default: UNAVAILABLE "server shutting down"). Calls started while draining get it too.
    var shutdownStatus: GRPCStatus { get }
}

extension RPCService {
    public var shutdownStatus: GRPCStatus { GRPCStatus(.unavailable, "server shutting down") }
}

/// A simple `RPCService` built from a dictionary.
public struct ServiceDefinition: RPCService {
    public let serviceName: String
    public let methods: [String: RPCHandler]
    public init(name: String, methods: [String: RPCHandler]) { serviceName = name; self.methods = methods }
}
