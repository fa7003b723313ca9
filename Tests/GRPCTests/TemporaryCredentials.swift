import Glibc
import Transport

/// Fresh TLS credentials (LND-style, generated) in a new temporary directory; `remove()` deletes
/// them. For tests that start a real server on loopback.
struct TemporaryCredentials {
    let dir: String
    let creds: TLSCredentials

    init() throws {
        var t = Array("/tmp/paytrack-grpc-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&t)!)
        creds = try TLSCredentials.loadOrCreate(certPath: dir + "/tls.cert", keyPath: dir + "/tls.key")
    }

    func remove() { unlink(dir + "/tls.cert"); unlink(dir + "/tls.key"); rmdir(dir) }
}
