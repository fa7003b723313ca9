import JSON
import LightningRPC

/// A message type known by its protobuf name, type-erased for the generic `call` command:
/// gateway JSON text → protobuf bytes (request) and protobuf bytes → gateway JSON (response).
struct MessageType: Sendable {
    let name: String
    let encodeJSON: @Sendable (String) throws(CLIError) -> [UInt8]
    let decodeToJSON: @Sendable ([UInt8]) throws(CLIError) -> JSONValue
    /// The empty message as gateway JSON: every field with its zero value (a request skeleton).
    let template: @Sendable () -> JSONValue

    static func of<M: GatewayJSONMessage>(_: M.Type) -> MessageType {
        MessageType(name: M.protoMessageName, encodeJSON: { (text: String) throws(CLIError) -> [UInt8] in
            do { return try M(gatewayJSONString: text).serializedBytes() } catch {
                throw .usage("unable to decode request JSON as \(M.protoMessageName): \(MethodTable.describe(error))")
            }
        }, decodeToJSON: { (bytes: [UInt8]) throws(CLIError) -> JSONValue in
            try RPCConnection.decode(M.self, bytes).gatewayJSON()
        }, template: { M().gatewayJSON() })
    }
}

/// The methods `call` can invoke: every RPC in the API's descriptors (`LightningDescriptors`)
/// whose request and response messages this build has Swift types for.
///
/// Contract: `lookup` accepts `/pkg.Service/Method`, `pkg.Service/Method` and
/// `pkg.Service.Method` (grpcurl's spellings); client-streaming methods are refused.
enum MethodTable {
    /// Every generated message type, by protobuf name (`LightningDescriptors.messageTypes`).
    static let messageTypes: [String: MessageType] = {
        let all = LightningDescriptors.messageTypes.map { MessageType.of($0) }
        return Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }()

    struct Method: Sendable {
        let descriptor: MethodDescriptor
        let request: MessageType
        let response: MessageType
    }

    /// The callable methods, in descriptor order.
    static let methods: [Method] = LightningDescriptors.methods.compactMap { d in
        guard !d.clientStreaming, let req = messageTypes[d.inputType], let resp = messageTypes[d.outputType] else { return nil }
        return Method(descriptor: d, request: req, response: resp)
    }

    static func lookup(_ name: String) throws(CLIError) -> Method {
        var path = name.hasPrefix("/") ? name : "/" + name
        if !path.dropFirst().contains("/"), let dot = path.lastIndex(of: ".") {
            path.replaceSubrange(dot...dot, with: "/")
        }
        if let m = methods.first(where: { $0.descriptor.path == path }) { return m }
        if let d = LightningDescriptors.methods.first(where: { $0.path == path }) {
            throw .usage("method \(d.path) is not supported by call (client-streaming or unknown message types)")
        }
        throw .usage("unknown method \"\(name)\"; see `\(Output.program) call --list`")
    }

    static func describe(_ error: Error) -> String {
        guard let e = error as? GatewayJSONError else { return "\(error)" }
        switch e {
        case .syntax(let j): return "invalid JSON: \(j)"
        case .expectedObject(let m): return "expected a JSON object for \(m)"
        case .unknownField(let m, let f): return "unknown field \"\(f)\" in \(m)"
        case .invalidValue(let f, let r): return "bad value for field \"\(f)\": \(r)"
        }
    }
}
