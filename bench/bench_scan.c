/*
 * bench_scan.c - throughput of the scan kernels of every variant this CPU
 * runs, over resident anonymous memory: the memory-bandwidth ceiling that
 * file scans are measured against.
 *
 *   bench_scan [--mib N] [--runs N] [--hot-kib N] [--case TEXT] [--wall]
 *
 * --case runs only the cases whose name contains TEXT; MMF_SCAN_ISA does
 * not matter (every variant is measured side by side).
 * The buffer (default 1 GiB) holds random text: lines of 0-127 letters and
 * spaces, and a planted rare needle about every MiB. It is written before
 * timing, so every page is resident, and asked for transparent huge pages.
 * Each case runs --runs times (default 7) per variant, the variants
 * interleaved round by round so that drift in the machine hits all alike;
 * the table shows the median GB/s (10^9 bytes per second). A second table
 * repeats the cases over the first --hot-kib KiB (default 256, L2 size)
 * many times: the kernels' own speed when memory is not the limit.
 *
 * Time is the CPU time of the measuring thread, so that other processes
 * taking the core do not count (on a quiet machine it equals wall time);
 * --wall measures wall-clock time instead.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* MAP_ANONYMOUS, MADV_HUGEPAGE, memmem */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "scan/scan.h"

#define MAX_RUNS 101
#define NEEDLE "mmf-needle"
#define ABSENT "zqxjkvbw"

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static clockid_t clock_id = CLOCK_THREAD_CPUTIME_ID;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Lines of 0-127 bytes of lowercase letters and spaces. */
static void fill_text(unsigned char *p, size_t n) {
  static const char alphabet[32] = "abcdefghijklmnopqrstuvwxyz      ";
  size_t i = 0;
  while (i < n) {
    uint64_t r = rnd();
    size_t len = (size_t)(r & 127);
    for (size_t j = 0; j < len && i < n; j++) {
      if (j % 12 == 0)
        r = rnd();
      p[i++] = (unsigned char)alphabet[r & 31];
      r >>= 5;
    }
    if (i < n)
      p[i++] = '\n';
  }
  for (size_t at = 4096; at + sizeof NEEDLE < n; at += (1u << 20) + 4093)
    memcpy(p + at, NEEDLE, sizeof NEEDLE - 1);
}

/* ---- Cases ------------------------------------------------------------- */

typedef struct scan_case {
  const char *name;
  /* Scan [p, p+n) with k (the peers ignore it); returns a checksum. */
  uint64_t (*run)(const mmf__scan_kernels *k, const unsigned char *p, size_t n);
  int peer; /* libc, not per variant */
} scan_case;

static uint64_t run_count_nl(const mmf__scan_kernels *k, const unsigned char *p,
                             size_t n) {
  return k->count_byte(p, n, '\n');
}

static uint64_t run_find_byte(const mmf__scan_kernels *k,
                              const unsigned char *p, size_t n) {
  return k->find_byte(p, n, 0x01);
}

static uint64_t run_count_needle(const mmf__scan_kernels *k,
                                 const unsigned char *p, size_t n) {
  return k->count_str(p, n, (const unsigned char *)NEEDLE, sizeof NEEDLE - 1);
}

static uint64_t run_count_error(const mmf__scan_kernels *k,
                                const unsigned char *p, size_t n) {
  return k->count_str(p, n, (const unsigned char *)"error", 5);
}

static uint64_t run_find_absent(const mmf__scan_kernels *k,
                                const unsigned char *p, size_t n) {
  return k->find(p, n, (const unsigned char *)ABSENT, sizeof ABSENT - 1);
}

/* The core of a line iterator: every line's end, in batches. */
static uint64_t run_positions(const mmf__scan_kernels *k,
                              const unsigned char *p, size_t n) {
  uint32_t pos[1024];
  uint64_t sum = 0;
  size_t off = 0;
  while (off < n) {
    size_t scanned,
        got = k->positions(p + off, n - off, '\n', pos, 1024, &scanned);
    for (size_t t = 0; t < got; t++)
      sum += pos[t];
    off += scanned;
  }
  return sum;
}

static uint64_t run_memchr_lines(const mmf__scan_kernels *k,
                                 const unsigned char *p, size_t n) {
  const unsigned char *end = p + n, *q;
  uint64_t lines = 0;
  (void)k;
  while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    lines++;
    p = q + 1;
  }
  return lines;
}

static uint64_t run_memmem_absent(const mmf__scan_kernels *k,
                                  const unsigned char *p, size_t n) {
  (void)k;
  return memmem(p, n, ABSENT, sizeof ABSENT - 1) != NULL;
}

