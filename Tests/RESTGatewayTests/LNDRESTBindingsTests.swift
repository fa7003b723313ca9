import Foundation
import XCTest
@testable import RESTGateway

/// The gateway's bindings are exactly LND's grpc-gateway mappings (issue 15, point 6): every
/// row of `Fixtures/lnd-rest-mappings.tsv` (LND v0.21's lightning.yaml, router.yaml and
/// invoices.yaml, plus the three legacy payment bindings of v0.20.3) with its verb, path
/// template and body rule, and nothing else.
final class LNDRESTBindingsTests: XCTestCase {
    struct Row: Hashable, CustomStringConvertible {
        let method: String, verb: String, path: String, body: String
        var description: String { "\(verb) \(path) -> \(method) body=\(body)" }
    }

    func lndRows() throws -> Set<Row> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lnd-rest-mappings.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var rows = Set<Row>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(cols.count, 5, "malformed row: \(line)")
            guard cols.count == 5, let dot = cols[0].lastIndex(of: ".") else { continue }
            let method = "/\(cols[0][..<dot])/\(cols[0][cols[0].index(after: dot)...])"
            rows.insert(Row(method: method, verb: cols[1], path: cols[2], body: cols[3]))
        }
        return rows
    }

    func testBindingsAreExactlyLNDsMappings() throws {
        let lnd = try lndRows()
        XCTAssertEqual(lnd.count, 96, "the fixture is LND's full table")
        let ours = Set(LNDRESTBindings.all.map {
            Row(method: $0.method, verb: $0.verb, path: $0.template.description, body: $0.body == .all ? "*" : "")
        })
        XCTAssertEqual(ours.count, LNDRESTBindings.all.count, "a binding listed twice")
        XCTAssertEqual(lnd.subtracting(ours).map(\.description).sorted(), [], "LND's mappings the gateway lacks")
        XCTAssertEqual(ours.subtracting(lnd).map(\.description).sorted(), [], "bindings LND does not have")
    }

    func testLegacyPaymentBindingsOfV020AreThere() throws {
        let legacy = LNDRESTBindings.all.filter { ["/lnrpc.Lightning/SendPayment", "/lnrpc.Lightning/SendPaymentSync",
                                                   "/lnrpc.Lightning/SendToRouteSync"].contains($0.method) }
        XCTAssertEqual(Set(legacy.map { "\($0.verb) \($0.template.description)" }),
                       ["POST /v1/channels/transaction-stream", "POST /v1/channels/transactions", "POST /v1/channels/transactions/route"])
    }
}
