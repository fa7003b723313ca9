/*
 * grpcfan.c: a lean load client for the TrackPaymentV2 fan-out benchmarks (Benchmarks/pg/fanout;
 * StreamsBench `replicas --client c`). C, libnghttp2 + OpenSSL + epoll, as h2load and
 * Benchmarks/rest/wsbench_h2.c are: the client shares the 2 cores with the servers it measures, so
 * what it spends per message is time the servers lose in the very window measured.
 *
 *   grpcfan HOST PORT[,PORT...] HASH_HEX STREAMS CONNS OUT [THREADS=2] [TIMEOUT_S=600]
 *
 * For every PORT (a replica), CONNS TLS + HTTP/2 connections (ALPN h2, the server's certificate not
 * verified: loopback benchmark) carry STREAMS TrackPaymentV2 calls (routerrpc.Router, gRPC over
 * HTTP/2: POST, content-type application/grpc, te: trailers; request = TrackPaymentRequest with
 * payment_hash = HASH, no macaroon: the daemons run with --no-macaroons) spread evenly, served by
 * THREADS threads (thread T pinned to core T mod N: ../rest/loadpin.h) waiting on one epoll
 * instance, where each connection is registered EPOLLONESHOT and taken one at a time: whichever
 * thread is free handles the next connection with bytes to read, and no two threads handle one
 * connection at once. (With a fixed share of the connections per thread, the thread whose
 * connections were written last worked alone at the end of a burst while the other core idled for
 * up to 8 ms: Benchmarks/pg/RESULTS.md, session 18.) Per stream it counts
 * the gRPC messages (lnrpc.Payment), and for the first one whose status (field 10) is SUCCEEDED (2)
 * it keeps the receipt time (CLOCK_REALTIME per SSL_read, as wsbench_h2.c) minus the largest
 * resolve_time_ns (HTLCAttempt field 4) of its SUCCEEDED HTLCs (Payment field 14,
 * HTLCAttempt.status field 1 = SUCCEEDED 1): the settle → receipt latency. The call's grpc-status
 * comes from its trailers.
 *
 * stdout (one line each, flushed): `attached N early E` once every stream has its first message
 * (E = streams already ended by then: the payment finished too soon), or `failed_attach ...`; then,
 * once every call has ended, `ended N ok K succeeded S failed F`. OUT gets one line per stream:
 * port index, stream index, messages, grpc-status (-1: none), latency ns (-1: no SUCCEEDED message).
 * Main sleeps on semaphores between phases (no polling in the measured window). Exit 0 unless the
 * command line or a setup step was wrong.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../rest/h2io.h"
#include "../rest/loadpin.h"

#define STREAM_WINDOW (1 << 20)         /* SETTINGS_INITIAL_WINDOW_SIZE we send */
#define CONN_WINDOW (1 << 30)           /* connection-level receive window */
#define MAX_MESSAGE (4 << 20)           /* gRPC's default receive limit */

enum { C_CONNECTING, C_HANDSHAKE, C_SETTINGS, C_READY, C_DEAD };

struct conn;

typedef struct {
    struct conn *conn;
    int32_t id;
    int32_t messages;
    int64_t latency;              /* receipt of the SUCCEEDED message − its resolve_time_ns; -1: none */
    int grpc_status;              /* from the trailers; -1: none */
    uint8_t hdr[5];               /* the gRPC message prefix being read */
    uint8_t hdr_got;
    uint8_t ended : 1, counted : 1;
    uint32_t need;                /* bytes of the current message still to come (after its prefix) */
    uint8_t *partial;             /* a message split over chunks, assembled here */
    uint32_t partial_len;
} stream_t;

typedef struct conn {
    h2io_t io;                    /* socket, TLS, nghttp2, output buffer (h2io.h) */
    int state, idx, port;
    int first, count;             /* its streams: g_streams[first, first + count) */
    atomic_int nattached, nended; /* of its streams: written by the one thread handling it (relaxed) */
    int64_t t;                    /* receipt time of the bytes being fed to nghttp2 */
    uint8_t *memo;                /* the last Payment parsed on this connection, and what it gave */
    uint32_t memo_len;
    int memo_rc;
    uint64_t memo_status;
    int64_t memo_resolve;
} conn_t;

