/*
 * bench_window.c - the window cursor against a whole-file map: counting
 * '\n' over a hot file (goal: within 1.05x with the default window,
 * 1.1x with 64 MiB windows, the 32-bit default).
 *
 *   bench_window [--file PATH] [--mib N] [--runs N] [--keep]
 *
 * The file (default $TMPDIR/mmf-bench-window.dat, 2048 MiB of random text
 * lines) is created unless it exists with the right size, and removed at
 * the end unless --keep or --file was given. It is read once right before
 * timing, so it is in the page cache (these machines drop idle cache after
 * about 30 s, and every round reads the whole file again, which keeps it
 * hot). Every case counts with the same kernel (the best of src/scan/scan.h)
 * under the same fault guard, so the difference is the mapping strategy:
 *
 *   map            mmf_open of the whole file, one mmf_guard'ed count
 *   window         mmf_window_next spans of the default budget (1 GiB)
 *   window 64M     spans of 64 MiB windows
 *   window \n      default budget, '\n' records (spans end after a line)
 *   window 64M \n  64 MiB windows, '\n' records
 *
 * Each case runs --runs times (default 9), interleaved round by round; the
 * table shows the median, GB/s (10^9 bytes/s), minor faults per run and
 * the ratio to map's median, then the fastest run and its ratio to map's
 * fastest (less disturbed by other load on a shared machine).
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmf.h"
#include "scan/scan.h"

#define MAX_RUNS 101
#define MIB ((uint64_t)1 << 20)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_window: %s: %s (%s)\n", what, mmf_strerror(rc),
          mmf_errname(rc));
  exit(1);
}

/* ---- The file ------------------------------------------------------------ */

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Lines of 0-127 lowercase letters and spaces. */
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
}

static void make_file(const char *path, uint64_t size) {
  struct stat st;
  if (stat(path, &st) == 0 && (uint64_t)st.st_size == size)
    return;
  fprintf(stderr, "bench_window: writing %s (%llu MiB)\n", path,
          (unsigned long long)(size / MIB));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  size_t chunk = (size_t)(8 * MIB);
  unsigned char *buf = malloc(chunk);
  if (!buf)
    exit(1);
  for (uint64_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
    fill_text(buf, n);
    for (size_t done = 0; done < n;) {
      ssize_t w = write(fd, buf + done, n - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        perror("write");
        exit(1);
      }
      done += (size_t)w;
    }
  }
  free(buf);
  close(fd);
}

/* ---- Cases --------------------------------------------------------------- */

typedef struct count_job {
  const unsigned char *p;
  size_t n;
  uint64_t count;
} count_job;

static int count_newlines(void *ctx) {
  count_job *j = ctx;
  j->count += mmf__count_byte(j->p, j->n, '\n');
  return 0;
}

static uint64_t run_map(const char *path) {
  mmf_map *m;
  int rc = mmf_open(&m, path, MMF_READ, NULL);
  if (rc)
    die("mmf_open", rc);
  count_job j = {mmf_data(m), mmf_size(m), 0};
  rc = mmf_guard(m, count_newlines, &j);
  if (rc)
    die("mmf_guard", rc);
  mmf_close(m);
  return j.count;
}

static uint64_t run_window(const char *path, uint64_t budget, int delim) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w;
  o.budget = budget;
  o.delimiter = delim < 0 ? 0 : delim;
  o.flags = delim < 0 ? 0u : (unsigned)MMF_WINDOW_RECORDS;
  int rc = mmf_window_open(&w, path, &o);
  if (rc)
    die("mmf_window_open", rc);
  count_job j = {NULL, 0, 0};
  for (;;) {
    void *p;
    size_t n;
    rc = mmf_window_next(w, &p, &n);
    if (rc)
      die("mmf_window_next", rc);
    if (n == 0)
      break;
    j.p = p;
    j.n = n;
    rc = mmf_window_guard(w, count_newlines, &j);
    if (rc)
      die("mmf_window_guard", rc);
  }
  mmf_window_close(w);
  return j.count;
}

typedef struct bench_case {
  const char *name;
  uint64_t budget; /* 0: default; UINT64_MAX: whole-file map */
  int delim;
  double t[MAX_RUNS];
  long faults;
} bench_case;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double minimum(const double *t, int n) {
  double m = t[0];
  for (int i = 1; i < n; i++)
    m = t[i] < m ? t[i] : m;
  return m;
}

static double median(const double *t, int n) {
  double s[MAX_RUNS];
  memcpy(s, t, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  char deflt[4096];
  uint64_t size = 2048 * MIB;
  int runs = 9, keep = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
      path = argv[++i];
    else if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
      size = strtoull(argv[++i], NULL, 10) * MIB;
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--keep") == 0)
      keep = 1;
    else {
      fprintf(stderr, "usage: %s [--file PATH] [--mib N] [--runs N] [--keep]\n",
              argv[0]);
      return 2;
    }
  }
  if (runs < 1 || runs > MAX_RUNS || size == 0) {
    fprintf(stderr, "bench_window: bad --runs or --mib\n");
    return 2;
  }
  if (!path) {
    const char *tmp = getenv("TMPDIR");
    snprintf(deflt, sizeof deflt, "%s/mmf-bench-window.dat",
             tmp && *tmp ? tmp : "/tmp");
    path = deflt;
  } else {
    keep = 1;
  }
  make_file(path, size);

  bench_case cases[] = {
      {"map", UINT64_MAX, -1, {0}, 0},
      {"window", 0, -1, {0}, 0},
      {"window 64M", 64 * MIB, -1, {0}, 0},
      {"window \\n", 0, '\n', {0}, 0},
      {"window 64M \\n", 64 * MIB, '\n', {0}, 0},
  };
  const int n_cases = (int)(sizeof cases / sizeof cases[0]);

  /* Warm: read the file into the page cache right before timing. */
  double t0 = now();
  uint64_t want = run_map(path);
  fprintf(stderr, "bench_window: warmed %s in %.2f s; %llu lines; kernel %s\n",
          path, now() - t0, (unsigned long long)want,
          mmf__scan_kernels_best()->name);

  for (int r = 0; r < runs; r++) {
    for (int c = 0; c < n_cases; c++) {
      bench_case *bc = &cases[c];
      long f0 = minor_faults();
      double start = now();
      uint64_t got = bc->budget == UINT64_MAX
                         ? run_map(path)
                         : run_window(path, bc->budget, bc->delim);
      bc->t[r] = now() - start;
      bc->faults += minor_faults() - f0;
      if (got != want) {
        fprintf(stderr, "bench_window: %s counted %llu lines, map %llu\n",
                bc->name, (unsigned long long)got, (unsigned long long)want);
        return 1;
      }
    }
  }

  double base = median(cases[0].t, runs), base_min = minimum(cases[0].t, runs);
  printf("%llu MiB hot file, %d runs, median of each\n",
         (unsigned long long)(size / MIB), runs);
  printf("%-14s %10s %8s %12s %8s %10s %9s\n", "case", "ms", "GB/s",
         "faults/run", "ratio", "min ms", "min ratio");
  for (int c = 0; c < n_cases; c++) {
    double m = median(cases[c].t, runs);
    double lo = minimum(cases[c].t, runs);
    printf("%-14s %10.1f %8.2f %12ld %8.3f %10.1f %9.3f\n", cases[c].name,
           m * 1e3, (double)size / m / 1e9, cases[c].faults / runs, m / base,
           lo * 1e3, lo / base_min);
  }
  if (!keep)
    remove(path);
  return 0;
}