/* Plain 64-bit loads, XOR-folded: what reading the bytes costs at all. */
static uint64_t run_read(const mmf__scan_kernels *k, const unsigned char *p,
                         size_t n) {
  uint64_t a[8] = {0}, w;
  size_t i = 0;
  (void)k;
  for (; n - i >= 64; i += 64)
    for (int j = 0; j < 8; j++) {
      memcpy(&w, p + i + 8 * (size_t)j, 8);
      a[j] ^= w;
    }
  return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

static const scan_case cases[] = {
    {"count '\\n'", run_count_nl, 0},
    {"find_byte absent", run_find_byte, 0},
    {"count \"" NEEDLE "\"", run_count_needle, 0},
    {"count \"error\"", run_count_error, 0},
    {"find absent 8B", run_find_absent, 0},
    {"positions '\\n'", run_positions, 0},
    {"libc memchr/line", run_memchr_lines, 1},
    {"libc memmem absent", run_memmem_absent, 1},
    {"read 64-bit words", run_read, 1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static volatile uint64_t sink;

/* GB/s of case c with kernels k over [p, p+n), repeated reps times (for
 * cache-resident sizes). */
static double measure(const scan_case *c, const mmf__scan_kernels *k,
                      const unsigned char *p, size_t n, int reps) {
  double t0 = now();
  for (int r = 0; r < reps; r++)
    sink += c->run(k, p, n);
  return (double)n * reps / (now() - t0) / 1e9;
}

static const char *only_case;

static void table(const char *title, const mmf__scan_kernels **ks, int nk,
                  const unsigned char *p, size_t n, int reps, int runs) {
  static double samples[N_CASES][MMF__SCAN_ISA_COUNT][MAX_RUNS];
  printf("\n%s\n%-22s", title, "GB/s (median)");
  for (int v = 0; v < nk; v++)
    printf("%10s", ks[v]->name);
  printf("\n");
  for (size_t c = 0; c < N_CASES; c++) {
    const int nv = cases[c].peer ? 1 : nk;
    if (only_case && !strstr(cases[c].name, only_case))
      continue;
    /* One warm-up pass, then the variants round by round. */
    for (int v = 0; v < nv; v++)
      sink += cases[c].run(ks[v], p, n);
    for (int run = 0; run < runs; run++)
      for (int v = 0; v < nv; v++)
        samples[c][v][run] = measure(&cases[c], ks[v], p, n, reps);
    printf("%-22s", cases[c].name);
    for (int v = 0; v < nv; v++) {
      qsort(samples[c][v], (size_t)runs, sizeof(double), cmp_double);
      printf("%10.2f", samples[c][v][runs / 2]);
    }
    printf("\n");
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  size_t mib = 1024, hot_kib = 256;
  int runs = 7;
  const mmf__scan_kernels *ks[MMF__SCAN_ISA_COUNT];
  int nk = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
      mib = (size_t)strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--hot-kib") == 0 && i + 1 < argc)
      hot_kib = (size_t)strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
      only_case = argv[++i];
    else if (strcmp(argv[i], "--wall") == 0)
      clock_id = CLOCK_MONOTONIC;
    else {
      fprintf(stderr,
              "usage: %s [--mib N] [--runs N] [--hot-kib N] [--case TEXT] "
              "[--wall]\n",
              argv[0]);
      return 2;
    }
  }
  if (runs < 1 || runs > MAX_RUNS || mib == 0 || hot_kib == 0 ||
      hot_kib > mib * 1024) {
    fprintf(stderr, "bench_scan: bad --mib, --runs or --hot-kib\n");
    return 2;
  }
  for (int i = 0; i < MMF__SCAN_ISA_COUNT; i++)
    if ((ks[nk] = mmf__scan_kernels_for((mmf__scan_isa)i)) != NULL)
      nk++;

  size_t n = mib << 20;
  unsigned char *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("bench_scan: mmap");
    return 1;
  }
#ifdef MADV_HUGEPAGE
  madvise(p, n, MADV_HUGEPAGE);
#endif
  fill_text(p, n);

  /* Every variant must agree before its speed means anything. */
  for (size_t c = 0; c < N_CASES; c++) {
    if (cases[c].peer || (only_case && !strstr(cases[c].name, only_case)))
      continue;
    uint64_t want = cases[c].run(ks[0], p, n);
    for (int v = 1; v < nk; v++)
      if (cases[c].run(ks[v], p, n) != want) {
        fprintf(stderr, "bench_scan: %s disagrees on %s\n", ks[v]->name,
                cases[c].name);
        return 1;
      }
  }
  printf("bench_scan: %zu MiB of text, %llu lines, %d runs per cell, %s\n", mib,
         (unsigned long long)ks[nk - 1]->count_byte(p, n, '\n'), runs,
         clock_id == CLOCK_MONOTONIC ? "wall time" : "thread CPU time");

  char title[96];
  snprintf(title, sizeof title, "Resident %zu MiB (memory bandwidth)", mib);
  table(title, ks, nk, p, n, 1, runs);
  snprintf(title, sizeof title, "Cache-resident %zu KiB, repeated", hot_kib);
  {
    size_t hn = hot_kib << 10;
    int reps = (int)((size_t)(256u << 20) / hn);
    table(title, ks, nk, p, hn, reps < 1 ? 1 : reps, runs);
  }
  munmap(p, n);
  return 0;
}
