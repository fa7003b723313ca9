import LightningRPC
import ProtoWire
import Metrics
import RPCCore

/// A served method as the gateway needs it: the handler (the same one gRPC runs), its request
/// and response message types (for JSON in and out), and whether it streams.
struct GatewayMethod: Sendable {
    let path: String
    let handler: RPCHandler
    let input: any GatewayJSONMessage.Type
    let output: any GatewayJSONMessage.Type
    let serverStreaming: Bool
    let clientStreaming: Bool
    /// The method's RPC metrics on the REST face and on the WebSocket proxy (nil: metrics off).
    var metrics: GatewayMetrics?

    /// The services' handlers joined with the API's descriptors (method types) and message types.
    static func table(services: [RPCService], methods: [MethodDescriptor],
                      messageTypes: [any GatewayJSONMessage.Type]) -> [String: GatewayMethod] {
        var types: [String: any GatewayJSONMessage.Type] = [:]
        for t in messageTypes { types[t.protoMessageName] = t }
        var descriptors: [String: MethodDescriptor] = [:]
        for m in methods { descriptors[m.path] = m }
        var table: [String: GatewayMethod] = [:]
        for s in services {
            for (name, handler) in s.methods {
                let path = "/\(s.serviceName)/\(name)"
                guard let d = descriptors[path], let i = types[d.inputType], let o = types[d.outputType] else { continue }
                table[path] = GatewayMethod(path: path, handler: handler, input: i, output: o,
                                            serverStreaming: d.serverStreaming, clientStreaming: d.clientStreaming)
            }
        }
        return table
    }
}

/// One method's RPC series on the two faces of the gateway (api `rest` and `ws`).
struct GatewayMetrics: Sendable {
    let rest: RPCMethodSeries
    let ws: RPCMethodSeries

    init(_ metrics: RPCCallMetrics, method: String) {
        rest = metrics.series(api: "rest", method: method)
        ws = metrics.series(api: "ws", method: method)
    }
}
