import COpenSSL

/// Errors from the TLS layer, with OpenSSL's error queue text where there is one.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ what: String) {
        var text = what
        var e = ERR_get_error()
        while e != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            text += ": " + String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            e = ERR_get_error()
        }
        description = text
    }
}

/// An OpenSSL `SSL_CTX` configured like LND's gRPC listener (§9): TLS 1.2 minimum, TLS 1.2 suites
/// limited to ECDHE-ECDSA (AES128-GCM, AES256-GCM, CHACHA20-POLY1305, AES128-CBC-SHA256), ALPN `h2`;
/// TLS 1.3 suites in the order Go's crypto/tls (LND's TLS) picks on AES-NI hardware, AES-128-GCM
/// first, with the server's order deciding (OpenSSL's default would pick AES-256-GCM, about a
/// third more work per byte for the same protection level TLS 1.3 requires).
/// Immutable after creation; shared by all loops (OpenSSL contexts are thread-safe for that use).
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let isServer: Bool

    /// TLS 1.3 suites, preferred first.
    public static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"

    /// LND's TLS 1.2 suite list, in OpenSSL names.
    public static let lndTLS12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256"

    /// A server context from PEM files (certificate chain and private key).
    public init(serverCertificatePath: String, privateKeyPath: String) throws {
        guard let c = SSL_CTX_new(TLS_server_method()) else { throw TLSError("SSL_CTX_new") }
        ctx = c; isServer = true
        try configureCommon()
        guard SSL_CTX_use_certificate_chain_file(ctx, serverCertificatePath) == 1 else {
            throw TLSError("cannot load certificate \(serverCertificatePath)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError("cannot load private key \(privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw TLSError("key does not match certificate") }
        pt_SSL_CTX_use_alpn_h2_server(ctx)
        // Hands TLS 1.3 traffic secrets to connections that capture them for the compact record
        // layer (`TLSTrafficSecretCapture`); a no-op for every other connection. Never logged.
        SSL_CTX_set_keylog_callback(ctx, TLSTrafficSecretCapture.keylogCallback)
        _ = pt_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_SERVER))
    }

    /// A client context that trusts exactly the certificate(s) in `trustedCertificatePath`
    /// (pinning, as lncli does with tls.cert). With `nil` it verifies nothing (tests only).
    public init(clientTrusting trustedCertificatePath: String?) throws {
        guard let c = SSL_CTX_new(TLS_client_method()) else { throw TLSError("SSL_CTX_new") }
        ctx = c; isServer = false
        try configureCommon()
        if let path = trustedCertificatePath {
            guard SSL_CTX_load_verify_locations(ctx, path, nil) == 1 else {
                throw TLSError("cannot load trusted certificate \(path)")
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        guard pt_SSL_CTX_set_alpn_h2_client(ctx) == 0 else { throw TLSError("ALPN") }
    }

    private func configureCommon() throws {
        guard pt_SSL_CTX_set_min_tls12(ctx) == 1 else { throw TLSError("min protocol") }
        _ = pt_SSL_CTX_set_options(ctx, PT_SSL_OP_NO_RENEGOTIATION | PT_SSL_OP_NO_COMPRESSION | PT_SSL_OP_CIPHER_SERVER_PREFERENCE)
        guard SSL_CTX_set_cipher_list(ctx, TLSContext.lndTLS12Ciphers) == 1 else { throw TLSError("cipher list") }
        guard SSL_CTX_set_ciphersuites(ctx, TLSContext.tls13Suites) == 1 else { throw TLSError("TLS 1.3 suites") }
        _ = pt_SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384")
    }

    deinit { SSL_CTX_free(ctx) }
}
