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
 *   wsbench HOST PORT PATH MACAROON_HEX N SERVER_PID[,PID...] OUT [THREADS=2] [WINDOW=256] [TIMEOUT_S=600]
 * (several PIDs: a server made of several processes; RSS and CPU are summed over them)
 *
 * Prints `key value` lines on stdout (attach_s, rss_before_kb, rss_attached_kb, rss_later_kb,
 * attached, failed, terminal, closed_1000, ...). Build: cc -O2 -o wsbench wsbench.c -lssl -lcrypto -lpthread
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_HEADERS, S_OPEN, S_DONE, S_FAILED };

typedef struct {
    int fd, state, idx;
    SSL *ssl;
    unsigned char *buf;            /* received bytes not yet parsed */
    size_t len, cap;
    unsigned char *msg;            /* text message being assembled (fragments) */
    size_t msglen;
    int64_t first_ns, terminal_ns;
    int nmsgs, close_code, last_bytes, first_succeeded, close_pending;
} conn_t;

static const char *g_host; static int g_port; static const char *g_path, *g_mac;
static int g_n, g_threads = 2, g_window = 256, g_timeout = 600;
static conn_t *g_conns;
static SSL_CTX *g_ctx;
static char *g_request; static size_t g_reqlen;
static atomic_int g_attached, g_failed, g_finished, g_terminal, g_stop, g_release;

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }
static double mono(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static long rss_kb(int pid, const char *key) {
    char p[64], line[256]; snprintf(p, sizeof p, "/proc/%d/status", pid);
    FILE *f = fopen(p, "r"); if (!f) return -1;
    long v = -1; size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) if (!strncmp(line, key, kl) && line[kl] == ':') { v = atol(line + kl + 1); break; }
    fclose(f); return v;
}

static long cpu_ticks(int pid) {   /* utime + stime of a process, clock ticks */
    char p[64], b[1024]; snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r"); if (!f) return -1;
    size_t n = fread(b, 1, sizeof b - 1, f); fclose(f); b[n] = 0;
    char *q = strrchr(b, ')'); if (!q) return -1;
    long ut = 0, st = 0; int field = 2;
    for (char *tok = strtok(q + 1, " "); tok; tok = strtok(NULL, " ")) { field++; if (field == 14) ut = atol(tok); if (field == 15) { st = atol(tok); break; } }
    return ut + st;
}

static double self_cpu_s(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void finish(conn_t *c, int failed) {
    if (c->state == S_DONE || c->state == S_FAILED) return;
    c->state = failed ? S_FAILED : S_DONE;
    if (failed) atomic_fetch_add(&g_failed, 1);
    else atomic_fetch_add(&g_finished, 1);
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
    free(c->buf); c->buf = NULL; c->len = c->cap = 0;
    free(c->msg); c->msg = NULL; c->msglen = 0;
}

static void send_control(conn_t *c, int opcode, const unsigned char *payload, size_t n) {
    unsigned char f[2 + 4 + 125]; if (n > 125) n = 125;
    f[0] = 0x80 | opcode; f[1] = 0x80 | (unsigned char)n;
    unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    memcpy(f + 2, mask, 4);
    for (size_t i = 0; i < n; i++) f[6 + i] = payload[i] ^ mask[i & 3];
    SSL_write(c->ssl, f, (int)(6 + n)); /* small; a WANT_WRITE here only loses a pong/close reply */
}

static void close_reply(conn_t *c) {
    unsigned char code[2] = { (unsigned char)(c->close_code >> 8), (unsigned char)c->close_code };
    if (c->ssl) send_control(c, 0x8, code, c->close_code == 1005 ? 0 : 2);
    c->close_pending = 0;
    finish(c, 0);
}

static void on_message(conn_t *c, const unsigned char *m, size_t n, int64_t t) {
    c->nmsgs++; c->last_bytes = (int)n;
    int succeeded = memmem(m, n, "\"status\":\"SUCCEEDED\"", 20) != NULL;
    if (c->nmsgs == 1) { c->first_ns = t; c->first_succeeded = succeeded; atomic_fetch_add(&g_attached, 1); }
    if (succeeded && !c->terminal_ns) { c->terminal_ns = t; atomic_fetch_add(&g_terminal, 1); }
}

/* Parses complete frames in c->buf; returns -1 on a protocol error, 1 when closed. */
static int parse_frames(conn_t *c, int64_t t) {
    size_t off = 0;
    while (c->len - off >= 2) {
        unsigned char *p = c->buf + off;
        int fin = p[0] & 0x80, op = p[0] & 0x0f, masked = p[1] & 0x80;
        uint64_t plen = p[1] & 0x7f; size_t h = 2;
        if (masked) return -1;
        if (plen == 126) { if (c->len - off < 4) break; plen = (p[2] << 8) | p[3]; h = 4; }
        else if (plen == 127) { if (c->len - off < 10) break; plen = 0; for (int i = 0; i < 8; i++) plen = (plen << 8) | p[2 + i]; h = 10; }
        if (c->len - off < h + plen) break;
        unsigned char *pl = p + h;
        if (op == 0x1 || op == 0x0 || op == 0x2) {
            if (fin && c->msglen == 0) on_message(c, pl, plen, t);
            else {
                c->msg = realloc(c->msg, c->msglen + plen); memcpy(c->msg + c->msglen, pl, plen); c->msglen += plen;
                if (fin) { on_message(c, c->msg, c->msglen, t); free(c->msg); c->msg = NULL; c->msglen = 0; }
            }
        } else if (op == 0x9) {
            send_control(c, 0xA, pl, plen);
        } else if (op == 0x8) {
            c->close_code = plen >= 2 ? (pl[0] << 8) | pl[1] : 1005;
            return 1;   /* the reply waits: see close_reply() */
        }
        off += h + plen;
    }
    if (off) { memmove(c->buf, c->buf + off, c->len - off); c->len -= off; }
    return 0;
}

static int append(conn_t *c, const unsigned char *d, size_t n) {
    if (c->len + n > c->cap) { size_t nc = c->cap ? c->cap * 2 : 4096; while (nc < c->len + n) nc *= 2; c->buf = realloc(c->buf, nc); c->cap = nc; }
    memcpy(c->buf + c->len, d, n); c->len += n; return 0;
}

static void start_connect(conn_t *c, int ep) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(g_port) };
    inet_pton(AF_INET, g_host, &a.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { fprintf(stderr, "socket: %s\n", strerror(errno)); c->state = S_FAILED; atomic_fetch_add(&g_failed, 1); return; }
    int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = S_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) { fprintf(stderr, "connect: %s\n", strerror(errno)); finish(c, 1); return; }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void set_events(conn_t *c, int ep, uint32_t e) { struct epoll_event ev = { .events = e, .data.ptr = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev); }

