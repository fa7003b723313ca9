/*
 * wsbench: the load client of Benchmarks/rest (b). Opens N WebSocket TrackPaymentV2 streams
 * (wss://HOST:PORT/PATH, one TLS connection each, as every WebSocket is) on one in-flight payment,
 * reads the server's RSS (/proc/PID/status VmRSS) before the connections, once every stream has its
 * first message (the IN_FLIGHT snapshot) and 2 s later, then waits for the terminal message of every
 * stream and its close frame, and writes per stream: receipt time (CLOCK_REALTIME ns) of the first
 * and of the SUCCEEDED message, message count, close code, bytes of the last message.
 *
 * C, OpenSSL and epoll, T threads each with its own epoll set (no thread per socket); the WebSocket
 * framing is the minimal client side of RFC 6455 (server frames unmasked, client control frames
 * masked; continuation frames assembled; pings answered).
 *
 * What wsbench_h2.c does the same way is in wsbench_common.h (command line, clocks, /proc readers,
 * TCP connect and TLS handshake steps, WebSocket frames and messages, the phases and the output);
 * this file holds the transport: one connection per stream, the HTTP/1.1 upgrade, its threads.
 *
 *   wsbench HOST PORT PATH MACAROON_HEX N SERVER_PID[,PID...] OUT [THREADS=2] [WINDOW=256] [TIMEOUT_S=600]
 * (several PIDs: a server made of several processes; RSS and CPU are summed over them)
 *
 * Prints `key value` lines on stdout (attach_s, rss_before_kb, rss_attached_kb, rss_later_kb,
 * attached, failed, terminal, closed_1000, ...). Build: cc -O2 -o wsbench wsbench.c -lssl -lcrypto -lpthread
 * (wsbench_common.h beside it)
 */
#define _GNU_SOURCE
#include "wsbench_common.h"
#include "loadpin.h"

enum { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_HEADERS, S_OPEN, S_DONE, S_FAILED };

typedef struct {
    int fd, state, idx;
    SSL *ssl;
    ws_t ws;                       /* its WebSocket: received bytes, messages, times, close code */
} conn_t;

static int g_window = 256;
static conn_t *g_conns;
static char *g_request; static size_t g_reqlen;

static ws_t *ws_of(int i) { return &g_conns[i].ws; }

static void finish(conn_t *c, int failed) {
    if (c->state == S_DONE || c->state == S_FAILED) return;
    c->state = failed ? S_FAILED : S_DONE;
    ws_end(&c->ws, failed);
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
}

/* Answers a ping (for ws_parse_frames) with a masked pong, written at once. The control frames are
 * small; a WANT_WRITE here only loses a pong/close reply. */
static void ws_pong(void *owner, const unsigned char *payload, size_t n) {
    conn_t *c = owner; unsigned char f[WS_CONTROL_MAX];
    SSL_write(c->ssl, f, (int)ws_control_frame(f, 0xA, payload, n));
}

static void close_reply(conn_t *c) {
    unsigned char f[WS_CONTROL_MAX];
    if (c->ssl) SSL_write(c->ssl, f, (int)ws_close_frame(&c->ws, f));
    c->ws.close_pending = 0;
    finish(c, 0);
}