static const char *g_host;
static int g_ports[16], g_nports, g_streams_per_port, g_conns_per_port, g_threads = 2, g_timeout = 600;
static int g_n, g_nconns;
static stream_t *g_streams;
static conn_t *g_conns;
static SSL_CTX *g_ctx;
static int g_ep;                  /* the epoll instance every thread waits on */
static nghttp2_session_callbacks *g_cbs;
static nghttp2_option *g_opt;
static nghttp2_nv g_nva[6];
static uint8_t g_request[5 + 2 + 32];
/* Connections all of whose streams have their first message / have ended: counted per connection,
 * so the two threads do not bounce one counter's cache line per stream. */
static atomic_int g_conns_attached, g_conns_ended, g_logs, g_stop;
static sem_t g_all_attached, g_all_ended;

#define LOG(...) do { if (atomic_fetch_add(&g_logs, 1) < 30) fprintf(stderr, __VA_ARGS__); } while (0)

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

/* ---------- lnrpc.Payment, just what the latency needs */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0; int shift = 0;
    while (*p < end && shift < 64) {
        uint8_t b = *(*p)++; x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return 0; }
        shift += 7;
    }
    return -1;
}

/* Skips a field of wire type wt; -1 on malformed input. */
static int skip(const uint8_t **p, const uint8_t *end, int wt) {
    uint64_t v;
    switch (wt) {
    case 0: return varint(p, end, &v);
    case 1: if (end - *p < 8) return -1; *p += 8; return 0;
    case 2: if (varint(p, end, &v) || (uint64_t)(end - *p) < v) return -1; *p += v; return 0;
    case 5: if (end - *p < 4) return -1; *p += 4; return 0;
    default: return -1;
    }
}

/* Payment.status (field 10) and the largest resolve_time_ns of its SUCCEEDED HTLCs (field 14). */
static int payment(const uint8_t *p, const uint8_t *end, uint64_t *status, int64_t *resolve) {
    *status = 0; *resolve = 0;
    while (p < end) {
        uint64_t key; if (varint(&p, end, &key)) return -1;
        int field = (int)(key >> 3), wt = (int)(key & 7);
        if (field == 10 && wt == 0) { if (varint(&p, end, status)) return -1; continue; }
        if (field == 14 && wt == 2) {
            uint64_t len; if (varint(&p, end, &len) || (uint64_t)(end - p) < len) return -1;
            const uint8_t *h = p, *he = p + len; p = he;
            uint64_t hs = 0, rt = 0;
            while (h < he) {
                uint64_t k; if (varint(&h, he, &k)) return -1;
                if ((k >> 3) == 1 && (k & 7) == 0) { if (varint(&h, he, &hs)) return -1; }
                else if ((k >> 3) == 4 && (k & 7) == 0) { if (varint(&h, he, &rt)) return -1; }
                else if (skip(&h, he, (int)(k & 7))) return -1;
            }
            if (hs == 1 && (int64_t)rt > *resolve) *resolve = (int64_t)rt;
            continue;
        }
        if (skip(&p, end, wt)) return -1;
    }
    return 0;
}

/* ---------- per stream */

/* The stream has its first message, or ended without one (it no longer holds up the attach phase). */
static void count_attached(stream_t *s) {
    if (s->counted) return;
    s->counted = 1;
    conn_t *c = s->conn;
    int k = atomic_load_explicit(&c->nattached, memory_order_relaxed) + 1;
    atomic_store_explicit(&c->nattached, k, memory_order_relaxed);
    if (k == c->count && atomic_fetch_add(&g_conns_attached, 1) + 1 == g_nconns) sem_post(&g_all_attached);
}

static void end_stream(stream_t *s) {
    if (s->ended) return;
    s->ended = 1;
    free(s->partial); s->partial = NULL;
    count_attached(s);
    conn_t *c = s->conn;
    int k = atomic_load_explicit(&c->nended, memory_order_relaxed) + 1;
    atomic_store_explicit(&c->nended, k, memory_order_relaxed);
    if (k == c->count && atomic_fetch_add(&g_conns_ended, 1) + 1 == g_nconns) sem_post(&g_all_ended);
}

