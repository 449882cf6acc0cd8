/*
 * cmd_bench.c - `mmf bench`: which way of reading this file counts its
 * lines fastest on this machine.
 *
 * Every strategy opens the file, counts '\n' with the library's kernel
 * (mmf_count_byte) and closes it; the clock covers all of that. Runs are
 * interleaved (one of each strategy per round) so that drift in the
 * machine's state hits all of them alike, and the median of the rounds is
 * reported. The page cache is warmed before each round (the machine may
 * evict idle cache), or emptied with --cold.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf bench [OPTION]... FILE\n"
    "Time several ways of counting the lines of FILE (whole-file mmap, with\n"
    "MAP_POPULATE, mapped windows of several sizes, read() with several\n"
    "buffer sizes) and print a table, fastest marked.\n"
    "\n"
    "  -r, --runs=N   rounds, the median is shown (default 5)\n"
    "      --cold     drop FILE from the page cache before every run\n"
    "                 (posix_fadvise) instead of warming it\n"
    "  -h, --help     show this help\n";

enum kind { WHOLE, WINDOWS, READ };

typedef struct strategy {
  const char *name;
  enum kind kind;
  unsigned flags; /* WHOLE: mmf_options.flags */
  uint64_t size;  /* WINDOWS: window bytes; READ: buffer bytes */
  double *times;  /* seconds per iteration, one per round */
  int failed;     /* an MMF_E* code, or 0 */
} strategy;

static strategy strategies[] = {
    {"mmap", WHOLE, 0, 0, NULL, 0},
    {"mmap+sequential", WHOLE, MMF_SEQUENTIAL, 0, NULL, 0},
    {"mmap+populate", WHOLE, MMF_POPULATE, 0, NULL, 0},
    {"window 64M", WINDOWS, 0, (uint64_t)64 << 20, NULL, 0},
    {"window 256M", WINDOWS, 0, (uint64_t)256 << 20, NULL, 0},
    {"window 1G", WINDOWS, 0, (uint64_t)1 << 30, NULL, 0},
    {"read 64K", READ, 0, (uint64_t)64 << 10, NULL, 0},
    {"read 256K", READ, 0, (uint64_t)256 << 10, NULL, 0},
    {"read 1M", READ, 0, (uint64_t)1 << 20, NULL, 0},
    {"read 4M", READ, 0, (uint64_t)4 << 20, NULL, 0},
};

#define NSTRATEGIES (sizeof strategies / sizeof strategies[0])

static int count_mapped(cli_file *f, const strategy *s, uint64_t *lines) {
  uint64_t window = s->kind == WHOLE ? f->size : s->size, off, n;
  int rc = 0;
  *lines = 0;
  for (off = 0; off < f->size || off == 0; off += window) {
    mmf_options o;
    mmf_map *m = NULL;
    memset(&o, 0, sizeof o);
    o.offset = off;
    o.length = f->size - off <= window ? 0 : window;
    o.flags = s->flags | MMF_NO_FALLBACK;
    rc = mmf_open_fd(&m, f->fd, MMF_READ, &o);
    if (!rc)
      rc = mmf_count_byte(m, 0, 0, '\n', &n);
    mmf_close(m);
    if (rc)
      return rc;
    *lines += n;
    if (window == 0)
      break;
  }
  return 0;
}

static int count_read(cli_file *f, mmf_map *buf, uint64_t bufsize,
                      uint64_t *lines) {
  unsigned char *p = mmf_data(buf);
  uint64_t n;
  size_t got;
  int e, rc;
  *lines = 0;
  for (;;) {
    e = cli_os_read(f->fd, p, (size_t)bufsize, &got);
    if (e)
      return MMF_EIO;
    if (got == 0)
      return 0;
    rc = mmf_count_byte(buf, 0, got, '\n', &n);
    if (rc)
      return rc;
    *lines += n;
  }
}

