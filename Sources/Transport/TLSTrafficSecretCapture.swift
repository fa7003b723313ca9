import COpenSSL
import Glibc
import LightningPrimitives

/// Catches one server connection's TLS 1.3 application traffic secrets as OpenSSL derives them
/// (its key-log callback: CLIENT_TRAFFIC_SECRET_0 / SERVER_TRAFFIC_SECRET_0), and notices any
/// KeyUpdate OpenSSL sends or receives before the compact record layer takes over (its message
/// callback): after one, the captured secrets are stale and the connection stays on OpenSSL.
///
/// The secrets never leave memory: they are not logged, go only to `TLSRecordLayer`'s key
/// derivation, and are zeroed as soon as it has them (or when the connection ends).
/// Confined to the connection's loop thread (OpenSSL calls back from within `SSL_do_handshake`
/// and `SSL_read`/`SSL_write` on that thread).
final class TLSTrafficSecretCapture {
    private(set) var clientSecret: [UInt8] = []
    private(set) var serverSecret: [UInt8] = []
    private(set) var keyUpdateSeen = false

    /// The `SSL` ex_data slot holding the capture (index 0 is OpenSSL's app data: the ALPN offer).
    static let exDataIndex: Int32 = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)

    /// Installed on every server context; does nothing for connections without a capture.
    static let keylogCallback: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Void = { ssl, line in
        guard let ssl, let line, let p = SSL_get_ex_data(ssl, TLSTrafficSecretCapture.exDataIndex) else { return }
        Unmanaged<TLSTrafficSecretCapture>.fromOpaque(p).takeUnretainedValue().keylog(line)
    }

    /// Set on a capturing connection's `SSL`: handshake messages of type key_update (24), either way.
    static let messageCallback: @convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, Int, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = {
        _, _, contentType, buf, len, _, arg in
        guard contentType == 22, len >= 1, let buf, let arg, buf.load(as: UInt8.self) == 24 else { return }
        Unmanaged<TLSTrafficSecretCapture>.fromOpaque(arg).takeUnretainedValue().keyUpdateSeen = true
    }

    func attach(to ssl: OpaquePointer) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        SSL_set_ex_data(ssl, TLSTrafficSecretCapture.exDataIndex, me)
        SSL_set_msg_callback(ssl, TLSTrafficSecretCapture.messageCallback)
        _ = pt_SSL_set_msg_callback_arg(ssl, me)
    }

    func detach(from ssl: OpaquePointer) {
        SSL_set_ex_data(ssl, TLSTrafficSecretCapture.exDataIndex, nil)
        SSL_set_msg_callback(ssl, nil)
        _ = pt_SSL_set_msg_callback_arg(ssl, nil)
    }

    /// Zeroes what was captured.
    func wipe() {
        TLSRecordLayer.zero(&clientSecret)
        TLSRecordLayer.zero(&serverSecret)
        clientSecret = []; serverSecret = []
    }

    deinit { wipe() }

    /// "LABEL <client_random hex> <secret hex>" (NSS key log format).
    private func keylog(_ line: UnsafePointer<CChar>) {
        let n = strlen(line)
        let bytes = UnsafeRawBufferPointer(start: line, count: n)
        let isClient = TLSTrafficSecretCapture.hasPrefix(bytes, "CLIENT_TRAFFIC_SECRET_0 ")
        guard isClient || TLSTrafficSecretCapture.hasPrefix(bytes, "SERVER_TRAFFIC_SECRET_0 ") else { return }
        guard let space = bytes.lastIndex(of: UInt8(ascii: " ")) else { return }
        let hex = UnsafeRawBufferPointer(rebasing: bytes[(space + 1)...])
        guard hex.count % 2 == 0, hex.count <= 128 else { return }
        var secret = [UInt8](repeating: 0, count: hex.count / 2)
        for i in 0..<secret.count {
            guard let hi = Hex.nibble(hex[2 * i]), let lo = Hex.nibble(hex[2 * i + 1]) else { return }
            secret[i] = hi << 4 | lo
        }
        if isClient { clientSecret = secret } else { serverSecret = secret }
    }

    private static func hasPrefix(_ b: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard b.count >= n else { return false }
        return memcmp(b.baseAddress!, prefix.utf8Start, n) == 0
    }
}