static void start_connect(conn_t *c, int ep) {
    const char *why;
    c->state = S_CONNECTING;
    if ((c->fd = tcp_connect(&why)) < 0) { finish(c, 1); return; }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void set_events(conn_t *c, int ep, uint32_t e) { struct epoll_event ev = { .events = e, .data.ptr = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev); }

/* Drives one connection as far as it can go. */
static void drive(conn_t *c, int ep, int64_t t) {
    ws_t *w = &c->ws;
    if (c->state == S_CONNECTING) {
        if (!(c->ssl = tls_new(c->fd, c->idx))) { finish(c, 1); return; }
        c->state = S_HANDSHAKE;
    }
    if (c->state == S_HANDSHAKE) {
        uint32_t events; int e;
        int r = tls_handshake(c->ssl, &events, &e);
        if (r == 0) { set_events(c, ep, events); return; }
        if (r < 0) { tls_failed(c->idx, e); finish(c, 1); return; }
        set_events(c, ep, EPOLLIN);
        if (SSL_write(c->ssl, g_request, (int)g_reqlen) != (int)g_reqlen) { fprintf(stderr, "request write %d failed\n", c->idx); finish(c, 1); return; }
        c->state = S_HEADERS;
    }
    unsigned char rb[16384];
    if (w->close_pending) {   /* only EOF or an error is expected now */
        int r = SSL_read(c->ssl, rb, sizeof rb);
        if (r <= 0) { int e = SSL_get_error(c->ssl, r); if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return; }
        w->close_pending = 0; finish(c, 0); return;
    }
    for (;;) {
        int r = SSL_read(c->ssl, rb, sizeof rb);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            /* EOF: fine after a close frame (the server may stop waiting for the reply) or after the
             * terminal message (see ws_ended_early()); a failure before */
            int early = ws_ended_early(w);
            finish(c, early);
            if (early) fprintf(stderr, "stream %d: connection ended without a close frame (%d msgs)\n", c->idx, w->nmsgs);
            return;
        }
        t = now_ns();   /* receipt time of these bytes (per read, not per epoll batch) */
        ws_append(w, rb, r);
        if (c->state == S_HEADERS) {
            unsigned char *end = memmem(w->buf, w->len, "\r\n\r\n", 4);
            if (!end) { if (w->len > 16384) { finish(c, 1); } continue; }
            if (w->len < 12 || memcmp(w->buf, "HTTP/1.1 101", 12) != 0) {
                fprintf(stderr, "stream %d: no upgrade: %.*s\n", c->idx, (int)(w->len < 300 ? w->len : 300), w->buf); finish(c, 1); return;
            }
            size_t hl = end + 4 - w->buf; memmove(w->buf, w->buf + hl, w->len - hl); w->len -= hl;
            c->state = S_OPEN;
        }
        size_t used;
        int pr = ws_parse_frames(w, w->buf, w->len, t, &used, c);
        if (pr < 0) { fprintf(stderr, "stream %d: bad frame\n", c->idx); finish(c, 1); return; }
        if (pr == 1) {
            ws_buf_release(w);   /* nothing after a close frame is read */
            /* While the fan-out is measured the client does not answer close frames (the reply,
             * the TCP teardown and the server's own close work would compete with the deliveries
             * still under way on the same two cores; 10,000 real clients are on other machines).
             * Once every stream has its terminal message, close_reply() answers them all. */
            if (atomic_load(&g_release)) { close_reply(c); return; }
            w->close_pending = 1; return;
        }
        ws_consume(w, used);
    }
}

static void *worker(void *arg) {
    range_t *r = arg;
    loadpin_thread(r->index);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int next = r->first, end = r->first + r->count, window = g_window / g_threads;
    if (window < 1) window = 1;
    int inflight = 0; /* connections not yet attached (connecting/handshake/headers) */
    struct epoll_event evs[1024];
    int released = 0;
    while (!atomic_load(&g_stop)) {
        if (!released && atomic_load(&g_release)) {
            released = 1;
            for (int i = r->first; i < end; i++) if (g_conns[i].ws.close_pending) close_reply(&g_conns[i]);
        }
        while (next < end && inflight < window) { start_connect(&g_conns[next], ep); if (g_conns[next].state != S_FAILED) inflight++; next++; }
        int n = epoll_wait(ep, evs, 1024, 50);
        int64_t t = 0;  /* drive() stamps each read itself */
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            int before = c->state, had = c->ws.nmsgs;
            drive(c, ep, t);
            int was_pending = had == 0 && before != S_FAILED && before != S_DONE;
            int is_pending = c->ws.nmsgs == 0 && c->state != S_FAILED && c->state != S_DONE;
            if (was_pending && !is_pending) inflight--;
        }
    }
    close(ep);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: wsbench HOST PORT PATH MACAROON_HEX N SERVER_PID OUT [THREADS] [WINDOW] [TIMEOUT_S]\n"); return 2; }
    const char *out = parse_args(argc, argv, &g_window);
    static const unsigned char alpn[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    tls_init(SSL_MODE_RELEASE_BUFFERS, alpn, sizeof alpn);
    g_request = NULL;
    g_reqlen = asprintf(&g_request,
        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Grpc-Metadata-macaroon: %s\r\n\r\n", g_path, g_host, g_port, g_mac);
    g_conns = calloc(g_n, sizeof(conn_t));
    for (int i = 0; i < g_n; i++) { g_conns[i].fd = -1; g_conns[i].idx = i; }

    long rss0 = rss_all("VmRSS");
    double t0 = mono();
    pthread_t th[64]; range_t rg[64]; if (g_threads > 64) g_threads = 64;
    int per = g_n / g_threads, first = 0;
    for (int i = 0; i < g_threads; i++) { rg[i].first = first; rg[i].count = i == g_threads - 1 ? g_n - first : per; rg[i].index = i; first += rg[i].count; pthread_create(&th[i], NULL, worker, &rg[i]); }

    run_phases(t0, rss0);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < g_threads; i++) pthread_join(th[i], NULL);
    write_results(out, t0);
    return 0;
}
