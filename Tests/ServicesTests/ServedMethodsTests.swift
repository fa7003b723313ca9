import NodeLayout
import XCTest
import GRPC
import RPCCore
import Macaroons
import Simnet
@testable import Node
@testable import Services

/// Every method a node serves must declare its macaroon permissions (issue: "every method has an
/// entry, and a test fails if one lacks it"), and the served set must be LND's scope.
final class ServedMethodsTests: XCTestCase {
    func makeNode() throws -> ServedNode {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-services-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var config = Config()
        config.dataDirectory = dir
        let network = SimulatedNetwork.makeDefault()
        let sink = LogSink(levels: LogLevels(global: .off))
        return try ServedNode(name: "alice", directory: NodeDirectory(root: dir, network: "testnet"), config: config,
                              network: network, sink: sink)
    }

    func servedPaths(_ node: ServedNode) -> [String] {
        node.services(config: Config(), work: BlockingWork()).flatMap { s in
            s.methods.keys.map { "/\(s.serviceName)/\($0)" }
        }.sorted()
    }

    func testEveryServedMethodHasPermissions() throws {
        let paths = servedPaths(try makeNode())
        XCTAssertEqual(RequiredPermissions.methodsWithoutEntry(servedMethods: paths), [])
    }

    func testServedSetIsLNDsScopePlusHealthAndReflection() throws {
        let paths = Set(servedPaths(try makeNode()))
        let lnd: Set<String> = [
            "/routerrpc.Router/SendPaymentV2", "/routerrpc.Router/TrackPaymentV2", "/routerrpc.Router/TrackPayments",
            "/lnrpc.Lightning/GetInfo", "/lnrpc.Lightning/AddInvoice", "/lnrpc.Lightning/ListInvoices",
            "/lnrpc.Lightning/LookupInvoice", "/lnrpc.Lightning/SubscribeInvoices", "/lnrpc.Lightning/DecodePayReq",
            "/lnrpc.Lightning/ListPayments", "/lnrpc.Lightning/DeletePayment", "/lnrpc.Lightning/DeleteAllPayments",
            "/lnrpc.Lightning/BakeMacaroon", "/lnrpc.Lightning/ListPermissions", "/lnrpc.Lightning/CheckMacaroonPermissions",
            // invoicesrpc (hold invoices)
            "/invoicesrpc.Invoices/AddHoldInvoice", "/invoicesrpc.Invoices/SettleInvoice", "/invoicesrpc.Invoices/CancelInvoice",
            "/invoicesrpc.Invoices/LookupInvoiceV2", "/invoicesrpc.Invoices/SubscribeSingleInvoice",
            // channels and graph
            "/lnrpc.Lightning/ChannelBalance", "/lnrpc.Lightning/ListChannels", "/lnrpc.Lightning/DescribeGraph",
            "/lnrpc.Lightning/GetNodeInfo", "/lnrpc.Lightning/GetChanInfo", "/lnrpc.Lightning/QueryRoutes",
            // routes and mission control
            "/routerrpc.Router/EstimateRouteFee", "/routerrpc.Router/SendToRouteV2", "/routerrpc.Router/BuildRoute",
            "/routerrpc.Router/QueryMissionControl", "/routerrpc.Router/ResetMissionControl", "/routerrpc.Router/QueryProbability",
            "/routerrpc.Router/SubscribeHtlcEvents",
            // legacy payment calls (LND <= 0.20)
            "/lnrpc.Lightning/SendPaymentSync", "/lnrpc.Lightning/SendPayment",
            "/lnrpc.Lightning/SendToRouteSync", "/lnrpc.Lightning/SendToRoute", "/routerrpc.Router/SendToRoute",
            "/routerrpc.Router/SendPayment", "/routerrpc.Router/TrackPayment",
        ]
        XCTAssertTrue(lnd.isSubset(of: paths), "missing: \(lnd.subtracting(paths).sorted())")
        let extra = paths.subtracting(lnd).filter { !$0.hasPrefix("/grpc.health.v1.") && !$0.hasPrefix("/grpc.reflection.") }
        XCTAssertEqual(extra, ["/paytrackrpc.Simnet/DescribeNetwork"], "served methods outside LND's scope (PayTrack's extension only)")
    }

    /// ListPermissions lists LND's permission table for exactly the methods served (issue 15: it
    /// used to advertise methods PayTrack did not serve); open methods (health, reflection by
    /// default) are not in it.
    func testListPermissionsListsExactlyTheServedMethods() throws {
        let node = try makeNode()
        let served = Set(servedPaths(node)).subtracting(RequiredPermissions.openMethods)
        XCTAssertEqual(Set(node.macaroons.listPermissions().map(\.0)), served)
    }

    func testInterceptorPeerIP() {
        XCTAssertEqual(MacaroonInterceptor.ip(of: "127.0.0.1:5000"), "127.0.0.1")
        XCTAssertEqual(MacaroonInterceptor.ip(of: "[::1]:5000"), "::1")
        XCTAssertNil(MacaroonInterceptor.ip(of: ""))
    }
}