/* Drives one connection as far as it can go. */
static void drive(conn_t *c, int ep, int64_t t) {
    if (c->state == S_CONNECTING) {
        int err = 0; socklen_t l = sizeof err; getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { fprintf(stderr, "connect %d: %s\n", c->idx, strerror(err)); finish(c, 1); return; }
        c->ssl = SSL_new(g_ctx); SSL_set_fd(c->ssl, c->fd); SSL_set_connect_state(c->ssl);
        c->state = S_HANDSHAKE;
    }
    if (c->state == S_HANDSHAKE) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { set_events(c, ep, EPOLLIN); return; }
            if (e == SSL_ERROR_WANT_WRITE) { set_events(c, ep, EPOLLIN | EPOLLOUT); return; }
            fprintf(stderr, "handshake %d failed: %d\n", c->idx, e); ERR_print_errors_fp(stderr); finish(c, 1); return;
        }
        set_events(c, ep, EPOLLIN);
        if (SSL_write(c->ssl, g_request, (int)g_reqlen) != (int)g_reqlen) { fprintf(stderr, "request write %d failed\n", c->idx); finish(c, 1); return; }
        c->state = S_HEADERS;
    }
    unsigned char rb[16384];
    if (c->close_pending) {   /* only EOF or an error is expected now */
        int r = SSL_read(c->ssl, rb, sizeof rb);
        if (r <= 0) { int e = SSL_get_error(c->ssl, r); if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return; }
        c->close_pending = 0; finish(c, 0); return;
    }
    for (;;) {
        int r = SSL_read(c->ssl, rb, sizeof rb);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            /* EOF: fine after a close frame (the server may stop waiting for the reply) or after the
             * terminal message (lnd's proxy drops the connection without a close frame: 1006); a failure before */
            finish(c, c->close_code == 0 && c->terminal_ns == 0);
            if (c->close_code == 0 && c->terminal_ns == 0) fprintf(stderr, "stream %d: connection ended without a close frame (%d msgs)\n", c->idx, c->nmsgs);
            return;
        }
        t = now_ns();   /* receipt time of these bytes (per read, not per epoll batch) */
        append(c, rb, r);
        if (c->state == S_HEADERS) {
            unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (!end) { if (c->len > 16384) { finish(c, 1); } continue; }
            if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 101", 12) != 0) {
                fprintf(stderr, "stream %d: no upgrade: %.*s\n", c->idx, (int)(c->len < 300 ? c->len : 300), c->buf); finish(c, 1); return;
            }
            size_t hl = end + 4 - c->buf; memmove(c->buf, c->buf + hl, c->len - hl); c->len -= hl;
            c->state = S_OPEN;
        }
        int pr = parse_frames(c, t);
        if (pr < 0) { fprintf(stderr, "stream %d: bad frame\n", c->idx); finish(c, 1); return; }
        if (pr == 1) {
            /* While the fan-out is measured the client does not answer close frames (the reply,
             * the TCP teardown and the server's own close work would compete with the deliveries
             * still under way on the same two cores; 10,000 real clients are on other machines).
             * Once every stream has its terminal message, close_reply() answers them all. */
            if (atomic_load(&g_release)) { close_reply(c); return; }
            c->close_pending = 1; return;
        }
        if (c->len == 0 && c->cap > 4096) { free(c->buf); c->buf = NULL; c->cap = 0; }
    }
}

