/*
 * bench_guard.c - what the fault guard costs.
 *
 *   bench_guard [--mib N] [--ops N] [--runs N] [--keep]
 *
 * Works on a hot file of --mib MiB (default 2048) of text, made as
 * $MMF_BENCH_DIR/mmf-bench-guard.dat (default /tmp) unless one of that
 * size is there, and removed afterwards unless --keep.
 *
 *  1. Random 64-byte reads (--ops offsets, default 1,000,000, the same for
 *     every method): mmf_read() against pread() and against memcpy() from
 *     the raw pointer. Goal: mmf_read at least 15x faster than pread.
 *  2. The guard on its own: 8-byte mmf_read() of one hot offset against
 *     memcpy(), and mmf_guard() of an empty function.
 *  3. Sequential mmf_count_byte() over the whole file against the very
 *     loop it runs (mmf__count_byte), called unguarded. Goal: at most 3%
 *     slower.
 *
 * Each method runs --runs times (default 7); the methods are interleaved
 * round by round, in rotating order, so that drift in the machine hits all
 * alike; the tables show medians. Page cache that is idle is evicted on
 * some machines within a minute, so the file is read through the map right
 * before each round, and its residency (mmf_resident) is printed before
 * and after the measurements.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmf.h"
#include "mmf_internal.h"
#include "scan/scan.h"

#define MAX_RUNS 101
#define READ_SIZE 64

static volatile uint64_t sink;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
  double s[MAX_RUNS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- The file -------------------------------------------------------- */

/* Lines of 0-127 lowercase letters. */
static void fill_text(unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t len = (size_t)(rnd() & 127);
    for (size_t j = 0; j < len && i < n; j++)
      p[i++] = (unsigned char)('a' + (rnd() % 26));
    if (i < n)
      p[i++] = '\n';
  }
}

static int make_file(const char *path, uint64_t size) {
  struct stat st;
  size_t chunk = 8u << 20;
  unsigned char *buf;
  int fd;
  if (stat(path, &st) == 0 && (uint64_t)st.st_size == size)
    return 0;
  printf("creating %s (%llu MiB)\n", path, (unsigned long long)(size >> 20));
  fflush(stdout);
  buf = malloc(chunk);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!buf || fd < 0) {
    fprintf(stderr, "bench_guard: %s: %s\n", path, strerror(errno));
    free(buf);
    return -1;
  }
  fill_text(buf, chunk);
  for (uint64_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
    buf[(off / chunk) % chunk] ^= 1; /* not one repeated block */
    if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
      fprintf(stderr, "bench_guard: write %s: %s\n", path, strerror(errno));
      close(fd);
      free(buf);
      return -1;
    }
  }
  close(fd);
  free(buf);
  return 0;
}

/* Read every page through the map, so the file is in the page cache and
 * the map's page tables are filled. */
static void warm(const unsigned char *p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i += 4096)
    s += p[i];
  sink += s;
}

static double resident_pct(mmf_map *m) {
  uint64_t bytes = 0;
  if (mmf_resident(m, 0, 0, &bytes) != 0 || mmf_size(m) == 0)
    return -1;
  return 100.0 * (double)bytes / (double)mmf_size(m);
}

/* ---- Random 64-byte reads --------------------------------------------- */

typedef struct ctx {
  mmf_map *m;
  const unsigned char *data;
  int fd;
  const uint64_t *offs;
  size_t ops;
} ctx;

