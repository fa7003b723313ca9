/// One (entity, action) pair a macaroon grants: bakery `Op`, lnrpc `MacaroonPermission`.
public struct MacaroonPermission: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var entity: String
    public var action: String

    public init(entity: String, action: String) {
        self.entity = entity
        self.action = action
    }

    public init(_ entity: String, _ action: String) { self.init(entity: entity, action: action) }

    public var description: String { "\(entity):\(action)" }

    /// Bakery `opsByValue` order: entity, then action (byte-wise, as Go compares strings).
    public static func < (a: MacaroonPermission, b: MacaroonPermission) -> Bool {
        if a.entity != b.entity { return Array(a.entity.utf8).lexicographicallyPrecedes(Array(b.entity.utf8)) }
        return Array(a.action.utf8).lexicographicallyPrecedes(Array(b.action.utf8))
    }

    /// Bakery `CanonicalOps`: sorted, duplicates removed.
    public static func canonical(_ ops: [MacaroonPermission]) -> [MacaroonPermission] {
        var out: [MacaroonPermission] = []
        for op in ops.sorted() where out.last != op { out.append(op) }
        return out
    }

    /// The special entity whose action is a full gRPC method (`uri:/lnrpc.Lightning/GetInfo`).
    public static let uriEntity = "uri"

    /// LND `validActions`.
    public static let validActions = ["read", "write", "generate"]
    /// LND `validEntities`.
    public static let validEntities = [
        "onchain", "offchain", "address", "message", "remotesigner", "peers", "info", "invoices",
        "signer", "macaroon", uriEntity,
    ]

    // MARK: Default macaroon permission sets (LND rpcserver.go / lnd.go, routerrpc)

    /// LND `readPermissions`: `readonly.macaroon`.
    public static let readOnly: [MacaroonPermission] = [
        .init("onchain", "read"), .init("offchain", "read"), .init("address", "read"),
        .init("message", "read"), .init("peers", "read"), .init("info", "read"),
        .init("invoices", "read"), .init("signer", "read"), .init("macaroon", "read"),
    ]
    /// LND `writePermissions`.
    public static let write: [MacaroonPermission] = [
        .init("onchain", "write"), .init("offchain", "write"), .init("address", "write"),
        .init("message", "write"), .init("peers", "write"), .init("info", "write"),
        .init("invoices", "write"), .init("signer", "generate"), .init("macaroon", "generate"),
        .init("macaroon", "write"), .init("remotesigner", "generate"),
    ]
    /// `admin.macaroon`: read ∪ write.
    public static let admin: [MacaroonPermission] = readOnly + write
    /// LND `invoicePermissions`: `invoice.macaroon`.
    public static let invoice: [MacaroonPermission] = [
        .init("invoices", "read"), .init("invoices", "write"), .init("address", "read"),
        .init("address", "write"), .init("onchain", "read"),
    ]
    /// routerrpc `macPermissions`: `router.macaroon`.
    public static let router: [MacaroonPermission] = [.init("offchain", "read"), .init("offchain", "write")]
}
