import BOLT11
import Crypto
import Foundation
import Invoices
import JSON
import KomodoRPC
import PaymentLifecycle
import PaymentStore
import Payments
import Routing
import Simnet

/// The mmrpc request path fuzz target: HTTP method + body through KDF's dispatcher (envelope,
/// auth, params of each lightning::payments method) into a real node (simulated network, engine,
/// invoice registry, KDF records in temporary files).
///
/// Input: the first byte picks the HTTP method (POST unless it is 0xff: OPTIONS, 0xfe: GET) and
/// the peer (low bit: loopback or not); the rest is the body. Each input gets a fresh userpass
/// guard so one wrong password cannot ban every later input. Checked for every reply: a
/// well-formed JSON body (an object, or an array for a batch), an HTTP status KDF uses, and the
/// mmrpc envelopes' key order.
let password = "RPC_UserP@SSW0RD"
let node: KDFLightning = {
    let dir = NSTemporaryDirectory() + "paytrack-fuzz-mmrpc-\(getpid())"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let network = SimulatedNetwork.makeDefault()
    let id = network.nodeID(alias: "alice")!
    let key = network.privateKey(of: id)!
    let store = try! SQLitePaymentStore(path: dir + "/payments.sqlite")
    let tower = ControlTower(store: store)
    let control = PaymentControl(store: store, tower: tower)
    let registry = try! InvoiceRegistry(path: dir + "/invoices.sqlite",
                                        configuration: InvoiceRegistry.Configuration(currency: .bitcoinTestnet, nodeKey: key))
    let router = ChannelRouter(source: id, network: network, control: control, intents: try! SQLiteIntentStore(path: dir + "/intents.sqlite"))
    let kdf = KDFLightning(node: KDFLightning.Node(coin: "tBTC-lightning", nodeID: id, invoices: registry, router: router,
                                                   control: control, routeHints: { [] }),
                           store: try! KDFPaymentStore(path: dir + "/kdf.sqlite"))
    try! KDFRecordKeeper(store: kdf.store, tower: tower, invoices: registry).start()
    return kdf
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0, size < 16384 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let method = bytes[0] == 0xff ? "OPTIONS" : bytes[0] == 0xfe ? "GET" : "POST"
    let peer = bytes[0] & 1 == 0 ? "127.0.0.1" : "10.0.0.1"
    var config = MMRPCDispatcher.Configuration()
    config.localOnly = bytes[0] & 2 == 0
    let dispatcher = MMRPCDispatcher(configuration: config, guardian: UserpassGuard(password: password), methods: node)
    let r = dispatcher.handle(MMRPCHTTPRequest(method: method, body: Array(bytes.dropFirst()), peerIP: peer))
    precondition([200, 400, 403, 404, 500].contains(r.status), "status \(r.status)")
    if method == "OPTIONS" { precondition(r.body.isEmpty && r.status == 200); return 0 }
    // The reply is ours, not input: no size limit (a history page of many stored records may pass
    // the parser's default 4 MiB, which bounds what clients send).
    guard let reply = try? JSONParser(limits: JSONParser.Limits(maximumBytes: Int.max)).parse(r.body) else {
        fatalError("reply is not JSON: \(r.bodyText.prefix(2_000))")
    }
    func check(_ v: JSONValue) {
        guard case .object(let m) = v else { fatalError("reply element is not an object: \(r.bodyText)") }
        let keys = m.map(\.key)
        if keys.first == "mmrpc" {
            precondition(keys.last == "id", "id last: \(keys)")
            precondition(keys == ["mmrpc", "result", "id"]
                || keys == ["mmrpc", "error", "error_path", "error_trace", "error_type", "error_data", "id"]
                || keys == ["mmrpc", "error", "error_path", "error_trace", "error_type", "id"], "keys \(keys)")
        } else {
            precondition(keys == ["error"], "legacy keys \(keys)")
        }
    }
    if case .array(let items) = reply {
        precondition(r.status == 200)
        items.forEach(check)
    } else {
        check(reply)
    }
    return 0
}
