import RPCCore
import LightningRPC
import Macaroons

/// The macaroon calls of `lnrpc.Lightning`: BakeMacaroon, ListPermissions,
/// CheckMacaroonPermissions (spec §1, §8), over the Macaroons domain.
struct LightningMacaroons: Sendable {
    let service: MacaroonService

    func bakeMacaroon(_ r: Lnrpc.BakeMacaroonRequest) throws -> Lnrpc.BakeMacaroonResponse {
        var out = Lnrpc.BakeMacaroonResponse()
        out.macaroon = try service.bakeMacaroon(permissions: r.permissions.map(Self.permission),
                                                rootKeyID: r.rootKeyId,
                                                allowExternalPermissions: r.allowExternalPermissions)
        return out
    }

    func listPermissions(_ r: Lnrpc.ListPermissionsRequest) -> Lnrpc.ListPermissionsResponse {
        var out = Lnrpc.ListPermissionsResponse()
        for (method, perms) in service.listPermissions() {
            var list = Lnrpc.MacaroonPermissionList()
            list.permissions = perms.map(Self.message)
            out.methodPermissions[method] = list
        }
        return out
    }

    func checkMacaroonPermissions(_ r: Lnrpc.CheckMacPermRequest, peerAddress: String) throws -> Lnrpc.CheckMacPermResponse {
        var permissions = r.permissions.map(Self.permission)
        if r.checkDefaultPermsFromFullMethod {
            guard let defaults = service.checker.requiredPermissions[r.fullMethod] else {
                throw GRPCStatus(.invalidArgument, "\(r.fullMethod): unknown permissions required for method")
            }
            permissions = defaults
        }
        var out = Lnrpc.CheckMacPermResponse()
        out.valid = try service.checkMacaroonPermissions(macaroon: r.macaroon, permissions: permissions,
                                                         fullMethod: r.fullMethod,
                                                         peerIP: MacaroonInterceptor.ip(of: peerAddress))
        return out
    }

    static func permission(_ p: Lnrpc.MacaroonPermission) -> MacaroonPermission {
        MacaroonPermission(entity: p.entity, action: p.action)
    }

    static func message(_ p: MacaroonPermission) -> Lnrpc.MacaroonPermission {
        var m = Lnrpc.MacaroonPermission()
        m.entity = p.entity
        m.action = p.action
        return m
    }
}
