/*
 * wsbench_common.h: what the two load clients of Benchmarks/rest (b) share, included by exactly one
 * .c per program: wsbench.c (one TLS connection per WebSocket) and wsbench_h2.c (RFC 8441 streams
 * over HTTP/2). Static definitions only, so each program gets its own copy. It holds the command line
 * and its globals; the clocks; the server's RSS and CPU read from /proc and summed over its PIDs; the
 * TCP connect and the TLS client handshake steps; the transport-independent client side of RFC 6455
 * (ws_t: frame parsing, text-message assembly, terminal-message detection, masked control frames);
 * and main's phases, with the stdout `key value` lines and the per-stream TSV.
 *
 * The including .c defines _GNU_SOURCE before it, and defines these two (used here):
 *   static ws_t *ws_of(int i);   the WebSocket state of stream i (0 <= i < g_n)
 *   static void ws_pong(void *owner, const unsigned char *payload, size_t n);
 *                                answers a ping of the stream `owner` given to ws_parse_frames()
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------- command line, globals */

static const char *g_host; static int g_port; static const char *g_path, *g_mac;
static int g_n, g_threads = 2, g_timeout = 600;
static int g_pids[16], g_npids;
static SSL_CTX *g_ctx;
static atomic_int g_attached, g_failed, g_finished, g_terminal, g_stop, g_release;
/* Posted when every stream has its terminal message or failed: main sleeps on it through the settle
 * phase instead of polling (a 1 ms poll woke this process 1,000 times a second on the cores the
 * server shares with it, in the very window it measures). */
static sem_t g_settled;
/* This process's CPU time when the first terminal message arrived: the fan-out's share of it is
 * what follows (the wait before costs ~2 ms/s of epoll timeouts). */
static double g_cpu_first_terminal;
static void settle_progress(void) {
    if (atomic_load(&g_terminal) + atomic_load(&g_failed) >= g_n) sem_post(&g_settled);
}

/* HOST PORT PATH MACAROON_HEX N SERVER_PID[,PID...] OUT [THREADS] [ARG9] [TIMEOUT_S] (argc >= 8,
 * checked by the caller); ARG9 (wsbench: WINDOW, wsbench_h2: CONNS) into *arg9 when given. Returns OUT. */
static const char *parse_args(int argc, char **argv, int *arg9) {
    g_host = argv[1]; g_port = atoi(argv[2]); g_path = argv[3]; g_mac = argv[4]; g_n = atoi(argv[5]);
    for (char *q = argv[6]; *q && g_npids < 16; ) { g_pids[g_npids++] = atoi(q); q = strchr(q, ','); if (!q) break; q++; }
    const char *out = argv[7];
    if (argc > 8) g_threads = atoi(argv[8]);
    if (argc > 9) *arg9 = atoi(argv[9]);
    if (argc > 10) g_timeout = atoi(argv[10]);
    sem_init(&g_settled, 0, 0);   /* before any worker starts */
    return out;
}

typedef struct { int first, count, index; } range_t;   /* a worker thread's share, and its number */