/* One timed run of s: open, count, close. */
static int run_once(const char *path, const strategy *s, mmf_map *buf,
                    uint64_t *lines) {
  cli_file f;
  int e, rc;
  e = cli_os_open(path, 0, &f);
  if (e)
    return MMF_EIO;
  rc = s->kind == READ ? count_read(&f, buf, s->size, lines)
                       : count_mapped(&f, s, lines);
  cli_os_close(&f);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int warm_window(void *ctx, mmf_map *m, uint64_t off) {
  cli_progress *p = ctx;
  (void)off;
  return cli_touch_pages(m, p, 0);
}

static int prepare(const char *path, int cold) {
  cli_file f;
  cli_progress p;
  int e, rc;
  e = cli_os_open(path, 0, &f);
  if (e)
    return MMF_EIO;
  if (cold) {
    /* Reported here; MMF_EINVAL tells the caller it was. */
    e = cli_os_evict(f.fd);
    if (e)
      cli_error(path, "--cold: cannot drop it from the page cache: %s",
                cli_strerror(e));
    rc = e ? MMF_EINVAL : 0;
  } else {
    p.on = 0;
    rc = cli_each_window(&f, 0, warm_window, &p);
  }
  cli_os_close(&f);
  return rc;
}

static void print_table(const char *path, uint64_t size, uint64_t lines,
                        int runs, int iters, int cold) {
  double best = 0;
  size_t i;
  char h[32];
  for (i = 0; i < NSTRATEGIES; i++)
    if (!strategies[i].failed) {
      double t = median(strategies[i].times, runs);
      strategies[i].times[0] = t;
      if (best == 0 || t < best)
        best = t;
    }
  cli_human_size(size, h, sizeof h);
  printf("file %s: %" PRIu64 " bytes (%s), %" PRIu64 " lines\n", path, size, h,
         lines);
  printf("%s cache, median of %d rounds", cold ? "cold" : "hot", runs);
  if (iters > 1)
    printf(" of %d iterations each", iters);
  printf(", strategies interleaved\n\n");
  printf("%-17s %12s %10s %8s\n", "strategy", "time", "GB/s", "vs best");
  for (i = 0; i < NSTRATEGIES; i++) {
    const strategy *s = &strategies[i];
    double t = s->times[0];
    int is_best = !s->failed && t == best;
    if (s->failed) {
      printf("%-17s %12s %10s %8s  (%s)\n", s->name, "-", "-", "-",
             mmf_strerror(s->failed));
      continue;
    }
    printf("%s%-17s %9.3f ms %10.2f %8.2f%s%s\n",
           is_best ? cli_sgr(stdout, CLI_GREEN) : "", s->name, t * 1e3,
           t > 0 ? (double)size / t / 1e9 : 0.0, t / best, is_best ? " *" : "",
           is_best ? cli_sgr(stdout, CLI_RESET) : "");
  }
}

/*
 * Only a file whose size is what reading it gives can be timed: every
 * strategy maps or reads that many bytes. A file of size 0 that still
 * holds bytes (/proc, /sys) is refused with the reason; reading it could
 * take forever (/proc/self/pagemap is 256 GiB of entries) and mapping it
 * is refused.
 */
static int measurable(const char *path, cli_file *f) {
  unsigned char probe[4096]; /* pagemap takes reads of 8 bytes at least */
  size_t got = 0;
  int e;
  if (f->size > 0)
    return 1;
  e = cli_os_read(f->fd, probe, sizeof probe, &got);
  if (e == 0 && got == 0)
    return 1; /* a truly empty file */
  cli_error(path,
            "cannot be measured: its size is 0 but it is not empty (a "
            "/proc or /sys file); bench times regular files of known size");
  return 0;
}

int cmd_bench(int argc, char **argv) {
  static const struct option longs[] = {{"runs", required_argument, NULL, 'r'},
                                        {"cold", no_argument, NULL, 'c'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  uint64_t runs = 5, lines = 0, got, maxbuf = 0;
  mmf_map *buf = NULL;
  const char *path;
  cli_file f;
  int c, cold = 0, iters = 1, r, it, rc = 0, have_lines = 0;
  size_t i;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":r:h", longs, NULL)) != -1) {
    switch (c) {
    case 'r':
      if (cli_get_size("bench", "runs", optarg, 1000, &runs))
        return CLI_ERROR;
      if (runs == 0)
        return cli_usage_error("bench", "--runs must be at least 1");
      break;
    case 'c':
      cold = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("bench", c, argv);
    }
  }
  if (argc - optind != 1)
    return cli_usage_error("bench", "give one FILE");
  path = argv[optind];
  if (cli_open_regular(path, 0, &f) != CLI_OK)
    return CLI_ERROR;
  if (!measurable(path, &f)) {
    cli_os_close(&f);
    return CLI_ERROR;
  }
  cli_os_close(&f);
  /* Small files: time many iterations per run, so the clock resolves. */
  if (!cold && f.size < ((uint64_t)64 << 20))
    iters = f.size ? (int)(((uint64_t)64 << 20) / f.size) : 1000;
  if (iters > 1000)
    iters = 1000;
  for (i = 0; i < NSTRATEGIES; i++) {
    strategies[i].times = calloc((size_t)runs, sizeof(double));
    if (!strategies[i].times)
      return cli_fail(NULL, MMF_ENOMEM);
    if (strategies[i].kind == READ && strategies[i].size > maxbuf)
      maxbuf = strategies[i].size;
  }
  rc = mmf_anon(&buf, maxbuf, 0);
  if (rc)
    return cli_fail(NULL, rc);
  for (r = 0; r < (int)runs && !rc; r++) {
    for (i = 0; i < NSTRATEGIES; i++) {
      strategy *s = &strategies[i];
      double t0;
      if (s->failed)
        continue;
      rc = prepare(path, cold);
      if (rc)
        break;
      t0 = cli_os_now();
      for (it = 0; it < iters && !s->failed; it++) {
        s->failed = run_once(path, s, buf, &got);
        if (!s->failed && have_lines && got != lines) {
          cli_error(path,
                    "changed during the benchmark (%s counted %" PRIu64
                    " lines, not %" PRIu64 ")",
                    s->name, got, lines);
          rc = MMF_EINVAL;
          break;
        }
        if (!s->failed && !have_lines) {
          lines = got;
          have_lines = 1;
        }
      }
      s->times[r] = (cli_os_now() - t0) / iters;
      if (s->failed == MMF_ETRUNCATED || s->failed == MMF_EIO) {
        rc = s->failed;
        break;
      }
      if (s->failed)
        s->times[r] = 0;
    }
  }
  mmf_close(buf);
  if (rc == MMF_EINVAL)
    return CLI_ERROR;
  if (rc)
    return cli_fail(path, rc);
  if (!have_lines) {
    cli_error(path, "no strategy could read the file");
    return CLI_ERROR;
  }
  print_table(path, f.size, lines, (int)runs, iters, cold);
  for (i = 0; i < NSTRATEGIES; i++)
    free(strategies[i].times);
  return cli_finish_output(CLI_OK);
}