/* Payment status and resolve time of message m on connection c: a message byte for byte equal to
 * the one before on the connection (an update fans out as the same bytes to all its streams) reuses
 * that one's result instead of walking it again; the client's CPU is the servers' loss on these cores. */
static int payment_memo(conn_t *c, const uint8_t *m, size_t n, uint64_t *status, int64_t *resolve) {
    if (c->memo && n == c->memo_len && memcmp(m, c->memo, n) == 0) {
        *status = c->memo_status; *resolve = c->memo_resolve; return c->memo_rc;
    }
    int rc = payment(m, m + n, status, resolve);
    uint8_t *b = n <= 65536 ? realloc(c->memo, n ? n : 1) : NULL;
    if (!b) { free(c->memo); c->memo = NULL; c->memo_len = 0; return rc; }
    memcpy(b, m, n);
    c->memo = b; c->memo_len = (uint32_t)n; c->memo_rc = rc; c->memo_status = *status; c->memo_resolve = *resolve;
    return rc;
}

static void message(stream_t *s, const uint8_t *m, size_t n, int64_t t) {
    s->messages++;
    count_attached(s);
    if (s->latency >= 0) return;
    uint64_t status; int64_t resolve;
    if (payment_memo(s->conn, m, n, &status, &resolve)) { LOG("stream %d: malformed Payment (%zu bytes)\n", (int)(s - g_streams), n); return; }
    if (status == 2 && resolve > 0) s->latency = t - resolve;
}