/* ---------- clocks, the server's RSS and CPU */

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }
static double mono(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double self_cpu_s(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static long rss_kb(int pid, const char *key) {
    char p[64], line[256]; snprintf(p, sizeof p, "/proc/%d/status", pid);
    FILE *f = fopen(p, "r"); if (!f) return -1;
    long v = -1; size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) if (!strncmp(line, key, kl) && line[kl] == ':') { v = atol(line + kl + 1); break; }
    fclose(f); return v;
}

/* CPU time of a process in ns: the sum over its threads of /proc/PID/task/TID/schedstat's first field
 * (time on a CPU, ns precision; /proc/PID/stat's utime + stime count 10 ms ticks, too coarse for a
 * fan-out of 30-60 ms). -1 when the process cannot be read. */
static long long cpu_ns(int pid) {
    char p[64]; snprintf(p, sizeof p, "/proc/%d/task", pid);
    DIR *d = opendir(p); if (!d) return -1;
    long long sum = 0; struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char q[320]; snprintf(q, sizeof q, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(q, "r"); if (!f) continue;   /* a thread that just ended */
        long long ns = 0; if (fscanf(f, "%lld", &ns) == 1) sum += ns;
        fclose(f);
    }
    closedir(d); return sum;
}

/* Major page faults of a process (/proc/PID/stat field 12): code or file pages read back from disk,
 * e.g. after this VM's DAMON reclaim (kdamond, pageout of memory unused for 60 s) dropped them.
 * -1 when the process cannot be read. */
static long majflt(int pid) {
    char p[64], b[1024]; snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r"); if (!f) return -1;
    size_t n = fread(b, 1, sizeof b - 1, f); fclose(f); b[n] = 0;
    char *q = strrchr(b, ')'); if (!q) return -1;
    long v = 0; int field = 2;
    for (char *tok = strtok(q + 1, " "); tok; tok = strtok(NULL, " ")) if (++field == 12) { v = atol(tok); break; }
    return v;
}

/* summed over the server's processes; -1 when one of them cannot be read */
static long rss_all(const char *key) { long s = 0; for (int i = 0; i < g_npids; i++) { long v = rss_kb(g_pids[i], key); if (v < 0) return -1; s += v; } return s; }
static long majflt_all(void) { long s = 0; for (int i = 0; i < g_npids; i++) { long v = majflt(g_pids[i]); if (v < 0) return -1; s += v; } return s; }
static long self_majflt(void) { struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_majflt; }
static long long cpu_ns_all(void) { long long s = 0; for (int i = 0; i < g_npids; i++) { long long v = cpu_ns(g_pids[i]); if (v < 0) return -1; s += v; } return s; }

/* ---------- TCP and TLS */

static void tls_init(long mode, const unsigned char *alpn, unsigned alpnlen) {
    g_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(g_ctx, mode);
    SSL_CTX_set_alpn_protos(g_ctx, alpn, alpnlen);
}

/* Starts a non-blocking TCP connection (TCP_NODELAY) to HOST:PORT: its fd, or -1 (on stderr, and
 * *why: "socket" or "connect failed"). */
static int tcp_connect(const char **why) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(g_port) };
    inet_pton(AF_INET, g_host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { fprintf(stderr, "socket: %s\n", strerror(errno)); *why = "socket"; return -1; }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        fprintf(stderr, "connect: %s\n", strerror(errno)); close(fd); *why = "connect failed"; return -1;
    }
    return fd;
}

/* The connect under way on fd has ended: a client SSL on it, or NULL if it failed (on stderr). */
static SSL *tls_new(int fd, int idx) {
    int err = 0; socklen_t l = sizeof err; getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) { fprintf(stderr, "connect %d: %s\n", idx, strerror(err)); return NULL; }
    SSL *ssl = SSL_new(g_ctx); SSL_set_fd(ssl, fd); SSL_set_connect_state(ssl);
    return ssl;
}

/* One step of the client handshake: 1 when done; 0 while it waits (*events: the epoll events to wait
 * for); -1 when it failed (*err: SSL_get_error's code; the caller reports it with tls_failed()). */
static int tls_handshake(SSL *ssl, uint32_t *events, int *err) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) return 1;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) { *events = EPOLLIN; return 0; }
    if (e == SSL_ERROR_WANT_WRITE) { *events = EPOLLIN | EPOLLOUT; return 0; }
    *err = e; return -1;
}

static void tls_failed(int idx, int err) { fprintf(stderr, "handshake %d failed: %d\n", idx, err); ERR_print_errors_fp(stderr); }

/* ---------- WebSocket (RFC 6455, client side), whatever carries the bytes */

typedef struct {
    unsigned char *buf;            /* received bytes not yet parsed (an incomplete frame) */
    size_t len, cap;
    unsigned char *msg;            /* text message being assembled (fragments) */
    size_t msglen;
    int64_t first_ns, terminal_ns; /* receipt times (CLOCK_REALTIME) of the first and the SUCCEEDED message */
    int nmsgs, close_code, last_bytes, first_succeeded, close_pending;
} ws_t;

static ws_t *ws_of(int i);
static void ws_pong(void *owner, const unsigned char *payload, size_t n);

#define WS_CONTROL_MAX (6 + 125)   /* a masked client control frame */

