/// Which permissions each RPC needs: LND's `MainRPCServerPermissions` and sub-server
/// permission maps for every method PayTrack serves (spec §1), plus the methods PayTrack
/// serves without a macaroon.
///
/// Contract: ``MacaroonChecker`` refuses a method with no entry here with LND's
/// `<method>: unknown permissions required for method`, so a served method missing from this
/// table is unusable; Services' tests check every registered method against
/// ``requiredPermissions`` ∪ ``openMethods``.
public enum RequiredPermissions {
    /// Full gRPC method → permissions all of which the macaroon must grant (or it must grant
    /// `uri:<method>`).
    public static let requiredPermissions: [String: [MacaroonPermission]] = [
        // routerrpc.Router
        "/routerrpc.Router/SendPaymentV2": [.init("offchain", "write")],
        "/routerrpc.Router/TrackPaymentV2": [.init("offchain", "read")],
        "/routerrpc.Router/TrackPayments": [.init("offchain", "read")],
        "/routerrpc.Router/SendToRouteV2": [.init("offchain", "write")],
        "/routerrpc.Router/EstimateRouteFee": [.init("offchain", "read")],
        "/routerrpc.Router/BuildRoute": [.init("offchain", "read")],
        "/routerrpc.Router/QueryMissionControl": [.init("offchain", "read")],
        "/routerrpc.Router/ResetMissionControl": [.init("offchain", "write")],
        "/routerrpc.Router/QueryProbability": [.init("offchain", "read")],
        "/routerrpc.Router/SubscribeHtlcEvents": [.init("offchain", "read")],
        // legacy (LND <= 0.20, routerrpc/router_server.go@v0.20.3 macPermissions)
        "/routerrpc.Router/SendToRoute": [.init("offchain", "write")],
        "/routerrpc.Router/SendPayment": [.init("offchain", "write")],
        "/routerrpc.Router/TrackPayment": [.init("offchain", "read")],
        // lnrpc.Lightning
        "/lnrpc.Lightning/GetInfo": [.init("info", "read")],
        "/lnrpc.Lightning/AddInvoice": [.init("invoices", "write")],
        "/lnrpc.Lightning/LookupInvoice": [.init("invoices", "read")],
        "/lnrpc.Lightning/ListInvoices": [.init("invoices", "read")],
        "/lnrpc.Lightning/SubscribeInvoices": [.init("invoices", "read")],
        "/lnrpc.Lightning/DecodePayReq": [.init("offchain", "read")],
        "/lnrpc.Lightning/ListPayments": [.init("offchain", "read")],
        "/lnrpc.Lightning/DeletePayment": [.init("offchain", "write")],
        "/lnrpc.Lightning/DeleteAllPayments": [.init("offchain", "write")],
        "/lnrpc.Lightning/BakeMacaroon": [.init("macaroon", "generate")],
        "/lnrpc.Lightning/CheckMacaroonPermissions": [.init("macaroon", "read")],
        "/lnrpc.Lightning/ListPermissions": [.init("info", "read")],
        "/lnrpc.Lightning/ChannelBalance": [.init("offchain", "read")],
        "/lnrpc.Lightning/ListChannels": [.init("offchain", "read")],
        "/lnrpc.Lightning/DescribeGraph": [.init("info", "read")],
        "/lnrpc.Lightning/GetNodeInfo": [.init("info", "read")],
        "/lnrpc.Lightning/GetChanInfo": [.init("info", "read")],
        "/lnrpc.Lightning/QueryRoutes": [.init("info", "read")],
        // legacy (LND <= 0.20, rpcserver.go@v0.20.3 MainRPCServerPermissions)
        "/lnrpc.Lightning/SendPaymentSync": [.init("offchain", "write")],
        "/lnrpc.Lightning/SendPayment": [.init("offchain", "write")],
        "/lnrpc.Lightning/SendToRouteSync": [.init("offchain", "write")],
        "/lnrpc.Lightning/SendToRoute": [.init("offchain", "write")],
        // invoicesrpc.Invoices (invoicesrpc/invoices_server.go macPermissions; LookupInvoiceV2 really
        // needs invoices:write in LND)
        "/invoicesrpc.Invoices/LookupInvoiceV2": [.init("invoices", "write")],
        "/invoicesrpc.Invoices/SubscribeSingleInvoice": [.init("invoices", "read")],
        "/invoicesrpc.Invoices/AddHoldInvoice": [.init("invoices", "write")],
        "/invoicesrpc.Invoices/SettleInvoice": [.init("invoices", "write")],
        "/invoicesrpc.Invoices/CancelInvoice": [.init("invoices", "write")],
        // paytrackrpc.Simnet (PayTrack's extension: the simulated network, read-only)
        "/paytrackrpc.Simnet/DescribeNetwork": [.init("info", "read")],
    ]

    /// gRPC server reflection (LND serves none). Open by default: it describes LND's public schema,
    /// and reflection clients (grpcurl-style tools such as `grpc-requests`) cannot attach metadata
    /// to their reflection calls. `--reflection.macaroon` requires ``reflectionPermissions``.
    public static let reflectionMethods: Set<String> = [
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    /// What reflection needs with `--reflection.macaroon` (admin and readonly macaroons have it).
    public static let reflectionPermissions: [MacaroonPermission] = [.init("info", "read")]

    /// Methods served without any macaroon. Health checking is open: load balancers and
    /// orchestrators probe without credentials, and the answer (SERVING or not) reveals nothing
    /// else; reflection is open unless `--reflection.macaroon`. (LND's own whitelist —
    /// WalletUnlocker, lnrpc.State — names methods PayTrack does not serve.)
    public static let openMethods: Set<String> = Set([
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.health.v1.Health/List",
    ]).union(reflectionMethods)

    /// The permission table with reflection behind a macaroon (`--reflection.macaroon`) or open.
    public static func requiredPermissions(reflectionMacaroon: Bool) -> [String: [MacaroonPermission]] {
        guard reflectionMacaroon else { return requiredPermissions }
        var table = requiredPermissions
        for m in reflectionMethods { table[m] = reflectionPermissions }
        return table
    }

    /// The open methods with reflection open or not (`--reflection.macaroon`).
    public static func openMethods(reflectionMacaroon: Bool) -> Set<String> {
        reflectionMacaroon ? openMethods.subtracting(reflectionMethods) : openMethods
    }

    /// The permissions for `fullMethod`, or nil when the table has none.
    public static func permissions(for fullMethod: String) -> [MacaroonPermission]? {
        requiredPermissions[fullMethod]
    }

    /// The served methods that have neither a permission entry nor an open-method entry (what
    /// a Services test should assert is empty for every registered method).
    public static func methodsWithoutEntry(servedMethods: some Sequence<String>) -> [String] {
        servedMethods.filter { requiredPermissions[$0] == nil && !openMethods.contains($0) }
    }

    /// True when `fullMethod` is in ``openMethods``.
    public static func isOpen(_ fullMethod: String) -> Bool { openMethods.contains(fullMethod) }
}