/* A DATA chunk: gRPC messages parsed in place; only a message split over chunks is copied. */
static void feed(stream_t *s, const uint8_t *d, size_t n, int64_t t) {
    while (n > 0) {
        if (s->hdr_got < 5) {
            size_t k = 5 - s->hdr_got; if (k > n) k = n;
            memcpy(s->hdr + s->hdr_got, d, k); s->hdr_got += k; d += k; n -= k;
            if (s->hdr_got < 5) return;
            uint32_t len = (uint32_t)s->hdr[1] << 24 | (uint32_t)s->hdr[2] << 16 | (uint32_t)s->hdr[3] << 8 | s->hdr[4];
            if (s->hdr[0] != 0 || len > MAX_MESSAGE) {
                LOG("stream %d: compressed or oversized message (%u bytes)\n", (int)(s - g_streams), len);
                nghttp2_submit_rst_stream(s->conn->io.sess, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
                end_stream(s);   /* counted as failed (no grpc-status); later DATA is ignored */
                return;
            }
            s->need = len; s->partial_len = 0;
            if (len == 0) { message(s, d, 0, t); s->hdr_got = 0; continue; }
        }
        if (s->partial_len == 0 && n >= s->need) {   /* the whole message in this chunk */
            message(s, d, s->need, t); d += s->need; n -= s->need; s->hdr_got = 0; continue;
        }
        if (!s->partial) s->partial = malloc(s->need + s->partial_len);
        size_t k = s->need; if (k > n) k = n;
        memcpy(s->partial + s->partial_len, d, k); s->partial_len += k; s->need -= k; d += k; n -= k;
        if (s->need == 0) {
            message(s, s->partial, s->partial_len, t);
            free(s->partial); s->partial = NULL; s->partial_len = 0; s->hdr_got = 0;
        }
    }
}

/* ---------- nghttp2 callbacks */

/* The stream of id on connection c. Client stream ids are 1, 3, 5, ... in the order submit_all
 * submitted c's streams, so the k-th is found by arithmetic, without a lookup in nghttp2's stream
 * map; nghttp2's own lookup when a submission failed and shifted the ids. */
static stream_t *stream_of(conn_t *c, nghttp2_session *sess, int32_t id) {
    int32_t k = (id - 1) / 2;
    if (id > 0 && (id & 1) && k < c->count && g_streams[c->first + k].id == id) return &g_streams[c->first + k];
    return nghttp2_session_get_stream_user_data(sess, id);
}

static ssize_t read_cb(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                       nghttp2_data_source *src, void *ud) {
    (void)sess; (void)id; (void)src; (void)ud;
    size_t n = sizeof g_request; if (n > length) n = length;   /* 39 bytes: always one frame */
    memcpy(buf, g_request, n);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *d, size_t n, void *ud) {
    (void)flags;
    stream_t *s = stream_of(ud, sess, id);
    if (s && !s->ended) feed(s, d, n, ((conn_t *)ud)->t);
    return 0;
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud) {
    (void)flags;
    if (f->hd.type != NGHTTP2_HEADERS || namelen != 11 || memcmp(name, "grpc-status", 11)) return 0;
    stream_t *s = stream_of(ud, sess, f->hd.stream_id);
    if (!s) return 0;
    int st = 0; for (size_t i = 0; i < valuelen && i < 3; i++) st = st * 10 + (value[i] - '0');
    s->grpc_status = st;
    return 0;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *f, void *ud) {
    conn_t *c = ud;
    if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK) && c->state == C_SETTINGS) {
        uint32_t mcs = nghttp2_session_get_remote_settings(sess, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        if ((uint64_t)mcs < (uint64_t)c->count) {
            fprintf(stderr, "grpcfan: the server allows %u concurrent streams per connection, %d needed: raise CONNS\n", mcs, c->count);
            exit(1);
        }
        c->state = C_READY;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t err, void *ud) {
    stream_t *s = stream_of(ud, sess, id);
    if (!s) return 0;
    if (err) LOG("stream %d: closed with HTTP/2 error %u (%s)\n", (int)(s - g_streams), err, nghttp2_http2_strerror(err));
    end_stream(s);
    return 0;
}

/* ---------- per connection */


static void conn_dead(conn_t *c, const char *why) {
    if (c->state == C_DEAD) return;
    int lost = 0;
    for (int i = c->first; i < c->first + c->count; i++) if (!g_streams[i].ended) { lost++; end_stream(&g_streams[i]); }
    if (lost && !atomic_load(&g_stop)) LOG("connection %d: %s; %d calls lost\n", c->idx, why, lost);
    c->state = C_DEAD;
    h2io_release(&c->io);
    free(c->memo); c->memo = NULL; c->memo_len = 0;
}


static void submit_all(conn_t *c) {
    for (int i = c->first; i < c->first + c->count; i++) {
        stream_t *s = &g_streams[i];
        nghttp2_data_provider prd = { .source.ptr = s, .read_callback = read_cb };
        int32_t id = nghttp2_submit_request(c->io.sess, NULL, g_nva, sizeof g_nva / sizeof g_nva[0], &prd, s);
        if (id < 0) { LOG("stream %d: nghttp2_submit_request: %s\n", i, nghttp2_strerror(id)); end_stream(s); continue; }
        s->id = id;
    }
}

static void start_connect(conn_t *c) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(c->port) };
    inet_pton(AF_INET, g_host, &a.sin_addr);
    c->state = C_CONNECTING;
    c->io.ep = g_ep; c->io.oneshot = 1;
    c->io.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->io.fd < 0) { conn_dead(c, "socket failed"); return; }
    int one = 1; setsockopt(c->io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->io.fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) { conn_dead(c, "connect failed"); return; }
    c->io.events = EPOLLIN | EPOLLOUT;
    struct epoll_event ev = { .events = c->io.events | EPOLLONESHOT, .data.ptr = c };
    epoll_ctl(c->io.ep, EPOLL_CTL_ADD, c->io.fd, &ev);
}

