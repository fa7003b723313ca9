import Crypto
import Foundation
import Macaroons

/// The `macaroon` metadata value sent with every call, built as lncli builds it: the macaroon
/// file's binary, with a `time-before` caveat (now + `--macaroontimeout`) and, with
/// `--macaroonip`, an `ipaddr` caveat appended, hex-encoded.
///
/// Secret hygiene: the hex value only ever goes into request metadata. `description` is
/// redacted, and errors name the file, never its contents.
struct MacaroonCredential: CustomStringConvertible, Sendable {
    let hex: String

    var description: String { "MacaroonCredential(<redacted>)" }

    init(path: String, timeoutSeconds: Int64, ip: String?) throws(CLIError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failure("unable to read macaroon path (check the network setting!): open \(path): no such file or directory")
        }
        var macaroon: Macaroon
        do { macaroon = try Macaroon(binary: Array(data)) } catch {
            throw .failure("unable to decode macaroon \(path): \(error)")
        }
        if timeoutSeconds > 0 {
            MacaroonSigner.addFirstPartyCaveat(MacaroonTime.now().adding(seconds: timeoutSeconds).timeBeforeCondition,
                                               to: &macaroon)
        }
        if let ip {
            guard IPAddress(ip) != nil else { throw .usage("unable to add IP lock: invalid IP address \"\(ip)\"") }
            MacaroonSigner.addFirstPartyCaveat("ipaddr \(ip)", to: &macaroon)
        }
        hex = Hex.encode(macaroon.serialized())
    }
}
