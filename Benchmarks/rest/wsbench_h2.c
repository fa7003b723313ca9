/*
 * wsbench_h2: the load client of Benchmarks/rest (b) for WebSockets over HTTP/2 (RFC 8441, extended
 * CONNECT). Does what wsbench.c does — N WebSocket TrackPaymentV2 streams on one in-flight payment;
 * the server's RSS (/proc/PID/status VmRSS) before connecting, once every stream has its first message
 * (the IN_FLIGHT snapshot) and 2 s later; then the terminal message of every stream and its close
 * frame; per stream: receipt time (CLOCK_REALTIME ns) of the first and of the SUCCEEDED message,
 * message count, close code, bytes of the last message — but each WebSocket is an HTTP/2 stream
 * (`:method CONNECT`, `:protocol websocket`) and the N streams are multiplexed over CONNS TLS
 * connections (ALPN h2), N/CONNS streams each, instead of one TLS connection per WebSocket.
 *
 * Same command line, stdout `key value` lines, TSV and phases as wsbench.c: the client does not
 * answer the server's close frames while the fan-out is measured, and answers them all (masked
 * close frame + END_STREAM) once every stream has its terminal message. Receipt time = per SSL_read,
 * at the read that completes the message. The server's SETTINGS must carry
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and allow N/CONNS concurrent streams, else exit 1.
 * Streams are opened in windows of at most WINDOW (256) not-yet-attached (no first message yet)
 * per connection.
 *
 * C, libnghttp2 (client session, nghttp2_session_mem_recv / nghttp2_session_mem_send), OpenSSL on
 * non-blocking sockets and epoll. THREADS threads (thread T pinned to core T mod N: loadpin.h) wait
 * on one epoll instance where each connection is registered EPOLLONESHOT and taken one at a time, as
 * Benchmarks/streams/grpcfan.c does: whichever thread is free handles the next connection with bytes
 * to read, and no two threads handle one connection at once. With a fixed share of the connections
 * per thread (WSBENCH_EPOLL=own, the client before session 20) the thread whose connections the
 * server wrote last read alone at the end of the fan-out, on the core of a server loop still
 * writing, while the other core idled (a timeline: Benchmarks/rest/RESULTS.md, run 28).
 * WebSocket framing: the minimal client side of RFC 6455 shared with wsbench.c (server frames
 * unmasked, continuation frames assembled, pings answered with masked pongs), carried in DATA
 * frames; the request's data provider never ends the stream by itself (NGHTTP2_ERR_DEFERRED, resumed
 * when a pong or the close reply is queued).
 *
 * What it does as wsbench.c does is in wsbench_common.h (command line, clocks, /proc readers, TCP
 * connect and TLS handshake steps, WebSocket frames and messages, the phases and the output); this
 * file holds the transport: HTTP/2 connections, their streams and threads.
 *
 *   wsbench_h2 HOST PORT PATH MACAROON_HEX N SERVER_PID[,PID...] OUT [THREADS=2] [CONNS=10] [TIMEOUT_S=600]
 * (several PIDs: a server made of several processes; RSS and CPU are summed over them)
 *
 * Prints `key value` lines on stdout (attach_s, rss_before_kb, rss_attached_kb, rss_later_kb,
 * attached, failed, terminal, closed_1000, ...); diagnostics on stderr.
 * Build: cc -O2 -Wall -o wsbench_h2 wsbench_h2.c -lnghttp2 -lssl -lcrypto -lpthread (wsbench_common.h beside it)
 */
#define _GNU_SOURCE
#include <nghttp2/nghttp2.h>
#include "wsbench_common.h"
#include "h2io.h"
#include "loadpin.h"

#define WINDOW 256                      /* not-yet-attached streams per connection */
#define STREAM_WINDOW (1 << 20)         /* SETTINGS_INITIAL_WINDOW_SIZE we send */
#define CONN_WINDOW (1 << 30)           /* connection-level receive window */

enum { S_IDLE, S_SUBMITTED, S_OPEN, S_DONE, S_FAILED };
enum { C_CONNECTING, C_HANDSHAKE, C_SETTINGS, C_READY, C_DEAD };

struct h2conn;

typedef struct {
    struct h2conn *conn;
    int idx, id, state, status;
    ws_t ws;                       /* its WebSocket: received bytes, messages, times, close code */
    unsigned char *out;            /* client frames (pong, close) waiting for the data provider */
    size_t olen, ooff;
    unsigned eof_queued : 1, closed : 1, unattached : 1, rst : 1;
} stream_t;