static void drive(conn_t *c, uint32_t events) {
    if (c->state == C_DEAD) return;
    if (c->state == C_CONNECTING) {
        int err = 0; socklen_t l = sizeof err; getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { conn_dead(c, "connect failed"); return; }
        c->io.ssl = SSL_new(g_ctx); SSL_set_fd(c->io.ssl, c->io.fd); SSL_set_connect_state(c->io.ssl);
        c->state = C_HANDSHAKE;
    }
    if (c->state == C_HANDSHAKE) {
        int r = SSL_do_handshake(c->io.ssl);
        if (r != 1) {
            int e = SSL_get_error(c->io.ssl, r);
            if (e == SSL_ERROR_WANT_READ) { h2io_set_events(&c->io, c, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { h2io_set_events(&c->io, c, EPOLLIN | EPOLLOUT); return; }
            ERR_print_errors_fp(stderr); conn_dead(c, "TLS handshake failed"); return;
        }
        const unsigned char *proto = NULL; unsigned plen = 0;
        SSL_get0_alpn_selected(c->io.ssl, &proto, &plen);
        if (plen != 2 || memcmp(proto, "h2", 2) != 0) { fprintf(stderr, "grpcfan: the server did not select ALPN h2\n"); exit(1); }
        nghttp2_session_client_new2(&c->io.sess, g_cbs, c, g_opt);
        nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 }, { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW } };
        nghttp2_submit_settings(c->io.sess, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
        nghttp2_session_set_local_window_size(c->io.sess, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
        c->state = C_SETTINGS;
        events |= EPOLLIN;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        unsigned char rb[16384 + 256];
        for (;;) {
            int r = SSL_read(c->io.ssl, rb, sizeof rb);
            if (r <= 0) {
                int e = SSL_get_error(c->io.ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
                conn_dead(c, "connection closed by the server"); return;
            }
            c->t = now_ns();   /* receipt time of these bytes (per read, not per epoll batch) */
            int before = c->state;
            ssize_t n = nghttp2_session_mem_recv(c->io.sess, rb, (size_t)r);
            if (n < 0) { LOG("connection %d: nghttp2_session_mem_recv: %s\n", c->idx, nghttp2_strerror((int)n)); conn_dead(c, "HTTP/2 error"); return; }
            if (before == C_SETTINGS && c->state == C_READY) submit_all(c);
        }
    }
    const char *why;
    if (h2io_flush(&c->io, c, &why) < 0) { LOG("connection %d: %s\n", c->idx, why); conn_dead(c, "write error"); return; }
}

/* Takes one ready connection at a time from the shared epoll instance, drives it, and re-arms it. */
static void *worker(void *arg) {
    loadpin_thread((int)(intptr_t)arg);
    struct epoll_event ev;
    while (!atomic_load(&g_stop)) {
        if (epoll_wait(g_ep, &ev, 1, 100) != 1) continue;
        conn_t *c = ev.data.ptr;
        drive(c, ev.events);
        if (c->state != C_DEAD) h2io_rearm(&c->io, c);
    }
    return NULL;
}

static nghttp2_nv nv(const char *name, const char *value) {
    nghttp2_nv v = { (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE };
    return v;
}

/* Waits on sem until posted or the deadline (CLOCK_REALTIME, as sem_timedwait wants); 0 when posted. */
static int wait_until(sem_t *sem, time_t deadline) {
    struct timespec ts = { .tv_sec = deadline };
    while (sem_timedwait(sem, &ts) != 0) { if (errno != EINTR) return -1; }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: grpcfan HOST PORT[,PORT...] HASH_HEX STREAMS CONNS OUT [THREADS=2] [TIMEOUT_S=600]\n"); return 2; }
    g_host = argv[1];
    for (char *q = argv[2]; *q && g_nports < 16; ) { g_ports[g_nports++] = atoi(q); q = strchr(q, ','); if (!q) break; q++; }
    const char *hex = argv[3];
    g_streams_per_port = atoi(argv[4]); g_conns_per_port = atoi(argv[5]);
    const char *out = argv[6];
    if (argc > 7) g_threads = atoi(argv[7]);
    if (argc > 8) g_timeout = atoi(argv[8]);
    if (strlen(hex) != 64 || g_streams_per_port < 1 || g_conns_per_port < 1 || g_conns_per_port > g_streams_per_port || g_nports < 1) {
        fprintf(stderr, "grpcfan: bad arguments (HASH_HEX: 64 hex digits; 1 <= CONNS <= STREAMS)\n"); return 2;
    }
    /* TrackPaymentRequest { payment_hash (1): 32 bytes }, behind the uncompressed gRPC prefix */
    g_request[0] = 0; g_request[1] = g_request[2] = g_request[3] = 0; g_request[4] = 34;
    g_request[5] = 0x0a; g_request[6] = 32;
    for (int i = 0; i < 32; i++) { unsigned b; if (sscanf(hex + 2 * i, "%2x", &b) != 1) { fprintf(stderr, "grpcfan: bad hash\n"); return 2; } g_request[7 + i] = (uint8_t)b; }
    g_n = g_nports * g_streams_per_port; g_nconns = g_nports * g_conns_per_port;
    if (g_threads < 1) g_threads = 1;
    if (g_threads > g_nconns) g_threads = g_nconns;
    sem_init(&g_all_attached, 0, 0); sem_init(&g_all_ended, 0, 0);

    static const unsigned char alpn[] = { 2, 'h', '2' };
    g_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(g_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read ahead into a 64 KB buffer: one read(2) takes several records (without it OpenSSL reads
     * each record's 5-byte header and then its body: two system calls per 16 KB record). */
    SSL_CTX_set_read_ahead(g_ctx, 1);
    SSL_CTX_set_default_read_buffer_len(g_ctx, 65536);
    SSL_CTX_set_alpn_protos(g_ctx, alpn, sizeof alpn);

    nghttp2_session_callbacks_new(&g_cbs);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(g_cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_header_callback(g_cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(g_cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(g_cbs, on_stream_close);
    nghttp2_option_new(&g_opt);
    nghttp2_option_set_no_closed_streams(g_opt, 1);
    nghttp2_option_set_no_http_messaging(g_opt, 1);   /* a load client: no per-header HTTP checks */

    char *authority; if (asprintf(&authority, "%s:%d", g_host, g_ports[0]) < 0) return 1;
    g_nva[0] = nv(":method", "POST");
    g_nva[1] = nv(":scheme", "https");
    g_nva[2] = nv(":path", "/routerrpc.Router/TrackPaymentV2");
    g_nva[3] = nv(":authority", authority);
    g_nva[4] = nv("content-type", "application/grpc");
    g_nva[5] = nv("te", "trailers");

    g_streams = calloc(g_n, sizeof(stream_t));
    g_conns = calloc(g_nconns, sizeof(conn_t));
    for (int i = 0; i < g_n; i++) { g_streams[i].latency = -1; g_streams[i].grpc_status = -1; }
    for (int p = 0, k = 0; p < g_nports; p++) {   /* each port's streams spread evenly over its connections */
        int first = p * g_streams_per_port;
        for (int j = 0; j < g_conns_per_port; j++, k++) {
            conn_t *c = &g_conns[k];
            c->idx = k; c->io.fd = -1; c->port = g_ports[p]; c->first = first;
            c->count = g_streams_per_port / g_conns_per_port + (j < g_streams_per_port % g_conns_per_port);
            for (int i = first; i < first + c->count; i++) g_streams[i].conn = c;
            first += c->count;
        }
    }

    time_t start = time(NULL);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < g_nconns; i++) start_connect(&g_conns[i]);
    pthread_t th[64];
    if (g_threads > 64) g_threads = 64;
    for (int i = 0; i < g_threads; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);

    int ok = wait_until(&g_all_attached, start + g_timeout) == 0;
    int early = 0, attached = 0;   /* the threads may still be counting (after a timeout) */
    for (int i = 0; i < g_nconns; i++) {
        early += atomic_load_explicit(&g_conns[i].nended, memory_order_relaxed);
        attached += atomic_load_explicit(&g_conns[i].nattached, memory_order_relaxed);
    }
    if (ok) printf("attached %d early %d\n", g_n, early);
    else printf("failed_attach attached %d of %d\n", attached, g_n);
    fflush(stdout);
    if (ok) wait_until(&g_all_ended, start + g_timeout);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < g_threads; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < g_nconns; i++) {   /* the threads are gone: end what is still open */
        conn_t *c = &g_conns[i];
        if (c->state == C_DEAD) continue;
        if (c->io.sess) { nghttp2_session_terminate_session(c->io.sess, NGHTTP2_NO_ERROR); const char *why; h2io_flush(&c->io, c, &why); }
        conn_dead(c, "stopped");
    }
    close(g_ep);

    FILE *f = fopen(out, "w");
    if (!f) { fprintf(stderr, "grpcfan: %s: %s\n", out, strerror(errno)); return 1; }
    int ended = 0, okc = 0, succeeded = 0;
    for (int i = 0; i < g_n; i++) {
        stream_t *s = &g_streams[i];
        ended += s->ended; okc += s->grpc_status == 0; succeeded += s->latency >= 0;
        fprintf(f, "%d\t%d\t%d\t%d\t%lld\n", i / g_streams_per_port, i, s->messages, s->grpc_status, (long long)s->latency);
    }
    fclose(f);
    printf("ended %d ok %d succeeded %d failed %d\n", ended, okc, succeeded, g_n - okc);
    fflush(stdout);
    return 0;
}