static double run_mmf_read(const ctx *c) {
  unsigned char buf[READ_SIZE];
  uint64_t s = 0;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    if (mmf_read(c->m, c->offs[i], buf, READ_SIZE) != 0)
      abort();
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

static double run_pread(const ctx *c) {
  unsigned char buf[READ_SIZE];
  uint64_t s = 0;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    if (pread(c->fd, buf, READ_SIZE, (off_t)c->offs[i]) != READ_SIZE)
      abort();
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

static double run_memcpy(const ctx *c) {
  unsigned char buf[READ_SIZE];
  uint64_t s = 0;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    memcpy(buf, c->data + c->offs[i], READ_SIZE);
    /* Keep the copy from being folded into the sum below. */
    __asm__ volatile("" : : "r"(buf) : "memory");
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

/* The same reads, each offset depending on the bytes the previous read
 * returned (times a zero the compiler cannot see): one miss at a time, so
 * the time is the latency of an access rather than the throughput of many
 * overlapped ones. */
static volatile uint64_t opaque_zero;

static double run_mmf_read_dep(const ctx *c) {
  unsigned char buf[READ_SIZE] = {0};
  uint64_t s = 0, zero = opaque_zero;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    if (mmf_read(c->m, c->offs[i] + buf[0] * zero, buf, READ_SIZE) != 0)
      abort();
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

static double run_memcpy_dep(const ctx *c) {
  unsigned char buf[READ_SIZE] = {0};
  uint64_t s = 0, zero = opaque_zero;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    memcpy(buf, c->data + c->offs[i] + buf[0] * zero, READ_SIZE);
    __asm__ volatile("" : : "r"(buf) : "memory");
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

static double run_pread_dep(const ctx *c) {
  unsigned char buf[READ_SIZE] = {0};
  uint64_t s = 0, zero = opaque_zero;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    off_t off = (off_t)(c->offs[i] + buf[0] * zero);
    if (pread(c->fd, buf, READ_SIZE, off) != READ_SIZE)
      abort();
    s += buf[i % READ_SIZE];
  }
  t = now() - t;
  sink += s;
  return t;
}

/* ---- The guard alone --------------------------------------------------- */

static double run_mmf_read_hot(const ctx *c) {
  unsigned char buf[8];
  uint64_t s = 0;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    if (mmf_read(c->m, 4096 + (i & 7), buf, sizeof buf) != 0)
      abort();
    s += buf[0];
  }
  t = now() - t;
  sink += s;
  return t;
}

static double run_memcpy_hot(const ctx *c) {
  unsigned char buf[8];
  uint64_t s = 0;
  double t = now();
  for (size_t i = 0; i < c->ops; i++) {
    memcpy(buf, c->data + 4096 + (i & 7), sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    s += buf[0];
  }
  t = now() - t;
  sink += s;
  return t;
}

static int empty_fn(void *p) {
  (void)p;
  return 0;
}

static double run_guard_empty(const ctx *c) {
  double t = now();
  for (size_t i = 0; i < c->ops; i++)
    if (mmf_guard(c->m, empty_fn, NULL) != 0)
      abort();
  return now() - t;
}

/* ---- Sequential counting ----------------------------------------------- */

static double run_count_guarded(const ctx *c) {
  uint64_t count = 0;
  double t = now();
  if (mmf_count_byte(c->m, 0, 0, '\n', &count) != 0)
    abort();
  t = now() - t;
  sink += count;
  return t;
}

static double run_count_unguarded(const ctx *c) {
  double t = now();
  uint64_t count =
      mmf__count_byte(c->data, mmf_size(c->m), (unsigned char)'\n');
  t = now() - t;
  sink += count;
  return t;
}

/* ---- Driver ------------------------------------------------------------ */

/* CPU time of this thread: unlike the wall clock, it does not count the
 * time other processes held the CPU, which on a shared machine is most of
 * the noise. */
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct method {
  const char *name;
  double (*run)(const ctx *c);
  double t[MAX_RUNS];   /* wall clock, s */
  double cpu[MAX_RUNS]; /* thread CPU time, s */
} method;

/* Run every method `runs` times, interleaved in rotating order, warming
 * the file before each round. */
static void measure(method *ms, int nm, int runs, const ctx *c) {
  for (int r = 0; r < runs; r++) {
    warm(c->data, mmf_size(c->m));
    for (int k = 0; k < nm; k++) {
      method *x = &ms[(r + k) % nm];
      double c0 = cpu_now();
      x->t[r] = x->run(c);
      x->cpu[r] = cpu_now() - c0;
    }
  }
}

/* Median of a[r] / b[r] over the rounds: each round's pair measured back
 * to back, which cancels drift between rounds. */
static double median_ratio(const double *a, const double *b, int runs) {
  double q[MAX_RUNS];
  for (int r = 0; r < runs; r++)
    q[r] = a[r] / b[r];
  return median(q, runs);
}

/* One table: ns per operation (wall and CPU medians) of each method. */
static void print_table(const method *ms, int nm, int runs, double ops) {
  printf("  %-24s %12s %12s\n", "", "wall ns/op", "cpu ns/op");
  for (int k = 0; k < nm; k++)
    printf("  %-24s %12.2f %12.2f\n", ms[k].name,
           median(ms[k].t, runs) * 1e9 / ops,
           median(ms[k].cpu, runs) * 1e9 / ops);
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_guard [--mib N] [--ops N] [--runs N] [--keep]\n");
  exit(2);
}

int main(int argc, char **argv) {
  uint64_t mib = 2048;
  size_t ops = 1000000;
  int runs = 7, keep = 0, rc;
  char path[4096];
  const char *dir = getenv("MMF_BENCH_DIR");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--mib") && i + 1 < argc)
      mib = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
      ops = (size_t)strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--keep"))
      keep = 1;
    else
      usage();
  }
  if (mib < 1 || ops < 1 || runs < 1 || runs > MAX_RUNS)
    usage();
  snprintf(path, sizeof path, "%s/mmf-bench-guard.dat",
           dir && *dir ? dir : "/tmp");
  uint64_t size = mib << 20;
  if (make_file(path, size) != 0)
    return 1;

  ctx c;
  c.m = NULL;
  rc = mmf_open(&c.m, path, MMF_READ, NULL);
  if (rc) {
    fprintf(stderr, "bench_guard: mmf_open %s: %s\n", path, mmf_strerror(rc));
    return 1;
  }
  c.data = mmf_data(c.m);
  c.fd = open(path, O_RDONLY | O_CLOEXEC);
  c.ops = ops;
  uint64_t *offs = malloc(ops * sizeof *offs);
  if (c.fd < 0 || !offs) {
    fprintf(stderr, "bench_guard: %s\n", strerror(errno));
    return 1;
  }
  for (size_t i = 0; i < ops; i++)
    offs[i] = rnd() % (size - READ_SIZE + 1);
  c.offs = offs;

  warm(c.data, mmf_size(c.m));
  printf("file %s: %llu MiB, %.1f%% resident after warming\n", path,
         (unsigned long long)mib, resident_pct(c.m));
  printf("%d runs per method, interleaved; medians\n\n", runs);

  method rnd_ms[6] = {{"mmf_read", run_mmf_read, {0}, {0}},
                      {"pread", run_pread, {0}, {0}},
                      {"memcpy (raw pointer)", run_memcpy, {0}, {0}},
                      {"mmf_read", run_mmf_read_dep, {0}, {0}},
                      {"pread", run_pread_dep, {0}, {0}},
                      {"memcpy (raw pointer)", run_memcpy_dep, {0}, {0}}};
  measure(rnd_ms, 6, runs, &c);
  for (int dep = 0; dep < 2; dep++) {
    const method *x = &rnd_ms[3 * dep];
    printf("random %d-byte reads, %zu offsets over %llu MiB, %s:\n", READ_SIZE,
           ops, (unsigned long long)mib,
           dep ? "each offset depending on the previous read (latency)"
               : "independent (misses overlap)");
    print_table(x, 3, runs, (double)ops);
    printf("  pread / mmf_read: %.1fx wall, %.1fx cpu (goal >= 15x); "
           "mmf_read / raw pointer: %.2fx wall, %.2fx cpu\n\n",
           median_ratio(x[1].t, x[0].t, runs),
           median_ratio(x[1].cpu, x[0].cpu, runs),
           median_ratio(x[0].t, x[2].t, runs),
           median_ratio(x[0].cpu, x[2].cpu, runs));
  }

  method hot_ms[3] = {{"mmf_read (8 B, hot)", run_mmf_read_hot, {0}, {0}},
                      {"memcpy (8 B, hot)", run_memcpy_hot, {0}, {0}},
                      {"mmf_guard(empty fn)", run_guard_empty, {0}, {0}}};
  size_t saved_ops = c.ops;
  c.ops = ops * 10;
  measure(hot_ms, 3, runs, &c);
  printf("the guard alone, %zu calls of one hot offset:\n", c.ops);
  print_table(hot_ms, 3, runs, (double)c.ops);
  printf("\n");
  c.ops = saved_ops;

  method cnt_ms[2] = {{"mmf_count_byte", run_count_guarded, {0}, {0}},
                      {"same loop, unguarded", run_count_unguarded, {0}, {0}}};
  measure(cnt_ms, 2, runs, &c);
  printf("sequential count of '\\n' over %llu MiB:\n", (unsigned long long)mib);
  printf("  %-24s %12s %12s %10s\n", "", "wall ms", "cpu ms", "GB/s");
  for (int k = 0; k < 2; k++) {
    double t = median(cnt_ms[k].t, runs);
    printf("  %-24s %12.1f %12.1f %10.2f\n", cnt_ms[k].name, t * 1e3,
           median(cnt_ms[k].cpu, runs) * 1e3, (double)size / t / 1e9);
  }
  double rw = median_ratio(cnt_ms[0].t, cnt_ms[1].t, runs);
  double rc2 = median_ratio(cnt_ms[0].cpu, cnt_ms[1].cpu, runs);
  printf("  guarded / unguarded (median of per-round ratios): %.4f wall "
         "(%+.2f%%), %.4f cpu (%+.2f%%); goal <= +3%%\n\n",
         rw, (rw - 1) * 100, rc2, (rc2 - 1) * 100);

  printf("%.1f%% resident after the measurements\n", resident_pct(c.m));
  free(offs);
  close(c.fd);
  mmf_close(c.m);
  if (!keep)
    unlink(path);
  return 0;
}
