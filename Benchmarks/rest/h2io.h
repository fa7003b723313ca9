/*
 * h2io.h: the connection I/O the C HTTP/2 load clients share (Benchmarks/rest/wsbench_h2.c and
 * Benchmarks/streams/grpcfan.c), included by exactly one .c per program (static definitions only):
 * one connection's socket, TLS and nghttp2 objects with its epoll interest; nghttp2's output
 * coalesced into one buffer and written with SSL_write; the release of all of it. The including .c
 * includes <nghttp2/nghttp2.h>, <openssl/ssl.h>, <sys/epoll.h>, <stdlib.h>, <string.h> and
 * <unistd.h> first.
 */
#define H2IO_FILL 65536   /* coalesce nghttp2 output up to this before SSL_write */

typedef struct {
    int fd, ep;               /* the socket (-1: none) and its epoll instance */
    uint32_t events;          /* the epoll interest registered for fd (oneshot: to re-arm with) */
    int oneshot;              /* fd is registered EPOLLONESHOT on an epoll instance several threads
                                 wait on: h2io_set_events only records the interest, and the thread
                                 that handled the connection re-arms it (h2io_rearm) */
    SSL *ssl;
    nghttp2_session *sess;
    unsigned char *wbuf;      /* nghttp2 output not yet written */
    size_t wlen, woff, wcap;
} h2io_t;

/* Sets fd's epoll interest to e (owner: the epoll data pointer, the connection). */
static void h2io_set_events(h2io_t *io, void *owner, uint32_t e) {
    if (io->oneshot) { io->events = e; return; }
    if (e == io->events) return;
    struct epoll_event ev = { .events = e, .data.ptr = owner };
    epoll_ctl(io->ep, EPOLL_CTL_MOD, io->fd, &ev); io->events = e;
}

/* Oneshot: hands the connection back to the threads sharing the epoll instance, with the interest
 * its handling recorded. */
static inline void h2io_rearm(h2io_t *io, void *owner) {
    struct epoll_event ev = { .events = io->events | EPOLLONESHOT, .data.ptr = owner };
    epoll_ctl(io->ep, EPOLL_CTL_MOD, io->fd, &ev);
}

/* Writes what nghttp2 has to send: coalesced into wbuf, then SSL_write; waits for EPOLLOUT while
 * the socket is full. 0, or -1 with *why set ("TLS write error" or nghttp2's error text). */
static int h2io_flush(h2io_t *io, void *owner, const char **why) {
    for (;;) {
        if (io->woff < io->wlen) {
            int r = SSL_write(io->ssl, io->wbuf + io->woff, (int)(io->wlen - io->woff));
            if (r <= 0) {
                int e = SSL_get_error(io->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) { h2io_set_events(io, owner, EPOLLIN | EPOLLOUT); return 0; }
                *why = "TLS write error"; return -1;
            }
            io->woff += r;
            if (io->woff == io->wlen) io->woff = io->wlen = 0;
            continue;
        }
        while (io->wlen < H2IO_FILL) {
            const uint8_t *d; ssize_t n = nghttp2_session_mem_send(io->sess, &d);
            if (n < 0) { *why = nghttp2_strerror((int)n); return -1; }
            if (n == 0) break;
            if (io->wlen + n > io->wcap) {
                size_t nc = io->wcap ? io->wcap : 16384;
                while (nc < io->wlen + n) nc *= 2;
                io->wbuf = realloc(io->wbuf, nc); io->wcap = nc;
            }
            memcpy(io->wbuf + io->wlen, d, n); io->wlen += n;
        }
        if (io->wlen == 0) { h2io_set_events(io, owner, EPOLLIN); return 0; }
    }
}

/* Releases the nghttp2 session, the TLS object, the socket (leaving epoll) and the buffer. */
static void h2io_release(h2io_t *io) {
    if (io->sess) { nghttp2_session_del(io->sess); io->sess = NULL; }
    if (io->ssl) { SSL_free(io->ssl); io->ssl = NULL; }
    if (io->fd >= 0) { epoll_ctl(io->ep, EPOLL_CTL_DEL, io->fd, NULL); close(io->fd); io->fd = -1; }
    free(io->wbuf); io->wbuf = NULL; io->wlen = io->woff = io->wcap = 0;
}
