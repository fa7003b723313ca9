import COpenSSL

/// One TLS connection over memory BIOs: ciphertext bytes in, ciphertext bytes out. It never
/// touches a socket (the connection moves bytes between the socket and these BIOs).
/// Confined to one thread (the connection's loop).
///
/// A cleartext engine (`init(cleartextProtocol:)`, for plain-HTTP listeners such as the Komodo
/// API's) has no `SSL`: the same BIOs only queue the bytes, the handshake is done at once and
/// `alpn` is the given protocol.
///
/// Compact record layer (`compactRecordLayer`, HTTP listeners): once a TLS 1.3 connection is
/// established and quiescent (`switchToRecordLayer`), the engine hands its record layer to a
/// `TLSRecordLayer` (the traffic secrets OpenSSL derived, the exact record sequence numbers) and
/// frees the `SSL` object with its buffers: ~40 KB less per idle connection. OpenSSL has done the
/// handshake and still performs every cryptographic operation; see docs/ARCHITECTURE.md.
final class TLSEngine {
    enum HandshakeResult { case done, wantMore, failed(String) }

    private(set) var ssl: OpaquePointer?
    private let cleartextProtocol: String?
    private var rbio: OpaquePointer
    private var wbio: OpaquePointer
    private(set) var handshakeComplete = false
    /// Set after `switchToRecordLayer`: the `SSL` and its BIOs are gone.
    var records: TLSRecordLayer?   // internal: tests drive KeyUpdate through it
    /// While a switch is still possible: the secrets OpenSSL derived, and record counts both ways
    /// since the application traffic keys took effect (counted once the handshake is done).
    private var capture: TLSTrafficSecretCapture?
    private var counting = false
    private var recordsIn = TLSRecordCounter()
    private var recordsOut = TLSRecordCounter()

    /// `alpnOffer` (servers): the protocols this connection's listener offers; without one the
    /// context's default applies (`h2` only). The offer must outlive the engine.
    /// `alpnProtocols` (clients): overrides the context's ALPN list (e.g. `["http/1.1"]`).
    /// `releaseIdleBuffers`: OpenSSL frees its record buffers (about 34 KB) while nothing is in
    /// flight (SSL_MODE_RELEASE_BUFFERS): for listeners with many mostly idle connections
    /// (WebSockets), not for the gRPC path, which would re-allocate them per burst.
    /// `compactRecordLayer` (servers): capture what `switchToRecordLayer` needs.
    init(context: TLSContext, serverName: String? = nil, alpnOffer: ALPNOffer? = nil, alpnProtocols: [String]? = nil,
         releaseIdleBuffers: Bool = false, compactRecordLayer: Bool = false) {
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
            if compactRecordLayer {
                let c = TLSTrafficSecretCapture()
                c.attach(to: ssl)
                capture = c
            }
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
        if let ssl { forgoRecordLayer(); SSL_free(ssl) } else if records == nil { BIO_free(rbio); BIO_free(wbio) }
        records?.wipe()
    }

    /// Feeds ciphertext received from the peer.
    func feed(_ p: UnsafeRawPointer, _ n: Int) {
        if records != nil { records!.feed(p, n); return }
        _ = BIO_write(rbio, p, Int32(n))
        if counting { recordsIn.consume(UnsafeRawBufferPointer(start: p, count: n)) }
    }

    /// Advances the handshake.
    func handshake() -> HandshakeResult {
        guard let ssl else { return .done }
        let r = SSL_do_handshake(ssl)
        if r == 1 {
            handshakeComplete = true
            if capture != nil {
                if SSL_version(ssl) == PT_TLS1_3_VERSION {
                    // From here every record either way is under the application traffic keys:
                    // what OpenSSL has not read yet (it reads no further than the client's
                    // Finished) and what it wrote since (session tickets) count from 0.
                    counting = true
                    var p: UnsafeMutablePointer<CChar>?
                    let n = pt_BIO_get_mem_data(rbio, &p)
                    if n > 0, let p { recordsIn.consume(UnsafeRawBufferPointer(start: p, count: n)) }
                } else {
                    forgoRecordLayer()
                }
            }
            return .done
        }
        let e = SSL_get_error(ssl, r)
        if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { return .wantMore }
        ERR_clear_error()
        return .failed("TLS handshake failed (\(e))")
    }

