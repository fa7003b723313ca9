/* How WebSocketServerFrame should hold its wslay frame context (issue 13 point 1): one made and freed
 * per frame built, or one per thread kept for reuse. Builds N server frames (fin, unmasked) of SIZE
 * payload bytes through wslay_frame_send into a growing buffer both ways, REPS rounds interleaved;
 * prints the median ns per frame of each and the load average.
 *   cc -O2 -o wslaysend Benchmarks/rest/wslaysend.c -lwslay && ./wslaysend [N] [SIZE] [REPS] [per-build|reuse]
 * With a 4th argument only that way runs once (for valgrind --tool=callgrind: instructions per frame). */
#include <wslay/wslay.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sink { unsigned char *buf; size_t len, cap; };

static ssize_t append(const uint8_t *data, size_t len, int flags, void *user) {
  (void)flags;
  struct sink *s = user;
  if (s->len + len > s->cap) { s->cap = (s->len + len) * 2; s->buf = realloc(s->buf, s->cap); }
  memcpy(s->buf + s->len, data, len); s->len += len;
  return (ssize_t)len;
}

static const struct wslay_frame_callbacks cbs = { append, NULL, NULL };

static void frame(wslay_frame_context_ptr ctx, const uint8_t *p, size_t n) {
  struct wslay_frame_iocb iocb = { 1, 0, WSLAY_TEXT_FRAME, n, 0, p, n };
  if (wslay_frame_send(ctx, &iocb) != (ssize_t)n) { fprintf(stderr, "send failed\n"); exit(1); }
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static double run(int reuse, long n, const uint8_t *p, size_t size, struct sink *s) {
  wslay_frame_context_ptr ctx = NULL;
  double t0 = now();
  if (reuse) wslay_frame_context_init(&ctx, &cbs, s);
  for (long i = 0; i < n; i++) {
    s->len = 0;   /* each frame is its own array in the product; the sink is reused here for both ways */
    if (!reuse) wslay_frame_context_init(&ctx, &cbs, s);
    frame(ctx, p, size);
    if (!reuse) wslay_frame_context_free(ctx);
  }
  if (reuse) wslay_frame_context_free(ctx);
  return (now() - t0) / n;
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 2012;
  int reps = argc > 3 ? atoi(argv[3]) : 5;
  uint8_t *p = malloc(size); memset(p, 'x', size);
  struct sink s = { malloc(size + 16), 0, size + 16 };
  if (argc > 4) { printf("%s: %.1f ns/frame\n", argv[4], run(strcmp(argv[4], "reuse") == 0, n, p, size, &s)); return 0; }
  double a[64], b[64];
  for (int r = 0; r < reps && r < 64; r++) { a[r] = run(0, n, p, size, &s); b[r] = run(1, n, p, size, &s); }
  qsort(a, reps, sizeof a[0], cmp); qsort(b, reps, sizeof b[0], cmp);
  double l; FILE *f = fopen("/proc/loadavg", "r"); if (!f || fscanf(f, "%lf", &l) != 1) l = -1; if (f) fclose(f);
  printf("%ld frames of %zu B, %d rounds: per-build context %.1f ns/frame, reused context %.1f ns/frame (median; ratio %.2fx), load %.2f\n",
         n, size, reps, a[reps / 2], b[reps / 2], a[reps / 2] / b[reps / 2], l);
  return 0;
}
