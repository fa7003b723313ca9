/*
 * tcpfloor.c: the floor of issue 13 point 9(b) over HTTP/1.1 on this machine, with no server in it.
 *
 * Point 9(b) asks for one update delivered to 10,000 WebSockets with p99 <= 30 ms. Over HTTP/1.1
 * each WebSocket is its own TCP connection. This program measures what the kernel and the cores
 * alone cost for that delivery: a sender process holds N accepted loopback connections (two
 * threads, one per core, each half of them), and at t0 (CLOCK_REALTIME) writes to each one
 * message of BYTES bytes followed by a 4-byte WebSocket close frame (code 1000), one send() per
 * connection, as paytrackd writes a message and its close together. A receiver process (two
 * threads on one shared epoll instance, EPOLLONESHOT, pinned one per core: the load clients'
 * setup, loadpin.h) records when each connection has all its bytes. It prints p50/p99/max of
 * receipt - t0. No WebSocket parsing, no JSON, no payment engine: what is left is the socket
 * path, the scheduler, and (with --tls) TLS 1.3 AES-128-GCM records through OpenSSL.
 *
 *   cc -O2 -o tcpfloor tcpfloor.c -lssl -lcrypto -lpthread
 *   ./tcpfloor [--conns 10000] [--bytes 3400] [--rounds 5] [--tls CERT KEY]
 *
 * Each round uses fresh connections. Environment, for taking the cost apart: FLOOR_SENDERS=1 sends
 * from one thread instead of two; FLOOR_RECEIVE_AFTER=1 starts the receiver only after the last
 * send (the sends alone, no reader to wake). `Benchmarks/rest/run b` runs one plain-TCP round after
 * each round of its peers (FLOOR_B). Not built by CI; RESULTS.md run 29 has its figures.
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "loadpin.h"

static int conns = 10000, bytes = 3400, rounds = 5;
static const char *cert, *key;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(2); }

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- sender ---- */

struct sender {
    int *fds; SSL **ssl; int from, to, core;
    unsigned char *payload; int len;
    pthread_barrier_t *go;
};

static void *send_all(void *arg) {
    struct sender *s = arg;
    loadpin_thread(s->core);
    pthread_barrier_wait(s->go);
    for (int i = s->from; i < s->to; i++) {
        if (s->ssl) {
            if (SSL_write(s->ssl[i], s->payload, s->len) != s->len) { fprintf(stderr, "SSL_write failed\n"); exit(2); }
        } else if (send(s->fds[i], s->payload, s->len, MSG_NOSIGNAL) != s->len) {
            die("send");
        }
    }
    return NULL;
}

/* Accepts `conns` connections on `lfd` (TLS handshakes in accept order), waits for a byte on
 * `ctl`, then writes t0 to `out` and sends to every connection from two pinned threads. */
static void run_sender(int lfd, int ctl, int out, SSL_CTX *sctx) {
    int *fds = calloc(conns, sizeof *fds);
    SSL **ssl = sctx ? calloc(conns, sizeof *ssl) : NULL;
    for (int i = 0; i < conns; i++) {
        fds[i] = accept(lfd, NULL, NULL);
        if (fds[i] < 0) die("accept");
        set_nodelay(fds[i]);
        if (sctx) {
            ssl[i] = SSL_new(sctx);
            SSL_set_fd(ssl[i], fds[i]);
            if (SSL_accept(ssl[i]) != 1) { ERR_print_errors_fp(stderr); exit(2); }
        }
    }
    int len = bytes + 4;
    unsigned char *payload = malloc(len);
    for (int i = 0; i < bytes; i++) payload[i] = (unsigned char)('a' + i % 26);
    payload[bytes] = 0x88; payload[bytes + 1] = 2; payload[bytes + 2] = 0x03; payload[bytes + 3] = 0xe8;
    pthread_barrier_t go;
    int ns = getenv("FLOOR_SENDERS") && atoi(getenv("FLOOR_SENDERS")) == 1 ? 1 : 2;
    pthread_barrier_init(&go, NULL, ns + 1);
    struct sender s[2];
    pthread_t th[2];
    for (int t = 0; t < ns; t++) {
        s[t] = (struct sender){ fds, ssl, t * conns / ns, (t + 1) * conns / ns, t, payload, len, &go };
        pthread_create(&th[t], NULL, send_all, &s[t]);
    }
    char c;
    if (read(ctl, &c, 1) != 1) die("read ctl");
    int64_t t0 = now_ns();
    pthread_barrier_wait(&go);
    if (write(out, &t0, sizeof t0) != sizeof t0) die("write t0");
    for (int t = 0; t < ns; t++) pthread_join(th[t], NULL);
    int64_t t1 = now_ns();
    if (write(out, &t1, sizeof t1) != sizeof t1) die("write t1");
    if (read(ctl, &c, 1) != 1) die("read ctl");   /* the receiver has everything: close */
    for (int i = 0; i < conns; i++) { if (ssl) SSL_free(ssl[i]); close(fds[i]); }
    _exit(0);
}

/* ---- receiver ---- */

static int ep;
static int *rfds; static SSL **rssl; static int *got; static int64_t *at;
static atomic_int done;

struct receiver { int core; };