    /// The ALPN protocol selected ("h2"), if any (only before a switch to the record layer).
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
        if records != nil { return records!.readPlaintext(into: buf, cap: cap, crypto: TLSRecordCrypto.forCurrentThread) }
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
        if records != nil { return records!.seal(p, n, crypto: TLSRecordCrypto.forCurrentThread) }
        guard let ssl else { return BIO_write(wbio, p, Int32(n)) == Int32(n) }
        let r = SSL_write(ssl, p, Int32(n))
        if r == n { return true }
        ERR_clear_error()
        return false
    }

    /// On the compact record layer, seals `n` bytes (at most one record's worth) straight into
    /// `dst` (`cap` bytes) and returns the record's length; nil when the bytes must go through
    /// `writePlaintext` instead (on OpenSSL, ciphertext already waiting, too little room).
    func writePlaintext(_ p: UnsafeRawPointer, _ n: Int, into dst: UnsafeMutableRawPointer, cap: Int) -> Int? {
        guard records != nil, n > 0 else { return nil }
        return records!.seal(p, n, into: dst.assumingMemoryBound(to: UInt8.self), cap: cap, crypto: TLSRecordCrypto.forCurrentThread)
    }

    /// Bytes of ciphertext waiting to go to the peer.
    var pendingCiphertext: Int { records?.pendingCiphertext ?? pt_BIO_pending(wbio) }

    /// Moves up to `cap` bytes of pending ciphertext into `buf`.
    func takeCiphertext(into buf: UnsafeMutableRawPointer, cap: Int) -> Int {
        if records != nil { return records!.takeCiphertext(into: buf, cap: cap) }
        let r = BIO_read(wbio, buf, Int32(cap))
        if r > 0 && counting { recordsOut.consume(UnsafeRawBufferPointer(start: buf, count: Int(r))) }
        return r > 0 ? Int(r) : 0
    }

    /// Queues a close_notify alert.
    func shutdown() {
        if records != nil { records!.sendCloseNotify(crypto: TLSRecordCrypto.forCurrentThread); return }
        guard let ssl else { return }
        _ = SSL_shutdown(ssl); ERR_clear_error()
    }

    // MARK: The compact record layer

    /// About what a switch frees (the `SSL` object, its handshake state and buffers, the BIOs).
    static let releasedBySwitch = 30_000

    /// True while `switchToRecordLayer` may still succeed later.
    var awaitsRecordLayer: Bool { capture != nil }

    /// This connection stays on OpenSSL (not TLS 1.3, or a KeyUpdate already happened).
    func forgoRecordLayer() {
        guard let c = capture else { return }
        if let ssl { c.detach(from: ssl) }
        c.wipe()
        capture = nil
        counting = false
    }

    /// Hands the record layer over to a `TLSRecordLayer` and frees the `SSL` object, if the
    /// connection is TLS 1.3 and quiescent: everything received has been decrypted and read,
    /// everything OpenSSL wrote has been taken, no close_notify either way, no KeyUpdate pending
    /// or done. Returns true once switched; false means "not now" (`awaitsRecordLayer` says
    /// whether a later call may succeed).
    @discardableResult
    func switchToRecordLayer() -> Bool {
        guard let ssl, let c = capture, counting else { return false }
        if c.keyUpdateSeen || SSL_get_shutdown(ssl) != 0 { forgoRecordLayer(); return false }
        guard pt_BIO_pending(rbio) == 0, recordsIn.atBoundary, pt_BIO_pending(wbio) == 0, recordsOut.atBoundary,
              SSL_pending(ssl) == 0, SSL_has_pending(ssl) == 0, SSL_get_key_update_type(ssl) == PT_SSL_KEY_UPDATE_NONE,
              !c.clientSecret.isEmpty, !c.serverSecret.isEmpty
        else { return false }
        guard let cipher = SSL_get_current_cipher(ssl),
              let layer = TLSRecordLayer(cipherSuite: SSL_CIPHER_get_protocol_id(cipher), readSecret: c.clientSecret,
                                         writeSecret: c.serverSecret, readSequence: recordsIn.records,
                                         writeSequence: recordsOut.records)
        else { forgoRecordLayer(); return false }
        forgoRecordLayer()
        records = layer
        SSL_free(ssl)   // and both BIOs
        self.ssl = nil
        return true
    }
}
