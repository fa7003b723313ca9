import Glibc
@testable import Transport

/// A temporary directory holding a generated `tls.cert` / `tls.key` pair (LND's layout), for the
/// tests that handshake engines over memory BIOs. `remove()` deletes it.
struct TemporaryCertificates {
    let dir: String
    var cert: String { dir + "/tls.cert" }
    var key: String { dir + "/tls.key" }

    init(prefix: String) {
        var t = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&t)!)
        _ = try? TLSCredentials.loadOrCreate(certPath: dir + "/tls.cert", keyPath: dir + "/tls.key")
    }

    func remove() {
        for f in ["tls.cert", "tls.key"] { unlink(dir + "/" + f) }
        rmdir(dir)
    }
}
