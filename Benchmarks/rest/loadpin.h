/*
 * loadpin.h: where a load client's threads run (grpcfan.c, wsbench.c, wsbench_h2.c).
 *
 * On these 2 shared cores the client runs beside the servers it measures. Linux wakes a thread
 * near the thread that woke it (here the server loop writing to it), so both client threads can
 * end up queued on one core, and the balancer leaves them there while they are cache-hot: a scheduler
 * trace of an R = 3 fan-out (Benchmarks/pg/RESULTS.md, session 16) shows one core idle for 8 ms
 * at the end of the burst while both client threads waited their turn on the other. That tail is
 * the client's scheduling, not the servers' delivery. So client thread T is pinned to core
 * T mod (online cores); LOADCLIENT_PIN=0 leaves the threads to the scheduler.
 */
#ifndef LOADPIN_H
#define LOADPIN_H
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void loadpin_thread(int t) {
    const char *e = getenv("LOADCLIENT_PIN");
    if (e && strcmp(e, "0") == 0) return;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 2) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(t % n, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
#endif
