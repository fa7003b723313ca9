import Crypto
import Foundation
import LightningRPC
import Macaroons

/// Macaroon commands: bakemacaroon and listpermissions.
enum MacaroonCommands {
    static let bakeMacaroon = Command(
        "bakemacaroon", arguments: "[--save_to=] [--timeout=] [--ip_address=] [--root_key_id=] permissions...",
        summary: "Bakes a new macaroon with the provided list of permissions and restrictions.",
        details: "Each permission is ENTITY:ACTION (e.g. offchain:read, invoices:write) or uri:/pkg.Service/Method.\nWith --save_to the macaroon is written (binary, mode 0600) to FILE and only its path is printed;\notherwise the response (hex macaroon) is printed as JSON.",
        flags: [
            Flag("save_to", value: "FILE", help: "save the macaroon to this file (binary) instead of printing it"),
            Flag("timeout", value: "SECONDS", help: "the number of seconds the macaroon will be valid before it times out"),
            Flag("ip_address", value: "IP", help: "the IP address the macaroon will be bound to"),
            Flag("root_key_id", value: "N", help: "the numerical root key ID used to create the macaroon", default: "0"),
            Flag("allow_external_permissions", help: "whether permissions lnd is not familiar with are allowed"),
        ]) { inv in
        let f = inv.flags
        guard !inv.positionals.isEmpty else { throw CLIError.usage("permissions argument missing") }
        var req = Lnrpc.BakeMacaroonRequest()
        for p in inv.positionals {
            guard let colon = p.firstIndex(of: ":"), colon != p.startIndex, p.index(after: colon) != p.endIndex else {
                throw CLIError.usage("invalid permission \"\(p)\": want ENTITY:ACTION")
            }
            var perm = Lnrpc.MacaroonPermission()
            perm.entity = String(p[..<colon])
            perm.action = String(p[p.index(after: colon)...])
            req.permissions.append(perm)
        }
        req.rootKeyId = try f.uint64("root_key_id") ?? 0
        req.allowExternalPermissions = f.bool("allow_external_permissions")
        let timeout = try f.int64("timeout")
        if let t = timeout, t <= 0 { throw CLIError.usage("timeout must be greater than 0") }
        let ip = f.string("ip_address")
        if let ip, IPAddress(ip) == nil { throw CLIError.usage("unable to parse ip_address: \(ip)") }

        var resp = try inv.connection().unary(RPCPath.bakeMacaroon, req, as: Lnrpc.BakeMacaroonResponse.self)
        guard let binary = Hex.decode(resp.macaroon) else { throw CLIError.failure("unable to decode macaroon from the response") }
        var macaroon: Macaroon
        do { macaroon = try Macaroon(binary: binary) } catch { throw CLIError.failure("unable to decode macaroon from the response") }
        if let t = timeout {
            MacaroonSigner.addFirstPartyCaveat(MacaroonTime.now().adding(seconds: t).timeBeforeCondition, to: &macaroon)
        }
        if let ip { MacaroonSigner.addFirstPartyCaveat("ipaddr \(ip)", to: &macaroon) }
        let bytes = macaroon.serialized()
        if let path = f.string("save_to") {
            try writeSecret(bytes, to: GlobalOptions.expandTilde(path))
            Output.printLine("Macaroon saved to \(path)")
        } else {
            resp.macaroon = Hex.encode(bytes)
            Output.printMessage(resp)
        }
    }

    /// Writes `bytes` to `path` with mode 0600 (created so; an existing file is truncated and
    /// its mode tightened).
    static func writeSecret(_ bytes: [UInt8], to path: String) throws(CLIError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .failure("unable to save macaroon to \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw .failure("unable to save macaroon to \(path): \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    static let listPermissions = Command(
        "listpermissions", summary: "Lists all RPC method URIs and the macaroon permissions they require to be invoked.") { inv in
        try inv.expectAtMost(0)
        Output.printMessage(try inv.connection().unary(RPCPath.listPermissions, Lnrpc.ListPermissionsRequest(),
                                                        as: Lnrpc.ListPermissionsResponse.self))
    }
}