typedef struct h2conn {
    h2io_t io;                     /* socket, TLS, nghttp2, output buffer (h2io.h) */
    atomic_flag busy;              /* held by the thread driving the connection (shared epoll: the
                                      close replies are sent from outside the epoll loop) */
    int state, idx;
    int first, count, next;        /* its streams: g_streams[first, first + count); next not yet submitted */
    int unattached;                /* submitted, no first message yet, not failed */
    int64_t t;                     /* receipt time of the bytes being fed to nghttp2 */
} h2conn_t;

static int g_nconns = 10;
static stream_t *g_streams;
static h2conn_t *g_conns;
static nghttp2_session_callbacks *g_cbs;
static nghttp2_option *g_opt;
static nghttp2_nv g_nva[7];
static char *g_authority;
static atomic_int g_open, g_logs;
static int g_shared = 1, g_ep = -1;    /* one epoll instance for all threads (WSBENCH_EPOLL != own) */

static ws_t *ws_of(int i) { return &g_streams[i].ws; }

/* diagnostics on stderr, at most 30 of them */
#define LOG(...) do { if (atomic_fetch_add(&g_logs, 1) < 30) fprintf(stderr, __VA_ARGS__); } while (0)

/* ---------- per stream */

/* The stream no longer counts against its connection's window of not-yet-attached streams. */
static void attached(stream_t *s) { if (s->unattached) { s->unattached = 0; s->conn->unattached--; } }

static void finish(stream_t *s, int failed) {
    if (s->state == S_DONE || s->state == S_FAILED) return;
    s->state = failed ? S_FAILED : S_DONE;
    attached(s);
    ws_end(&s->ws, failed);
    free(s->out); s->out = NULL; s->olen = s->ooff = 0;
}

/* A failed stream: counted, and reset unless the server has already ended it. */
static void fail(stream_t *s, int rst) {
    finish(s, 1);
    if (rst && !s->closed && !s->rst && s->id > 0) {
        s->rst = 1; nghttp2_submit_rst_stream(s->conn->io.sess, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    }
}

/* Queues a masked client frame for the stream's data provider (rare: pongs and the close reply). */
static void queue_frame(stream_t *s, const unsigned char *f, size_t n) {
    if (s->ooff) { memmove(s->out, s->out + s->ooff, s->olen - s->ooff); s->olen -= s->ooff; s->ooff = 0; }
    unsigned char *o = realloc(s->out, s->olen + n);
    if (!o) return;
    s->out = o; memcpy(o + s->olen, f, n);
    s->olen += n;
}

static void resume(stream_t *s) { if (!s->closed) nghttp2_session_resume_data(s->conn->io.sess, s->id); }

/* Answers a ping (for ws_parse_frames): a masked pong queued for the data provider. */
static void ws_pong(void *owner, const unsigned char *payload, size_t n) {
    stream_t *s = owner; unsigned char f[WS_CONTROL_MAX];
    queue_frame(s, f, ws_control_frame(f, 0xA, payload, n)); resume(s);
}

/* Answers the server's close frame; the stream counts as finished once the reply (with END_STREAM)
 * has been handed to the connection (on_frame_send), or when the stream closes. */
static void close_reply(stream_t *s) {
    s->ws.close_pending = 0;
    if (s->closed) { finish(s, 0); return; }
    unsigned char f[WS_CONTROL_MAX];
    queue_frame(s, f, ws_close_frame(&s->ws, f));
    s->eof_queued = 1;
    resume(s);
}

/* A DATA chunk of an open stream: parsed in place; only an incomplete frame's bytes are kept. */
static void feed(stream_t *s, const unsigned char *d, size_t n, int64_t t) {
    ws_t *w = &s->ws; size_t used; int rv;
    if (w->len == 0) {
        rv = ws_parse_frames(w, d, n, t, &used, s);
        if (rv == 0 && used < n) ws_append(w, d + used, n - used);
    } else {
        ws_append(w, d, n);
        rv = ws_parse_frames(w, w->buf, w->len, t, &used, s);
        if (rv == 0) ws_consume(w, used);
    }
    if (w->nmsgs > 0) attached(s);
    if (rv < 0) { LOG("stream %d: bad frame\n", s->idx); fail(s, 1); return; }
    if (rv == 1) {
        ws_buf_release(w);   /* nothing after a close frame is read */
        /* While the fan-out is measured the client does not answer close frames (see wsbench.c);
         * once every stream has its terminal message, close_reply() answers them all. */
        if (atomic_load(&g_release)) close_reply(s);
        else w->close_pending = 1;
    }
}

/* The server ended its side of the stream (END_STREAM: RFC 8441's analogue of RFC 6455's TCP close). */
static void remote_ended(stream_t *s) {
    if (s->state == S_FAILED) { fail(s, 1); return; }           /* e.g. after a non-200 response's body */
    if (s->state != S_OPEN || s->ws.close_pending || s->eof_queued) return;   /* the close reply comes or went */
    if (ws_ended_early(&s->ws)) {
        LOG("stream %d: ended by the server without a close frame (%d msgs)\n", s->idx, s->ws.nmsgs);
        fail(s, 1); return;
    }
    /* after the terminal message without a close frame (lnd's proxy drops the connection): fine; end ours */
    s->eof_queued = 1; resume(s);
    finish(s, 0);
}

/* ---------- nghttp2 callbacks (kept minimal: they run per frame) */

static ssize_t read_cb(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                       nghttp2_data_source *src, void *ud) {
    (void)sess; (void)id; (void)ud;
    stream_t *s = src->ptr;
    size_t n = s->olen - s->ooff;
    if (n > length) n = length;
    if (n) { memcpy(buf, s->out + s->ooff, n); s->ooff += n; if (s->ooff == s->olen) s->ooff = s->olen = 0; }
    if (s->olen == 0 && s->eof_queued) *flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0) return NGHTTP2_ERR_DEFERRED;
    return (ssize_t)n;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *d, size_t n, void *ud) {
    (void)flags;
    stream_t *s = nghttp2_session_get_stream_user_data(sess, id);
    if (!s) return 0;
    if (s->state == S_OPEN && s->ws.close_code == 0) feed(s, d, n, ((h2conn_t *)ud)->t);
    else if (s->state == S_FAILED && s->status != 200 && s->status != 0)
        LOG("stream %d: response body: %.*s\n", s->idx, (int)(n < 300 ? n : 300), d);
    return 0;
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud) {
    (void)flags; (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7)) return 0;
    stream_t *s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
    if (!s) return 0;
    int st = 0; for (size_t i = 0; i < valuelen && i < 3; i++) st = st * 10 + (value[i] - '0');
    s->status = st;
    return 0;
}

