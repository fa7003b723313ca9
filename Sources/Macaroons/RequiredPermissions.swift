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
        "/routerrpc.Router/SubscribeHtlcEvents": [.init("offchain", "read")],
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
        // invoicesrpc.Invoices (LookupInvoiceV2 really needs invoices:write in LND)
        "/invoicesrpc.Invoices/LookupInvoiceV2": [.init("invoices", "write")],
        "/invoicesrpc.Invoices/SubscribeSingleInvoice": [.init("invoices", "read")],
        // paytrackrpc.Simnet (PayTrack's extension: the simulated network, read-only)
        "/paytrackrpc.Simnet/DescribeNetwork": [.init("info", "read")],
        // gRPC server reflection: needs a macaroon. Decision: the schema is LND's public API,
        // but listing services on an authenticated port without a credential is free
        // fingerprinting; grpcurl sends metadata with -H 'macaroon: <hex>', so any macaroon
        // with info:read (admin, readonly) works. LND itself serves no reflection.
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": [.init("info", "read")],
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": [.init("info", "read")],
    ]

    /// Methods served without any macaroon. Health checking is open: load balancers and
    /// orchestrators probe without credentials, and the answer (SERVING or not) reveals nothing
    /// else. (LND's own whitelist — WalletUnlocker, lnrpc.State — names methods PayTrack does
    /// not serve.)
    public static let openMethods: Set<String> = [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.health.v1.Health/List",
    ]

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