static void *receive_all(void *arg) {
    struct receiver *r = arg;
    loadpin_thread(r->core);
    unsigned char buf[16384];
    struct epoll_event ev[64];
    int want = bytes + 4;
    int64_t give_up = now_ns() + 60 * (int64_t)1000000000;
    while (atomic_load(&done) < conns) {
        if (now_ns() > give_up) { fprintf(stderr, "tcpfloor: %d of %d connections complete after 60 s\n", atomic_load(&done), conns); exit(2); }
        int n = epoll_wait(ep, ev, 64, 100);
        for (int k = 0; k < n; k++) {
            int i = (int)ev[k].data.u32;
            for (;;) {
                int m = rssl ? SSL_read(rssl[i], buf, sizeof buf) : (int)recv(rfds[i], buf, sizeof buf, 0);
                if (m > 0) { got[i] += m; if (got[i] >= want) break; continue; }
                break;
            }
            if (got[i] >= want) {
                at[i] = now_ns();
                atomic_fetch_add(&done, 1);
            } else {
                struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = (uint32_t)i };
                epoll_ctl(ep, EPOLL_CTL_MOD, rfds[i], &e);
            }
        }
    }
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void one_round(int round, SSL_CTX *sctx, SSL_CTX *cctx) {
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096) || getsockname(lfd, (struct sockaddr *)&a, &al)) die("listen");
    int ctl[2], out[2];
    if (pipe(ctl) || pipe(out)) die("pipe");
    pid_t pid = fork();
    if (pid == 0) { close(ctl[1]); close(out[0]); run_sender(lfd, ctl[0], out[1], sctx); }
    close(lfd); close(ctl[0]); close(out[1]);

    for (int i = 0; i < conns; i++) {
        rfds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (rfds[i] < 0) die("socket");
        if (connect(rfds[i], (struct sockaddr *)&a, sizeof a)) die("connect");
        set_nodelay(rfds[i]);
        if (cctx) {
            rssl[i] = SSL_new(cctx);
            SSL_set_fd(rssl[i], rfds[i]);
            if (SSL_connect(rssl[i]) != 1) { ERR_print_errors_fp(stderr); exit(2); }
        }
        int fl = 1;
        if (ioctl(rfds[i], FIONBIO, &fl)) die("FIONBIO");
        got[i] = 0; at[i] = 0;
        struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, rfds[i], &e)) die("epoll_ctl");
    }
    atomic_store(&done, 0);
    pthread_t th[2];
    struct receiver r[2] = { { 0 }, { 1 } };
    int late = getenv("FLOOR_RECEIVE_AFTER") != NULL;
    if (!late) for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, receive_all, &r[t]);
    sleep(1);                                 /* both sides settle: no handshake work left */
    if (write(ctl[1], "g", 1) != 1) die("go");
    int64_t t0;
    if (read(out[0], &t0, sizeof t0) != sizeof t0) die("t0");
    int64_t t1;
    if (late) {
        if (read(out[0], &t1, sizeof t1) != sizeof t1) die("t1");
        for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, receive_all, &r[t]);
    }
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    if (!late && read(out[0], &t1, sizeof t1) != sizeof t1) die("t1");
    if (write(ctl[1], "e", 1) != 1) die("end");
    waitpid(pid, NULL, 0);
    int64_t *lat = malloc(conns * sizeof *lat);
    for (int i = 0; i < conns; i++) lat[i] = at[i] - t0;
    qsort(lat, conns, sizeof *lat, cmp64);
    printf("round %d\t%s\tconns %d\tbytes %d\tp50 %.2f ms\tp99 %.2f ms\tmax %.2f ms\tlast send %.2f ms\n", round,
           cctx ? "tls13-aes128gcm" : "tcp", conns, bytes + 4, lat[conns / 2] / 1e6,
           lat[(int)(conns * 0.99) - 1] / 1e6, lat[conns - 1] / 1e6, (t1 - t0) / 1e6);
    fflush(stdout);
    free(lat);
    for (int i = 0; i < conns; i++) {
        epoll_ctl(ep, EPOLL_CTL_DEL, rfds[i], NULL);
        if (rssl) { SSL_free(rssl[i]); rssl[i] = NULL; }
        close(rfds[i]);
    }
    close(ctl[1]); close(out[0]);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--conns") && i + 1 < argc) conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tls") && i + 2 < argc) { cert = argv[++i]; key = argv[++i]; }
        else { fprintf(stderr, "usage: %s [--conns N] [--bytes B] [--rounds R] [--tls CERT KEY]\n", argv[0]); return 2; }
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)conns + 64 > rl.rlim_cur) { fprintf(stderr, "need %d open files, have %ld\n", conns + 64, (long)rl.rlim_cur); return 2; }
    SSL_CTX *sctx = NULL, *cctx = NULL;
    if (cert) {
        sctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
        SSL_CTX_set_ciphersuites(sctx, "TLS_AES_128_GCM_SHA256");
        SSL_CTX_set_num_tickets(sctx, 0);
        /* Freed and reallocated around each record: cheaper here than 10,000 cold 16 KiB write
         * buffers (measured both ways, RESULTS.md run 29). */
        SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS);
        if (SSL_CTX_use_certificate_chain_file(sctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr); return 2;
        }
        cctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
        SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256");
    }
    ep = epoll_create1(0);
    rfds = calloc(conns, sizeof *rfds); got = calloc(conns, sizeof *got); at = calloc(conns, sizeof *at);
    if (cctx) rssl = calloc(conns, sizeof *rssl);
    for (int r = 1; r <= rounds; r++) one_round(r, sctx, cctx);
    return 0;
}
