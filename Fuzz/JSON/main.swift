import JSON
import LightningRPC

/// Our JSON parser on arbitrary bytes (must only throw JSONError; what parses must survive
/// write → parse unchanged), then LND gateway JSON decoding of a few messages (must only throw
/// GatewayJSONError; what decodes must survive gateway encode → decode unchanged).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parser = JSONParser(limits: .init(maximumDepth: 64, maximumBytes: 1 << 20))
    let value: JSONValue
    do {
        value = try parser.parse(bytes)
    } catch {
        return 0
    }
    let text = JSONWriter.string(value)
    do {
        let again = try parser.parse(text)
        precondition(again == value, "write/parse changed the value")
    } catch {
        preconditionFailure("our own output does not parse: \(error)")
    }
    gateway(Lnrpc.Payment.self, value)
    gateway(Routerrpc.SendPaymentRequest.self, value)
    gateway(Lnrpc.Invoice.self, value)
    gateway(Routerrpc.TrackPaymentRequest.self, value)
    gateway(Lnrpc.ListPaymentsRequest.self, value)
    return 0
}

func gateway<M: GatewayJSONMessage>(_: M.Type, _ value: JSONValue) {
    let message: M
    do { message = try M(gatewayJSON: value) } catch { return }
    let json = message.gatewayJSONString()
    do {
        let again = try M(gatewayJSONString: json)
        if message == message { precondition(again == message, "\(M.protoMessageName): gateway JSON round trip differs") }
        precondition(again.gatewayJSONString() == json, "\(M.protoMessageName): gateway JSON not stable")
    } catch {
        preconditionFailure("\(M.protoMessageName): our gateway JSON does not decode: \(error)")
    }
}