static void on_settings(h2conn_t *c) {
    if (c->state != C_SETTINGS) return;
    uint32_t ecp = nghttp2_session_get_remote_settings(c->io.sess, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL);
    uint32_t mcs = nghttp2_session_get_remote_settings(c->io.sess, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    if (c->idx == 0) fprintf(stderr, "server SETTINGS: enable_connect_protocol %u, max_concurrent_streams %u, initial_window_size %u, max_frame_size %u\n",
                             ecp, mcs, nghttp2_session_get_remote_settings(c->io.sess, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
                             nghttp2_session_get_remote_settings(c->io.sess, NGHTTP2_SETTINGS_MAX_FRAME_SIZE));
    if (ecp != 1) {
        fprintf(stderr, "wsbench_h2: the server's SETTINGS do not carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: no RFC 8441 WebSockets over HTTP/2 (connection %d)\n", c->idx);
        exit(1);
    }
    if ((uint64_t)mcs < (uint64_t)c->count) {
        fprintf(stderr, "wsbench_h2: the server allows %u concurrent streams per connection, %d needed: raise CONNS\n", mcs, c->count);
        exit(1);
    }
    c->state = C_READY;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *f, void *ud) {
    h2conn_t *c = ud;
    switch (f->hd.type) {
    case NGHTTP2_DATA:
        if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
        break;
    case NGHTTP2_HEADERS: {
        stream_t *s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
        if (!s) return 0;
        if (s->state == S_SUBMITTED) {
            if (s->status / 100 == 1) { s->status = 0; return 0; }   /* interim response */
            if (s->status == 200) s->state = S_OPEN;
            else { LOG("stream %d: response :status %d\n", s->idx, s->status); fail(s, 0); }
        }
        if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
        break;
    }
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) on_settings(c);
        return 0;
    case NGHTTP2_GOAWAY:
        LOG("connection %d: GOAWAY from the server: last stream %d, error %u (%.*s)\n", c->idx, f->goaway.last_stream_id,
            f->goaway.error_code, (int)(f->goaway.opaque_data_len < 200 ? f->goaway.opaque_data_len : 200), f->goaway.opaque_data);
        return 0;
    default:
        return 0;
    }
    stream_t *s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
    if (s) remote_ended(s);
    return 0;
}

static int on_frame_send(nghttp2_session *sess, const nghttp2_frame *f, void *ud) {
    (void)ud;
    if (f->hd.type != NGHTTP2_DATA || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    stream_t *s = nghttp2_session_get_stream_user_data(sess, f->hd.stream_id);
    if (s) finish(s, 0);   /* the close reply is out */
    return 0;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t err, void *ud) {
    (void)ud;
    stream_t *s = nghttp2_session_get_stream_user_data(sess, id);
    if (!s || s->closed) return 0;
    s->closed = 1; atomic_fetch_sub(&g_open, 1);
    if (s->state == S_DONE || s->state == S_FAILED) return 0;
    /* as wsbench.c at EOF: fine after a close frame or after the terminal message; a failure before */
    if (ws_ended_early(&s->ws)) {
        LOG("stream %d: closed by the server before the terminal message (%s, :status %d, %d msgs)\n",
            s->idx, nghttp2_http2_strerror(err), s->status, s->ws.nmsgs);
        finish(s, 1);
    } else finish(s, 0);
    return 0;
}

static int on_error(nghttp2_session *sess, int code, const char *msg, size_t len, void *ud) {
    (void)sess;
    LOG("connection %d: nghttp2: %s (%.*s)\n", ((h2conn_t *)ud)->idx, nghttp2_strerror(code), (int)len, msg);
    return 0;
}

/* ---------- per connection */


static void conn_dead(h2conn_t *c, const char *why) {
    if (c->state == C_DEAD) return;
    int lost = 0;
    for (int i = c->first; i < c->first + c->count; i++) {
        stream_t *s = &g_streams[i];
        if (s->id > 0 && !s->closed) { s->closed = 1; atomic_fetch_sub(&g_open, 1); }
        if (s->state == S_DONE || s->state == S_FAILED) continue;
        /* as wsbench.c at EOF: a failure unless the stream had its close frame or terminal message */
        int failed = s->state == S_IDLE || ws_ended_early(&s->ws);
        lost += failed; finish(s, failed);
    }
    if (lost) LOG("connection %d: %s; %d streams failed\n", c->idx, why, lost);
    c->state = C_DEAD;
    h2io_release(&c->io);
}


static void submit_more(h2conn_t *c) {
    if (c->state != C_READY) return;
    while (c->next < c->first + c->count && c->unattached < WINDOW) {
        stream_t *s = &g_streams[c->next++];
        nghttp2_data_provider prd = { .source.ptr = s, .read_callback = read_cb };
        int32_t id = nghttp2_submit_request(c->io.sess, NULL, g_nva, sizeof g_nva / sizeof g_nva[0], &prd, s);
        if (id < 0) { LOG("stream %d: nghttp2_submit_request: %s\n", s->idx, nghttp2_strerror(id)); finish(s, 1); continue; }
        s->id = id; s->state = S_SUBMITTED; s->unattached = 1; c->unattached++;
        atomic_fetch_add(&g_open, 1);
    }
}

static void start_connect(h2conn_t *c) {
    const char *why;
    c->state = C_CONNECTING;
    if ((c->io.fd = tcp_connect(&why)) < 0) { conn_dead(c, why); return; }
    c->io.events = EPOLLIN | EPOLLOUT; c->io.oneshot = g_shared;
    struct epoll_event ev = { .events = c->io.events | (g_shared ? EPOLLONESHOT : 0), .data.ptr = c };
    epoll_ctl(c->io.ep, EPOLL_CTL_ADD, c->io.fd, &ev);
}

static void lock_conn(h2conn_t *c) { while (atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire)) sched_yield(); }
static void unlock_conn(h2conn_t *c) { atomic_flag_clear_explicit(&c->busy, memory_order_release); }

static void start_h2(h2conn_t *c) {
    const unsigned char *proto = NULL; unsigned plen = 0;
    SSL_get0_alpn_selected(c->io.ssl, &proto, &plen);
    if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
        fprintf(stderr, "wsbench_h2: the server did not select ALPN h2 (selected: \"%.*s\")\n", (int)plen, proto ? (const char *)proto : "");
        exit(1);
    }
    nghttp2_session_client_new2(&c->io.sess, g_cbs, c, g_opt);
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
        { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
    };
    nghttp2_submit_settings(c->io.sess, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->io.sess, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    c->state = C_SETTINGS;
}

/* Drives one connection as far as it can go. */
static void drive(h2conn_t *c, uint32_t events) {
    if (c->state == C_DEAD) return;
    if (c->state == C_CONNECTING) {
        if (!(c->io.ssl = tls_new(c->io.fd, c->idx))) { conn_dead(c, "connect failed"); return; }
        c->state = C_HANDSHAKE;
    }
    if (c->state == C_HANDSHAKE) {
        uint32_t want; int e;
        int r = tls_handshake(c->io.ssl, &want, &e);
        if (r == 0) { h2io_set_events(&c->io, c, want); return; }
        if (r < 0) {
            if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
                fprintf(stderr, "wsbench_h2: the server refused ALPN h2 (TLS alert no_application_protocol)\n"); exit(1);
            }
            tls_failed(c->idx, e); conn_dead(c, "TLS handshake failed"); return;
        }
        start_h2(c);
        events |= EPOLLIN;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        unsigned char rb[16384 + 256];
        for (;;) {
            int r = SSL_read(c->io.ssl, rb, sizeof rb);
            if (r <= 0) {
                int e = SSL_get_error(c->io.ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
                conn_dead(c, e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? "connection closed by the server" : "TLS read error");
                return;
            }
            c->t = now_ns();   /* receipt time of these bytes (per read, not per epoll batch) */
            ssize_t n = nghttp2_session_mem_recv(c->io.sess, rb, (size_t)r);
            if (n < 0) { LOG("connection %d: nghttp2_session_mem_recv: %s\n", c->idx, nghttp2_strerror((int)n)); conn_dead(c, "HTTP/2 error"); return; }
        }
    }
    submit_more(c);
    const char *why;
    if (h2io_flush(&c->io, c, &why) < 0) { LOG("connection %d: %s\n", c->idx, why); conn_dead(c, "write error"); return; }
    if (!nghttp2_session_want_read(c->io.sess) && !nghttp2_session_want_write(c->io.sess) && c->io.wlen == 0)
        conn_dead(c, "HTTP/2 session ended");
}

/* GOAWAY, then close, on connections [first, end). */
static void end_connections(int first, int end) {
    for (int i = first; i < end; i++) {
        h2conn_t *c = &g_conns[i];
        if (c->state == C_DEAD) continue;
        if (c->io.sess) { const char *why; nghttp2_session_terminate_session(c->io.sess, NGHTTP2_NO_ERROR); h2io_flush(&c->io, c, &why); }
        if (c->io.ssl && c->state != C_CONNECTING && c->state != C_HANDSHAKE) SSL_shutdown(c->io.ssl);
        h2io_release(&c->io);
    }
}

/* Worker T starts the connections of its range; with a shared epoll instance it then takes any
 * ready connection (one event at a time, re-armed after it is driven), else only its own. Once
 * g_release is set it answers the close frames of its range's connections. */
static void *worker(void *arg) {
    range_t *r = arg;
    loadpin_thread(r->index);
    int ep = g_shared ? g_ep : epoll_create1(EPOLL_CLOEXEC), end = r->first + r->count;
    for (int i = r->first; i < end; i++) { g_conns[i].io.ep = ep; start_connect(&g_conns[i]); }
    struct epoll_event evs[64];
    int released = 0;
    while (!atomic_load(&g_stop)) {
        if (!released && atomic_load(&g_release)) {
            released = 1;
            for (int i = r->first; i < end; i++) {
                h2conn_t *c = &g_conns[i];
                lock_conn(c);
                if (c->state != C_DEAD) {
                    for (int j = c->first; j < c->first + c->count; j++) if (g_streams[j].ws.close_pending) close_reply(&g_streams[j]);
                    const char *why;
                    if (c->io.sess && h2io_flush(&c->io, c, &why) < 0) { LOG("connection %d: %s\n", c->idx, why); conn_dead(c, "write error"); }
                    if (g_shared && c->state != C_DEAD) h2io_rearm(&c->io, c);
                }
                unlock_conn(c);
            }
        }
        int n = epoll_wait(ep, evs, g_shared ? 1 : 64, 50);
        for (int i = 0; i < n; i++) {
            h2conn_t *c = evs[i].data.ptr;
            lock_conn(c);
            drive(c, evs[i].events);
            if (g_shared && c->state != C_DEAD) h2io_rearm(&c->io, c);
            unlock_conn(c);
        }
    }
    if (!g_shared) { end_connections(r->first, end); close(ep); }   /* shared: main closes, once every worker has stopped */
    return NULL;
}

static nghttp2_nv nv(const char *name, const char *value) {
    nghttp2_nv v = { (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE };
    return v;
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: wsbench_h2 HOST PORT PATH MACAROON_HEX N SERVER_PID[,PID...] OUT [THREADS=2] [CONNS=10] [TIMEOUT_S=600]\n"); return 2; }
    const char *out = parse_args(argc, argv, &g_nconns);
    if (g_n < 1) { fprintf(stderr, "N must be >= 1\n"); return 2; }
    if (g_nconns < 1) g_nconns = 1;
    if (g_nconns > g_n) g_nconns = g_n;
    if (g_threads > 64) g_threads = 64;
    if (g_threads > g_nconns) g_threads = g_nconns;
    if (g_threads < 1) g_threads = 1;

    static const unsigned char alpn[] = { 2, 'h', '2' };
    /* No SSL_MODE_RELEASE_BUFFERS: with CONNS connections the record buffers are few, and releasing
     * them after every drained read cost a malloc and a free per read in the window measured
     * (Benchmarks/rest/RESULTS.md, run 28). */
    tls_init(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, alpn, sizeof alpn);

    nghttp2_session_callbacks_new(&g_cbs);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(g_cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_header_callback(g_cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(g_cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(g_cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(g_cbs, on_stream_close);
    nghttp2_session_callbacks_set_error_callback2(g_cbs, on_error);
    nghttp2_option_new(&g_opt);
    nghttp2_option_set_no_closed_streams(g_opt, 1);

    if (asprintf(&g_authority, "%s:%d", g_host, g_port) < 0) return 1;
    g_nva[0] = nv(":method", "CONNECT");
    g_nva[1] = nv(":protocol", "websocket");
    g_nva[2] = nv(":scheme", "https");
    g_nva[3] = nv(":path", g_path);
    g_nva[4] = nv(":authority", g_authority);
    g_nva[5] = nv("sec-websocket-version", "13");
    g_nva[6] = nv("grpc-metadata-macaroon", g_mac);

    const char *mode = getenv("WSBENCH_EPOLL");
    g_shared = !(mode && strcmp(mode, "own") == 0);
    if (g_shared) g_ep = epoll_create1(EPOLL_CLOEXEC);
    g_streams = calloc(g_n, sizeof(stream_t));
    g_conns = calloc(g_nconns, sizeof(h2conn_t));
    for (int k = 0, first = 0; k < g_nconns; k++) {   /* streams spread evenly over the connections */
        h2conn_t *c = &g_conns[k];
        c->idx = k; c->io.fd = -1; c->first = first; c->count = g_n / g_nconns + (k < g_n % g_nconns); c->next = first;
        for (int i = first; i < first + c->count; i++) { g_streams[i].idx = i; g_streams[i].conn = c; }
        first += c->count;
    }

    long rss0 = rss_all("VmRSS");
    double t0 = mono();
    pthread_t th[64]; range_t rg[64];
    int per = g_nconns / g_threads, first = 0;
    for (int i = 0; i < g_threads; i++) { rg[i].first = first; rg[i].count = per + (i < g_nconns % g_threads); rg[i].index = i; first += rg[i].count; pthread_create(&th[i], NULL, worker, &rg[i]); }

    run_phases(t0, rss0);
    /* every close reply is out: give the server up to 5 s to end its side of the streams */
    double t1 = mono();
    while (atomic_load(&g_open) > 0 && mono() - t1 < 5 && mono() - t0 < g_timeout) usleep(20000);
    if (atomic_load(&g_open) > 0) fprintf(stderr, "wsbench_h2: %d streams still open at the end (not ended by the server after the close reply)\n", atomic_load(&g_open));
    atomic_store(&g_stop, 1);
    for (int i = 0; i < g_threads; i++) pthread_join(th[i], NULL);
    if (g_shared) { end_connections(0, g_nconns); close(g_ep); }

    write_results(out, t0);
    return 0;
}