/* A masked client control frame into o (WS_CONTROL_MAX bytes); returns its length. */
static size_t ws_control_frame(unsigned char *o, int opcode, const unsigned char *payload, size_t n) {
    if (n > 125) n = 125;
    o[0] = 0x80 | opcode; o[1] = 0x80 | (unsigned char)n;
    static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    memcpy(o + 2, mask, 4);
    for (size_t i = 0; i < n; i++) o[6 + i] = payload[i] ^ mask[i & 3];
    return 6 + n;
}

/* The reply to the server's close frame (its code echoed; none if it had none) into o. */
static size_t ws_close_frame(const ws_t *w, unsigned char *o) {
    unsigned char code[2] = { (unsigned char)(w->close_code >> 8), (unsigned char)w->close_code };
    return ws_control_frame(o, 0x8, code, w->close_code == 1005 ? 0 : 2);
}

/* A complete message received at t; the terminal one is the first that carries "status":"SUCCEEDED". */
static void ws_message(ws_t *w, const unsigned char *m, size_t n, int64_t t) {
    w->nmsgs++; w->last_bytes = (int)n;
    int succeeded = memmem(m, n, "\"status\":\"SUCCEEDED\"", 20) != NULL;
    if (w->nmsgs == 1) { w->first_ns = t; w->first_succeeded = succeeded; atomic_fetch_add(&g_attached, 1); }
    if (succeeded && !w->terminal_ns) {
        w->terminal_ns = t;
        if (atomic_fetch_add(&g_terminal, 1) == 0) g_cpu_first_terminal = self_cpu_s();   /* read by main after g_settled */
        settle_progress();
    }
}

/* Parses the complete frames of d[0, n) received at t (server frames unmasked, continuation frames
 * assembled, pings handed to ws_pong(owner, ...)); *used = bytes consumed. Returns -1 on a protocol
 * error, 1 at a close frame (w->close_code set; its reply waits for the caller), 0 otherwise. */
static int ws_parse_frames(ws_t *w, const unsigned char *d, size_t n, int64_t t, size_t *used, void *owner) {
    size_t off = 0; int rv = 0;
    while (n - off >= 2) {
        const unsigned char *p = d + off;
        int fin = p[0] & 0x80, op = p[0] & 0x0f, masked = p[1] & 0x80;
        uint64_t plen = p[1] & 0x7f; size_t h = 2;
        if (masked) { rv = -1; break; }
        if (plen == 126) { if (n - off < 4) break; plen = (p[2] << 8) | p[3]; h = 4; }
        else if (plen == 127) { if (n - off < 10) break; plen = 0; for (int i = 0; i < 8; i++) plen = (plen << 8) | p[2 + i]; h = 10; }
        if (n - off < h + plen) break;
        const unsigned char *pl = p + h;
        off += h + plen;
        if (op == 0x1 || op == 0x0 || op == 0x2) {
            if (fin && w->msglen == 0) ws_message(w, pl, plen, t);
            else {
                w->msg = realloc(w->msg, w->msglen + plen); memcpy(w->msg + w->msglen, pl, plen); w->msglen += plen;
                if (fin) { ws_message(w, w->msg, w->msglen, t); free(w->msg); w->msg = NULL; w->msglen = 0; }
            }
        } else if (op == 0x9) {
            ws_pong(owner, pl, plen);
        } else if (op == 0x8) {
            w->close_code = plen >= 2 ? (pl[0] << 8) | pl[1] : 1005;
            rv = 1; break;
        }
    }
    *used = off; return rv;
}

/* Buffers for incomplete frames, WS_BUF bytes, recycled per thread. From malloc, the heap grew a page at
 * a time inside the window measured: a frame cut by a TLS record boundary (one in ~5) took a fresh
 * 4 KiB buffer, and the buffer freed by the previous one had been split by a small allocation in
 * between (740 such growths, each an mprotect and a page fault, in the 50 ms of one fan-out; session 22). */
#define WS_BUF 4096
static __thread unsigned char *t_spare[64];
static __thread int t_nspare;

static void ws_buf_release(ws_t *w) {
    if (!w->buf) return;
    if (w->cap == WS_BUF && t_nspare < 64) t_spare[t_nspare++] = w->buf; else free(w->buf);
    w->buf = NULL; w->len = w->cap = 0;
}

