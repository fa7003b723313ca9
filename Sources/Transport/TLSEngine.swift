import COpenSSL

/// One TLS connection over memory BIOs: ciphertext bytes in, ciphertext bytes out. It never
/// touches a socket (the connection moves bytes between the socket and these BIOs).
/// Confined to one thread (the connection's loop).
///
/// A cleartext engine (`init(cleartextProtocol:)`, for plain-HTTP listeners such as the Komodo
/// API's) has no `SSL`: the same BIOs only queue the bytes, the handshake is done at once and
/// `alpn` is the given protocol.
final class TLSEngine {
    enum HandshakeResult { case done, wantMore, failed(String) }

    private let ssl: OpaquePointer?
    private let cleartextProtocol: String?
    private let rbio: OpaquePointer
    private let wbio: OpaquePointer
    private(set) var handshakeComplete = false

    /// `alpnOffer` (servers): the protocols this connection's listener offers; without one the
    /// context's default applies (`h2` only). The offer must outlive the engine.
    /// `alpnProtocols` (clients): overrides the context's ALPN list (e.g. `["http/1.1"]`).
    /// `releaseIdleBuffers`: OpenSSL frees its record buffers (about 34 KB) while nothing is in
    /// flight (SSL_MODE_RELEASE_BUFFERS): for listeners with many mostly idle connections
    /// (WebSockets), not for the gRPC path, which would re-allocate them per burst.
    init(context: TLSContext, serverName: String? = nil, alpnOffer: ALPNOffer? = nil, alpnProtocols: [String]? = nil,
         releaseIdleBuffers: Bool = false) {
        cleartextProtocol = nil
        let ssl = SSL_new(context.ctx)!
        self.ssl = ssl
        rbio = BIO_new(BIO_s_mem())!
        wbio = BIO_new(BIO_s_mem())!
        _ = pt_BIO_set_mem_eof_return(rbio, -1)
        _ = pt_BIO_set_mem_eof_return(wbio, -1)
        SSL_set_bio(ssl, rbio, wbio)   // ssl owns both BIOs now
        if releaseIdleBuffers { _ = pt_SSL_set_mode(ssl, PT_SSL_MODE_RELEASE_BUFFERS) }
        if context.isServer {
            SSL_set_accept_state(ssl)
            if let offer = alpnOffer { pt_SSL_set_alpn_offer(ssl, offer.wire) }
        } else {
            SSL_set_connect_state(ssl)
            if let name = serverName { _ = pt_SSL_set_tlsext_host_name(ssl, name) }
            if let protos = alpnProtocols {
                var wire: [UInt8] = []
                for p in protos { wire.append(UInt8(p.utf8.count)); wire.append(contentsOf: p.utf8) }
                _ = pt_SSL_set_alpn_protos(ssl, wire, UInt32(wire.count))
            }
        }
    }

    /// No TLS: bytes pass through unchanged; the connection speaks `cleartextProtocol`.
    init(cleartextProtocol: String) {
        self.cleartextProtocol = cleartextProtocol
        ssl = nil
        rbio = BIO_new(BIO_s_mem())!
        wbio = BIO_new(BIO_s_mem())!
        _ = pt_BIO_set_mem_eof_return(rbio, -1)
        _ = pt_BIO_set_mem_eof_return(wbio, -1)
        handshakeComplete = true
    }

    deinit {
        if let ssl { SSL_free(ssl) } else { BIO_free(rbio); BIO_free(wbio) }
    }

    /// Feeds ciphertext received from the peer.
    func feed(_ p: UnsafeRawPointer, _ n: Int) {
        _ = BIO_write(rbio, p, Int32(n))
    }

    /// Advances the handshake.
    func handshake() -> HandshakeResult {
        guard let ssl else { return .done }
        let r = SSL_do_handshake(ssl)
        if r == 1 { handshakeComplete = true; return .done }
        let e = SSL_get_error(ssl, r)
        if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { return .wantMore }
        ERR_clear_error()
        return .failed("TLS handshake failed (\(e))")
    }

    /// The ALPN protocol selected ("h2"), if any.
    var alpn: String? {
        guard let ssl else { return cleartextProtocol }
        var p: UnsafePointer<UInt8>?
        var len: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &p, &len)
        guard let p, len > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(len)), as: UTF8.self)
    }

    enum ReadResult { case bytes(Int), wantMore, closed, failed }

    /// Decrypts up to `cap` plaintext bytes into `buf`.
    func readPlaintext(into buf: UnsafeMutableRawPointer, cap: Int) -> ReadResult {
        guard let ssl else {
            let r = BIO_read(rbio, buf, Int32(cap))
            return r > 0 ? .bytes(Int(r)) : .wantMore
        }
        let r = SSL_read(ssl, buf, Int32(cap))
        if r > 0 { return .bytes(Int(r)) }
        let e = SSL_get_error(ssl, r)
        if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { return .wantMore }
        if e == SSL_ERROR_ZERO_RETURN { return .closed }
        ERR_clear_error()
        return .failed
    }

    /// Encrypts plaintext (whole; memory BIOs never short-write). Returns false on error.
    func writePlaintext(_ p: UnsafeRawPointer, _ n: Int) -> Bool {
        if n == 0 { return true }
        guard let ssl else { return BIO_write(wbio, p, Int32(n)) == Int32(n) }
        let r = SSL_write(ssl, p, Int32(n))
        if r == n { return true }
        ERR_clear_error()
        return false
    }

    /// Bytes of ciphertext waiting to go to the peer.
    var pendingCiphertext: Int { pt_BIO_pending(wbio) }

    /// Moves up to `cap` bytes of pending ciphertext into `buf`.
    func takeCiphertext(into buf: UnsafeMutableRawPointer, cap: Int) -> Int {
        let r = BIO_read(wbio, buf, Int32(cap))
        return r > 0 ? Int(r) : 0
    }

    /// Queues a close_notify alert.
    func shutdown() {
        guard let ssl else { return }
        _ = SSL_shutdown(ssl); ERR_clear_error()
    }
}
