import JSON
import LightningRPC
import RPCCore
import Transport

/// A streamed message in the REST gateway's form: `{"result":<message JSON>}` followed by "\n"
/// (one NDJSON line; without the newline, one WebSocket text message). Derived from the
/// message's payload alone, so it is computed once per `EncodedMessage` and kept in its
/// `alternate` slot: a snapshot version fanned out to thousands of REST and WebSocket
/// subscribers is marshalled to JSON once, as its protobuf form already is.
final class GatewayJSONLine: Sendable {
    /// The NDJSON line, newline included.
    let line: [UInt8]
    /// The same without the newline, as one WebSocket text message, framed once for every
    /// WebSocket subscriber.
    let webSocketFrame: WebSocketServerFrame

    init(line: [UInt8]) {
        self.line = line
        webSocketFrame = WebSocketServerFrame(text: line.dropLast())
    }

    /// The line for one serialized `output` message.
    static func make(_ payload: some Collection<UInt8>, output: any GatewayJSONMessage.Type) throws -> GatewayJSONLine {
        let message = try output.init(serializedBytes: Array(payload))
        var w = JSONWriter(capacity: 512)
        w.write(.object([JSONMember("result", message.gatewayJSON())]))
        var bytes = w.bytes
        bytes.append(0x0A)
        return GatewayJSONLine(line: bytes)
    }

    /// The memoized line of `message` (computed by the first caller).
    static func of(_ message: EncodedMessage, output: any GatewayJSONMessage.Type) throws -> GatewayJSONLine {
        if let l = message.alternate.load() as? GatewayJSONLine { return l }
        let l = try make(message.payload, output: output)
        return (message.alternate.storeIfNil(l) as? GatewayJSONLine) ?? l
    }

    /// The unary response body: the message's JSON alone.
    static func unaryBody(_ payload: [UInt8], output: any GatewayJSONMessage.Type) throws -> [UInt8] {
        let message = try output.init(serializedBytes: payload)
        var w = JSONWriter(capacity: 512)
        w.write(message.gatewayJSON())
        return w.bytes
    }
}
