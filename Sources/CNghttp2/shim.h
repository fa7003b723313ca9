#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <stdint.h>

/* epoll_event is a packed struct on x86_64, which Swift cannot field-access reliably.
   These wrappers keep the packed layout on the C side. Used only by Transport's EventLoop. */
static inline int pt_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
static inline int pt_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline int pt_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev; ev.events = events; ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
/* Waits and unpacks up to `max` events into two parallel arrays. */
static inline int pt_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; events[i] = evs[i].events; }
    return n;
}
static const uint32_t PT_EPOLLIN = EPOLLIN;
static const uint32_t PT_EPOLLOUT = EPOLLOUT;
static const uint32_t PT_EPOLLERR = EPOLLERR;
static const uint32_t PT_EPOLLHUP = EPOLLHUP;
static const uint32_t PT_EPOLLRDHUP = EPOLLRDHUP;
static const int PT_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int PT_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int PT_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
/* Number of CPUs in this process's affinity mask (honours taskset), or 0 on error. */
static inline int pt_affinity_cpu_count(void) {
    cpu_set_t set;
    unsigned char *p = (unsigned char *)&set;
    for (size_t i = 0; i < sizeof set; i++) p[i] = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int n = 0;
    for (size_t i = 0; i < sizeof set; i++) n += __builtin_popcount(p[i]);
    return n;
}
#include <sys/socket.h>
/* accept4 is a GNU extension not visible to Swift's Glibc module. */
static inline int pt_accept4_nonblock(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
