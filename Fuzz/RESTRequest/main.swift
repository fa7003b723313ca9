import LightningRPC
import RESTGateway
import RPCCore

/// LND's REST gateway's request path on arbitrary bytes: the first line is "VERB TARGET", the
/// rest the body. Routing, path and query typing (Go's base64 and strconv), and body decoding must
/// only ever answer a status; what decodes must be a message of the method's request type.
/// Every method of the API has a (never run) handler, so every binding is reachable.
let gateway: RESTGateway = {
    var byService: [String: [String: RPCHandler]] = [:]
    for m in LightningDescriptors.methods {
        let parts = m.path.split(separator: "/")
        byService[String(parts[0]), default: [:]][String(parts[1])] = .unary { _, _, r in r.fail(.unknown, "fuzz") }
    }
    return RESTGateway(services: byService.map { ServiceDefinition(name: $0.key, methods: $0.value) }, interceptors: [])
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let nl = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let line = String(decoding: bytes[..<nl], as: UTF8.self)
    let body = nl < bytes.count ? Array(bytes[(nl + 1)...]) : []
    let parts = line.split(separator: " ", maxSplits: 1)
    guard parts.count == 2 else { return 0 }
    switch gateway.prepare(verb: String(parts[0]), target: String(parts[1]), body: body) {
    case .success(let r):
        guard let m = LightningDescriptors.methods.first(where: { $0.path == r.method }),
              let t = LightningDescriptors.messageTypes.first(where: { $0.protoMessageName == m.inputType }) else {
            preconditionFailure("decoded a request for an unknown method \(r.method)")
        }
        do { _ = try t.init(serializedBytes: r.request) } catch { preconditionFailure("request does not decode: \(error)") }
    case .failure(let status):
        precondition(status.code != .ok && !status.message.isEmpty)
    }
    return 0
}
