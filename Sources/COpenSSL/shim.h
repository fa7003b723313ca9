#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/ec.h>
#include <openssl/bio.h>
#include <openssl/sha.h>
#include <openssl/kdf.h>

/* Wrappers for OpenSSL macros (Swift cannot call function-like macros). */
static inline int pt_SSL_CTX_set_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long pt_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long pt_SSL_set_mode(SSL *ssl, long mode) { return SSL_set_mode(ssl, mode); }
static inline long pt_SSL_CTX_set_options(SSL_CTX *ctx, long o) { return (long)SSL_CTX_set_options(ctx, o); }
static inline long pt_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_session_cache_mode(ctx, m); }
static inline int pt_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *l) { return (int)SSL_CTX_set1_groups_list(ctx, l); }
static inline size_t pt_BIO_pending(BIO *b) { return (size_t)BIO_pending(b); }
static inline long pt_BIO_set_mem_eof_return(BIO *b, int v) { return BIO_set_mem_eof_return(b, v); }
static inline int pt_SSL_set_tlsext_host_name(SSL *s, const char *name) { return (int)SSL_set_tlsext_host_name(s, name); }
static inline EVP_PKEY *pt_EVP_EC_gen_p256(void) { return EVP_EC_gen("P-256"); }
static const long PT_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;
static const long PT_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const long PT_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const long PT_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
/* ALPN selection callback for servers: accept only "h2". */
static inline int pt_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                    const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char h2[] = { 2, 'h', '2' };
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, h2, sizeof h2, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}
/* ALPN offer of one listener, in wire format (length-prefixed names, preferred first). */
typedef struct pt_alpn_offer { const unsigned char *data; unsigned int len; } pt_alpn_offer;
/* Server ALPN selection: the connection's offer (SSL app data, a pt_alpn_offer) or, without one,
   "h2" only. The first protocol of the offer the client also lists wins; none -> fatal alert. */
static inline int pt_alpn_select_offer(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                       const unsigned char *in, unsigned int inlen, void *arg) {
    const pt_alpn_offer *offer = (const pt_alpn_offer *)SSL_get_ex_data(ssl, 0);
    if (offer == NULL) return pt_alpn_select_h2(ssl, out, outlen, in, inlen, arg);
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, offer->data, offer->len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}
static inline void pt_SSL_CTX_use_alpn_h2_server(SSL_CTX *ctx) { SSL_CTX_set_alpn_select_cb(ctx, pt_alpn_select_offer, NULL); }
static inline void pt_SSL_set_alpn_offer(SSL *ssl, const pt_alpn_offer *offer) { SSL_set_ex_data(ssl, 0, (void *)offer); }
/* Client: offer the given wire-format ALPN list. */
static inline int pt_SSL_set_alpn_protos(SSL *ssl, const unsigned char *p, unsigned int len) { return SSL_set_alpn_protos(ssl, p, len); }
static inline int pt_SSL_CTX_set_alpn_h2_client(SSL_CTX *ctx) {
    static const unsigned char h2[] = { 2, 'h', '2' };
    return SSL_CTX_set_alpn_protos(ctx, h2, sizeof h2);
}

/* The compact TLS 1.3 record layer (Transport/TLSRecordLayer.swift): what it needs from OpenSSL. */
static inline long pt_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
static inline long pt_SSL_set_msg_callback_arg(SSL *s, void *arg) { return SSL_set_msg_callback_arg(s, arg); }
static inline int pt_EVP_CIPHER_CTX_set_tag(EVP_CIPHER_CTX *c, int len, void *tag) { return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, len, tag); }
static inline int pt_EVP_CIPHER_CTX_get_tag(EVP_CIPHER_CTX *c, int len, void *tag) { return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, len, tag); }
static const int PT_EVP_PKEY_HKDF = EVP_PKEY_HKDF;
static const int PT_HKDF_MODE_EXPAND_ONLY = EVP_PKEY_HKDEF_MODE_EXPAND_ONLY;
static const int PT_TLS1_3_VERSION = TLS1_3_VERSION;
static const int PT_SSL_KEY_UPDATE_NONE = SSL_KEY_UPDATE_NONE;
/* glibc: return free heap pages to the kernel (Transport/HeapTrim.swift). */
#include <malloc.h>
