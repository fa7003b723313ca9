import NodeLayout
import Foundation
import JSON
import KomodoRPC
import Simnet
import XCTest
@testable import Node

/// A real served node (simulated network, engine, invoice registry) with its Komodo API, and a
/// helper that sends one HTTP request through the dispatcher.
final class KDFTestNode {
    static let password = "RPC_UserP@SSW0RD"
    let dir: String
    let network: SimulatedNetwork
    let node: ServedNode
    let kdf: KDFService

    init(name: String = "alice", network: SimulatedNetwork? = nil, localOnly: Bool = true, metrics: NodeMetrics? = nil,
         file: StaticString = #filePath) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-kdf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/kdf", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/kdf/rpc_password", contents: Data(Self.password.utf8),
                                                     attributes: [.posixPermissions: 0o600]))
        var config = Config()
        config.dataDirectory = dir
        config.kdfLocalOnly = localOnly
        self.network = network ?? SimulatedNetwork.makeDefault()
        let sink = LogSink(levels: LogLevels(global: .off))
        node = try ServedNode(name: name, directory: NodeDirectory(root: dir, network: "testnet"), config: config,
                              network: self.network, sink: sink, metrics: metrics)
        kdf = try node.enableKDF(config: config)
    }

    deinit {
        kdf.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// POSTs `body` from `ip`; returns the status and the parsed reply.
    func post(_ body: String, ip: String = "127.0.0.1", method: String = "POST") -> (Int, JSONValue, String) {
        let r = kdf.dispatcher.handle(MMRPCHTTPRequest(method: method, body: Array(body.utf8), peerIP: ip))
        let text = r.bodyText
        return (r.status, (try? JSONParser().parse(text)) ?? .null, text)
    }

    /// An mmrpc call with the right userpass.
    func call(_ method: String, _ params: String, id: Int = 1, ip: String = "127.0.0.1") -> (Int, JSONValue, String) {
        post("{\"userpass\":\"\(Self.password)\",\"mmrpc\":\"2.0\",\"method\":\"\(method)\",\"params\":\(params),\"id\":\(id)}", ip: ip)
    }
}

/// Waits until `condition` holds (no timing assertion: fails only if it never holds).
func eventually(_ what: String, _ condition: () throws -> Bool, file: StaticString = #filePath, line: UInt = #line) rethrows {
    for _ in 0..<2000 {
        if try condition() { return }
        usleep(5_000)
    }
    XCTFail("never: \(what)", file: file, line: line)
}