static void ws_append(ws_t *w, const unsigned char *d, size_t n) {
    if (!w->buf && n <= WS_BUF && t_nspare > 0) { w->buf = t_spare[--t_nspare]; w->cap = WS_BUF; }
    if (w->len + n > w->cap) { size_t nc = w->cap ? w->cap * 2 : WS_BUF; while (nc < w->len + n) nc *= 2; w->buf = realloc(w->buf, nc); w->cap = nc; }
    memcpy(w->buf + w->len, d, n); w->len += n;
}

/* Drops the first `used` bytes of w->buf (parsed); a buffer left empty goes back at once. */
static void ws_consume(ws_t *w, size_t used) {
    if (used) { memmove(w->buf, w->buf + used, w->len - used); w->len -= used; }
    if (w->len == 0) ws_buf_release(w);
}

/* When the transport ends the stream: a failure unless it had its close frame or its terminal message
 * (lnd's proxy drops the connection after the terminal message, without a close frame: 1006). */
static int ws_ended_early(const ws_t *w) { return w->close_code == 0 && w->terminal_ns == 0; }

/* The stream is finished or failed: counted, its buffers freed. */
static void ws_end(ws_t *w, int failed) {
    if (failed) { atomic_fetch_add(&g_failed, 1); settle_progress(); }
    else atomic_fetch_add(&g_finished, 1);
    ws_buf_release(w);
    free(w->msg); w->msg = NULL; w->msglen = 0;
}

/* ---------- main's phases */

/* From the start of the worker threads (at t0; server RSS rss0 before) until every stream is finished
 * or failed (or TIMEOUT_S): the attach phase, RSS then and 2 s later, the settle phase (server and client
 * CPU from ready to the last terminal message), then g_release: the close frames are answered. */
static void run_phases(double t0, long rss0) {
    /* attach phase */
    while (atomic_load(&g_attached) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) usleep(20000);
    double attach_s = mono() - t0;
    long rss1 = rss_all("VmRSS");
    int early = 0; for (int i = 0; i < g_n; i++) if (ws_of(i)->nmsgs > 0 && ws_of(i)->first_succeeded) early++;
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
    long long ns0 = cpu_ns_all(); double me0 = self_cpu_s(); long mf0 = majflt_all(), mmf0 = self_majflt();
    while (atomic_load(&g_terminal) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) {
        struct timespec d; clock_gettime(CLOCK_REALTIME, &d); d.tv_sec += 1;   /* re-checks the timeout each second */
        sem_timedwait(&g_settled, &d);
    }
    long long ns1 = cpu_ns_all(); double me1 = self_cpu_s(); long mf1 = majflt_all(), mmf1 = self_majflt();
    printf("server_cpu_fanout_s %.4f\nclient_cpu_fanout_s %.4f\nclient_cpu_burst_s %.4f\n", (ns1 - ns0) / 1e9, me1 - me0,
           g_cpu_first_terminal > 0 ? me1 - g_cpu_first_terminal : 0.0);
    printf("server_majflt_fanout %ld\nclient_majflt_fanout %ld\n", mf1 - mf0, mmf1 - mmf0);
    fflush(stdout);
    atomic_store(&g_release, 1);   /* now answer the close frames */
    while (atomic_load(&g_finished) + atomic_load(&g_failed) < g_n && mono() - t0 < g_timeout) usleep(20000);
}

/* Once the threads have stopped: per stream a TSV line to OUT (index, first_ns, terminal_ns, messages,
 * close code, bytes of the last message), and the closing `key value` lines. */
static void write_results(const char *out, double t0) {
    FILE *f = fopen(out, "w");
    int terminal = 0, closed1000 = 0;
    for (int i = 0; i < g_n; i++) {
        ws_t *w = ws_of(i);
        if (w->terminal_ns) terminal++;
        if (w->close_code == 1000) closed1000++;
        fprintf(f, "%d\t%lld\t%lld\t%d\t%d\t%d\n", i, (long long)w->first_ns, (long long)w->terminal_ns, w->nmsgs, w->close_code, w->last_bytes);
    }
    fclose(f);
    printf("terminal %d\nclosed_1000 %d\nfailed %d\ntotal_s %.2f\n", terminal, closed1000, atomic_load(&g_failed), mono() - t0);
}