typedef struct { int first, count; } range_t;

static void *worker(void *arg) {
    range_t *r = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int next = r->first, end = r->first + r->count, window = g_window / g_threads;
    if (window < 1) window = 1;
    int inflight = 0; /* connections not yet attached (connecting/handshake/headers) */
    struct epoll_event evs[1024];
    int released = 0;
    while (!atomic_load(&g_stop)) {
        if (!released && atomic_load(&g_release)) {
            released = 1;
            for (int i = r->first; i < end; i++) if (g_conns[i].close_pending) close_reply(&g_conns[i]);
        }
        while (next < end && inflight < window) { start_connect(&g_conns[next], ep); if (g_conns[next].state != S_FAILED) inflight++; next++; }
        int n = epoll_wait(ep, evs, 1024, 50);
        int64_t t = 0;  /* drive() stamps each read itself */
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            int before = c->state, had = c->nmsgs;
            drive(c, ep, t);
            int was_pending = had == 0 && before != S_FAILED && before != S_DONE;
            int is_pending = c->nmsgs == 0 && c->state != S_FAILED && c->state != S_DONE;
            if (was_pending && !is_pending) inflight--;
        }
    }
    close(ep);
    return NULL;
}

static int g_pids[16], g_npids;
static long rss_all(const char *key) { long s = 0; for (int i = 0; i < g_npids; i++) { long v = rss_kb(g_pids[i], key); if (v < 0) return -1; s += v; } return s; }
static long ticks_all(void) { long s = 0; for (int i = 0; i < g_npids; i++) { long v = cpu_ticks(g_pids[i]); if (v < 0) return -1; s += v; } return s; }

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: wsbench HOST PORT PATH MACAROON_HEX N SERVER_PID OUT [THREADS] [WINDOW] [TIMEOUT_S]\n"); return 2; }
    g_host = argv[1]; g_port = atoi(argv[2]); g_path = argv[3]; g_mac = argv[4]; g_n = atoi(argv[5]);
    for (char *q = argv[6]; *q && g_npids < 16; ) { g_pids[g_npids++] = atoi(q); q = strchr(q, ','); if (!q) break; q++; }
    const char *out = argv[7];
    if (argc > 8) g_threads = atoi(argv[8]);
    if (argc > 9) g_window = atoi(argv[9]);
    if (argc > 10) g_timeout = atoi(argv[10]);
    g_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(g_ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char alpn[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    SSL_CTX_set_alpn_protos(g_ctx, alpn, sizeof alpn);
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
    for (int i = 0; i < g_threads; i++) { rg[i].first = first; rg[i].count = i == g_threads - 1 ? g_n - first : per; first += rg[i].count; pthread_create(&th[i], NULL, worker, &rg[i]); }

    /* attach phase */
    while (atomic_load(&g_attached) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) usleep(20000);
    double attach_s = mono() - t0;
    long rss1 = rss_all("VmRSS");
    int early = 0; for (int i = 0; i < g_n; i++) if (g_conns[i].nmsgs > 0 && g_conns[i].first_succeeded) early++;
    printf("attached %d\nfailed_attach %d\nattach_s %.2f\nrss_before_kb %ld\nrss_attached_kb %ld\n", atomic_load(&g_attached), atomic_load(&g_failed), attach_s, rss0, rss1);
    printf("early_terminal %d\n", early);
    fflush(stdout);
    sleep(2);
    long rss2 = rss_all("VmRSS");
    printf("rss_later_kb %ld\n", rss2);
    printf("ready_ns %lld\n", (long long)now_ns());
    fflush(stdout);

    /* settle phase: every stream gets the terminal message, then its close frame. Server and
     * client CPU are read when the streams are ready and when the last terminal message is in. */
    long tk0 = ticks_all(); double me0 = self_cpu_s();
    while (atomic_load(&g_terminal) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) usleep(1000);
    long tk1 = ticks_all(); double me1 = self_cpu_s();
    printf("server_cpu_fanout_s %.2f\nclient_cpu_fanout_s %.2f\n", (tk1 - tk0) / (double)sysconf(_SC_CLK_TCK), me1 - me0);
    fflush(stdout);
    atomic_store(&g_release, 1);   /* now answer the close frames */
    while (atomic_load(&g_finished) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) usleep(20000);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < g_threads; i++) pthread_join(th[i], NULL);

    FILE *f = fopen(out, "w");
    int terminal = 0, closed1000 = 0;
    for (int i = 0; i < g_n; i++) {
        conn_t *c = &g_conns[i];
        if (c->terminal_ns) terminal++;
        if (c->close_code == 1000) closed1000++;
        fprintf(f, "%d\t%lld\t%lld\t%d\t%d\t%d\n", i, (long long)c->first_ns, (long long)c->terminal_ns, c->nmsgs, c->close_code, c->last_bytes);
    }
    fclose(f);
    printf("terminal %d\nclosed_1000 %d\nfailed %d\ntotal_s %.2f\n", terminal, closed1000, atomic_load(&g_failed), mono() - t0);
    return 0;
}
