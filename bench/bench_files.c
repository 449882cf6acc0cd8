/*
 * bench_files.c - the in-process half of `make bench` (bench/run.sh runs
 * the whole-process peers with hyperfine): the scanning API (mmf.h,
 * "Scanning") against the memory-bandwidth ceiling, read() and mmap
 * loops, pread, write()+fsync, over files made for the purpose.
 *
 *   bench_files [--dir D] [--runs N] COMMAND
 *
 *   make       create D/mmf-bench.txt: 2 GiB of text, lines of 0-127
 *              letters and spaces, "mmf-needle" planted about every MiB
 *              (the rare string), unless a file of that size is there
 *   warm FILE  read FILE through a map (loads the page cache) and print
 *              how much of it is resident
 *   hot        2 GiB file, hot cache, in groups of peers run back to
 *              back (hot-lines, hot-rare, ...): line count, rare string,
 *              offset scans, line iterator, read() loop, memchr-per-line
 *              loop, against the AVX2 count over resident anonymous
 *              memory
 *   breakeven  open + count + close per file, 4 KiB ... 64 MiB, hot:
 *              read() loop, mmap, and mmf_count_byte_path read / map / auto
 *   small      4 KiB files: mmf_count_byte_path against open+read+close
 *   cold       a file evicted with posix_fadvise(DONTNEED) before every
 *              run: read() loop, mmap, mmf_count_byte_path auto
 *   threads    the 2 GiB file counted with mmf_scan_options.threads 1
 *              and 2, hot against a raw count by two threads over one
 *              whole-file mmap (AVX2), and cold (evicted before every
 *              run) against a read() loop
 *   random     random 64-byte reads of the 2 GiB file: pread, mmf_read
 *   durable    durable writes: write()+fsync against MMF_WRITE +
 *              mmf_write + mmf_flush(MMF_FLUSH_SYNC)
 *
 * D is --dir, else $MMF_BENCH_DIR, else /tmp. Every case runs --runs
 * times (default 7), the cases of a command interleaved round by round in
 * rotating order, so that drift in the machine hits all alike. Right
 * before each measurement of a hot case the file is warmed (see warm()):
 * this machine evicts page cache that has been idle for about 30 s.
 *
 * Output: a human table, and machine lines for run.sh (case names with '~'
 * for ' '):
 *   R <command> <case> <median wall s> <median cpu s> <bytes per run>
 *   P <command> <case> <peer> <median of per-round wall ratios peer/case>
 *     <same for cpu>
 *   B <size> <method> <median wall s per file> <median cpu s per file>
 * CPU time is the process's (user + system), which other processes
 * taking the CPU do not inflate; wall time is what a user waits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmf.h"
#include "scan/scan.h"

#define MIB ((uint64_t)1 << 20)
#define MAX_RUNS 101
#define MAX_CASES 16
#define NEEDLE "mmf-needle"
#define BIG_SIZE ((uint64_t)2048 * MIB)
#define READ_BUF ((size_t)256 << 10)

static const char *dir;
static int runs = 7;
static char big_path[4096];

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_files: %s: %s (%s)\n", what, mmf_strerror(rc),
          mmf_errname(rc));
  exit(1);
}

static void die_errno(const char *what) {
  fprintf(stderr, "bench_files: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

/* ---- Files ----------------------------------------------------------- */

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Lines of 0-127 lowercase letters and spaces; the needle planted every
 * 1 MiB + 4093 bytes from `planted`, an offset into the whole file. */
static void fill_text(unsigned char *p, size_t n, uint64_t at) {
  static const char alphabet[32] = "abcdefghijklmnopqrstuvwxyz      ";
  const uint64_t every = MIB + 4093;
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
  for (uint64_t k = (at + every - 1) / every * every; k < at + n; k += every)
    if (k - at + sizeof NEEDLE - 1 <= n)
      memcpy(p + (k - at), NEEDLE, sizeof NEEDLE - 1);
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      die_errno("write");
    p += w;
    n -= (size_t)w;
  }
}

static void make_file(const char *path, uint64_t size) {
  struct stat st;
  int fd;
  size_t chunk = (size_t)(8 * MIB);
  unsigned char *buf;
  if (stat(path, &st) == 0 && (uint64_t)st.st_size == size)
    return;
  fprintf(stderr, "bench_files: writing %s (%llu KiB)\n", path,
          (unsigned long long)(size >> 10));
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die_errno(path);
  buf = malloc(chunk);
  if (!buf)
    exit(1);
  for (uint64_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
    fill_text(buf, n, off);
    write_all(fd, buf, n);
  }
  free(buf);
  close(fd);
}

#if defined(__APPLE__)
/* macOS declares no fdatasync; its fsync makes the same promise (both stop
 * at the drive's cache there). */
#define fdatasync fsync
#endif

static void evict(const char *path);

/* Read the whole file with large sequential reads. */
static void read_sequential(const char *path) {
  size_t cap = (size_t)MIB;
  unsigned char *buf = malloc(cap);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || !buf)
    die_errno(path);
  while (read(fd, buf, cap) > 0)
    ;
  close(fd);
  free(buf);
}

/*
 * Make the file hot and return the fraction that was resident before.
 * A file that is fully resident is read through a map (which keeps it
 * from looking idle). One that is not, because the kernel dropped part of
 * it, is dropped whole and read again sequentially: pages read back one
 * fault at a time come back in small folios, which a mapping then maps
 * 4 KiB at a time (~17,000 faults for 2 GiB instead of ~1,400) and which
 * halve the speed of every scan, read() included; a sequential read
 * brings the large folios of a freshly read file back.
 */
static double warm(const char *path) {
  mmf_map *m;
  uint64_t before = 0, count;
  double size;
  int rc = mmf_open(&m, path, MMF_READ, NULL);
  if (rc)
    die(path, rc);
  size = (double)mmf_size(m);
  if (size == 0) {
    mmf_close(m);
    return 1;
  }
  (void)mmf_resident(m, 0, 0, &before);
  if ((double)before < size) {
    mmf_close(m);
    evict(path);
    read_sequential(path);
    rc = mmf_open(&m, path, MMF_READ, NULL);
    if (rc)
      die(path, rc);
  }
  rc = mmf_count_byte(m, 0, 0, '\n', &count);
  if (rc)
    die("warm", rc);
  sink += count;
  mmf_close(m);
  return (double)before / size;
}

static double resident_fraction(const char *path) {
  mmf_map *m;
  uint64_t bytes = 0;
  double f;
  int rc = mmf_open(&m, path, MMF_READ, NULL);
  if (rc)
    die(path, rc);
  if (mmf_size(m) == 0) {
    mmf_close(m);
    return 1;
  }
  (void)mmf_resident(m, 0, 0, &bytes);
  f = (double)bytes / (double)mmf_size(m);
  mmf_close(m);
  return f;
}

static void evict(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die_errno(path);
    /* Only this file leaves the cache: never drop_caches, which empties
     * everyone's. */
#if defined(POSIX_FADV_DONTNEED)
  if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
    die_errno("posix_fadvise");
#else
  errno = ENOTSUP; /* macOS: no way to drop one file's cached pages */
  die_errno("posix_fadvise(POSIX_FADV_DONTNEED)");
#endif
  close(fd);
}

/* ---- Measuring -------------------------------------------------------- */

typedef struct bcase {
  const char *name;
  /* One run; returns a checksum (the count) so nothing is optimised away. */
  uint64_t (*run)(const struct bcase *c);
  const char *path;
  uint64_t bytes; /* processed per run, for GB/s */
  uint64_t arg;
  const mmf__scan_kernels *kernels; /* ceilings: the variant measured */
  double wall[MAX_RUNS], cpu[MAX_RUNS];
} bcase;

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

/* name with '~' for ' ', for the machine lines (a static buffer). */
static const char *token(const char *name) {
  static char buf[128];
  size_t i;
  for (i = 0; name[i] && i < sizeof buf - 1; i++)
    buf[i] = name[i] == ' ' ? '~' : name[i];
  buf[i] = '\0';
  return buf;
}

static void measure(bcase *c, int round) {
  double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  sink += c->run(c);
  c->cpu[round] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
  c->wall[round] = clock_s(CLOCK_MONOTONIC) - w0;
}

/* Run the cases `runs` times, interleaved, rotating the order; before
 * each run call prepare (warm or evict). */
static void run_cases(const char *cmd, bcase *cs, int n,
                      void (*prepare)(bcase *c)) {
  /* One run of each that is not counted: the first run after the data
   * was made, or after another group, pays for things no later run does
   * (page tables of a fresh buffer, the kernel settling its caches). */
  for (int k = 0; k < n; k++) {
    if (prepare)
      prepare(&cs[k]);
    sink += cs[k].run(&cs[k]);
  }
  for (int r = 0; r < runs; r++)
    for (int k = 0; k < n; k++) {
      bcase *c = &cs[(k + r) % n];
      if (prepare)
        prepare(c);
      measure(c, r);
    }
  printf("\n%s: median of %d runs (wall, and process CPU time)\n", cmd, runs);
  printf("%-28s %12s %12s %10s\n", "case", "wall", "cpu", "GB/s wall");
  for (int k = 0; k < n; k++) {
    double w = median(cs[k].wall, runs), u = median(cs[k].cpu, runs);
    printf("%-28s %10.3f ms %10.3f ms %10.2f\n", cs[k].name, w * 1e3, u * 1e3,
           cs[k].bytes ? (double)cs[k].bytes / w / 1e9 : 0.0);
    printf("R %s %s %.9f %.9f %llu\n", cmd, token(cs[k].name), w, u,
           (unsigned long long)cs[k].bytes);
  }
}

/* Median over rounds of peer/case for wall and CPU time. */
static void paired(const char *cmd, const bcase *c, const bcase *peer) {
  double rw[MAX_RUNS], rc[MAX_RUNS];
  for (int r = 0; r < runs; r++) {
    rw[r] = peer->wall[r] / c->wall[r];
    rc[r] = peer->cpu[r] / c->cpu[r];
  }
  printf("P %s %s ", cmd, token(c->name));
  printf("%s %.4f %.4f\n", token(peer->name), median(rw, runs),
         median(rc, runs));
}

/* ---- Cases over the big file ------------------------------------------ */

static uint64_t run_ceiling(const bcase *c) {
  /* arg: an anonymous buffer of c->bytes, resident. */
  return c->kernels->count_byte((const unsigned char *)(uintptr_t)c->arg,
                                (size_t)c->bytes, '\n');
}

static uint64_t run_mmf_count(const bcase *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t n;
  int rc;
  o.offset = c->arg;
  o.length = c->arg ? c->bytes : 0;
  rc = mmf_count_byte_path(c->path, &o, '\n', &n);
  if (rc)
    die("mmf_count_byte_path", rc);
  return n;
}

static uint64_t run_mmf_count_io(const bcase *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t n;
  int rc;
  o.io = (int)c->arg;
  rc = mmf_count_byte_path(c->path, &o, '\n', &n);
  if (rc)
    die("mmf_count_byte_path", rc);
  return n;
}

static uint64_t run_mmf_rare(const bcase *c) {
  uint64_t n;
  int rc = mmf_count_matches_path(c->path, NULL, NEEDLE, sizeof NEEDLE - 1, &n);
  if (rc)
    die("mmf_count_matches_path", rc);
  return n;
}

static uint64_t run_mmf_lines(const bcase *c) {
  mmf_lines *it;
  const char *line;
  size_t len;
  uint64_t n = 0, sum = 0;
  int rc = mmf_lines_open(&it, c->path, NULL);
  if (rc)
    die("mmf_lines_open", rc);
  while ((rc = mmf_lines_next(it, &line, &len)) == 0 && line) {
    n++;
    sum += len;
  }
  if (rc)
    die("mmf_lines_next", rc);
  mmf_lines_close(it);
  return n + sum;
}

/* A C read() loop with the best kernel: what read() costs against a map. */
static uint64_t run_read_loop(const bcase *c) {
  static unsigned char *buf;
  uint64_t n = 0;
  ssize_t got;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (!buf && !(buf = malloc(READ_BUF)))
    exit(1);
  if (fd < 0)
    die_errno(c->path);
  while ((got = read(fd, buf, READ_BUF)) > 0)
    n += mmf__count_byte(buf, (size_t)got, '\n');
  close(fd);
  return n;
}

/* open + fstat + mmap + count + munmap + close, no placement, no guard. */
static uint64_t run_mmap_loop(const bcase *c) {
  struct stat st;
  uint64_t n;
  void *p;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0)
    die_errno(c->path);
  if (st.st_size == 0) {
    close(fd);
    return 0;
  }
  p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    die_errno("mmap");
  n = mmf__count_byte(p, (size_t)st.st_size, '\n');
  munmap(p, (size_t)st.st_size);
  close(fd);
  return n;
}

/* open + read + close, nothing else: the 4 KiB goal's yardstick. */
static uint64_t run_open_read_close(const bcase *c) {
  unsigned char buf[65536];
  ssize_t got, total = 0;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die_errno(c->path);
  while ((got = read(fd, buf, sizeof buf)) > 0)
    total += got;
  close(fd);
  return (uint64_t)total;
}

/* A line loop calling memchr once per line, over a map. */
static uint64_t run_memchr_lines(const bcase *c) {
  mmf_map *m;
  const unsigned char *p, *end, *q;
  uint64_t lines = 0;
  int rc = mmf_open(&m, c->path, MMF_READ, NULL);
  if (rc)
    die("mmf_open", rc);
  p = mmf_data(m);
  end = p + mmf_size(m);
  while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    lines++;
    p = q + 1;
  }
  mmf_close(m);
  return lines;
}

/* Right before each measurement of a file case: make the file hot. */
static void prepare_warm(bcase *c) {
  double f;
  if (!c->path)
    return;
  f = warm(c->path);
  if (f < 0.999)
    fprintf(stderr,
            "bench_files: %s was %.1f%% resident; dropped and read again\n",
            c->path, f * 100);
}

static unsigned char *resident_anon(size_t n) {
  unsigned char *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    die_errno("mmap anonymous");
#ifdef MADV_HUGEPAGE
  madvise(p, n, MADV_HUGEPAGE);
#endif
  fill_text(p, n, 0);
  return p;
}

static bcase mk(const char *name, uint64_t (*run)(const bcase *c),
                const char *path, uint64_t bytes, uint64_t arg,
                const mmf__scan_kernels *k) {
  bcase c;
  memset(&c, 0, sizeof c);
  c.name = name;
  c.run = run;
  c.path = path;
  c.bytes = bytes;
  c.arg = arg;
  c.kernels = k;
  return c;
}

/*
 * The hot cases run in small groups, each case of a group right next to
 * its peer (ABAB, then BABA), so that a paired ratio compares runs a
 * fraction of a second apart: on a shared machine the memory bandwidth
 * left to us drifts over seconds.
 */
static void cmd_hot(void) {
  const mmf__scan_kernels *avx2 = mmf__scan_kernels_for(MMF__SCAN_AVX2);
  const mmf__scan_kernels *best = mmf__scan_kernels_best();
  const mmf__scan_kernels *ceil = avx2 ? avx2 : best;
  unsigned char *anon = resident_anon((size_t)BIG_SIZE);
  const uint64_t half = BIG_SIZE / 2, a = (uintptr_t)anon;
  bcase g[3];
  if (!avx2)
    fprintf(stderr, "bench_files: no AVX2 here; the ceiling uses %s\n",
            best->name);
  printf("kernels: best %s; ceiling over %llu MiB of resident anonymous "
         "memory\n",
         best->name, (unsigned long long)(BIG_SIZE / MIB));
  printf("residency of %s before: %.1f%%\n", big_path,
         resident_fraction(big_path) * 100);

  g[0] = mk("ceiling avx2", run_ceiling, NULL, BIG_SIZE, a, ceil);
  g[1] = mk("mmf_count_byte_path", run_mmf_count, big_path, BIG_SIZE, 0, NULL);
  run_cases("hot-lines", g, 2, prepare_warm);
  paired("hot-lines", &g[1], &g[0]);

  g[0] = mk("ceiling best", run_ceiling, NULL, BIG_SIZE, a, best);
  run_cases("hot-lines-best", g, 2, prepare_warm);
  paired("hot-lines-best", &g[1], &g[0]);

  g[0] = mk("ceiling avx2", run_ceiling, NULL, BIG_SIZE, a, ceil);
  g[1] =
      mk("mmf_count_matches_path", run_mmf_rare, big_path, BIG_SIZE, 0, NULL);
  run_cases("hot-rare", g, 2, prepare_warm);
  paired("hot-rare", &g[1], &g[0]);

  g[0] =
      mk("offset 2MiB aligned", run_mmf_count, big_path, half, 2 * MIB, NULL);
  g[1] =
      mk("offset unaligned", run_mmf_count, big_path, half, MIB + 4097, NULL);
  run_cases("hot-offset", g, 2, prepare_warm);
  paired("hot-offset", &g[1], &g[0]);

  g[0] = mk("mmf_lines iterator", run_mmf_lines, big_path, BIG_SIZE, 0, NULL);
  g[1] = mk("memchr per line", run_memchr_lines, big_path, BIG_SIZE, 0, NULL);
  run_cases("hot-iter", g, 2, prepare_warm);
  paired("hot-iter", &g[0], &g[1]);

  g[0] = mk("mmf_count_byte_path", run_mmf_count, big_path, BIG_SIZE, 0, NULL);
  g[1] = mk("read() loop 256K", run_read_loop, big_path, BIG_SIZE, 0, NULL);
  g[2] = mk("mmf_count_byte_path READ", run_mmf_count_io, big_path, BIG_SIZE,
            MMF_SCAN_READ, NULL);
  run_cases("hot-read", g, 3, prepare_warm);
  paired("hot-read", &g[0], &g[1]);
  paired("hot-read", &g[2], &g[1]);

  printf("residency of %s after: %.1f%%\n", big_path,
         resident_fraction(big_path) * 100);
  munmap(anon, (size_t)BIG_SIZE);
}

/* ---- Break-even --------------------------------------------------------- */

typedef uint64_t (*op_fn)(const bcase *c);

typedef struct rep_ctx {
  op_fn op;
  int reps;
  int io; /* for mmf_count_byte_path: -1 = not mmf */
} rep_ctx;

static uint64_t run_mmf_io_once(const char *path, int io) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t n;
  int rc;
  o.io = io;
  rc = mmf_count_byte_path(path, &o, '\n', &n);
  if (rc)
    die("mmf_count_byte_path", rc);
  return n;
}

static const rep_ctx *ctx_of(const bcase *c) {
  return (const rep_ctx *)(uintptr_t)c->arg;
}

static uint64_t run_repeated(const bcase *c) {
  const rep_ctx *x = ctx_of(c);
  uint64_t sum = 0;
  for (int i = 0; i < x->reps; i++)
    sum += x->io >= 0 ? run_mmf_io_once(c->path, x->io) : x->op(c);
  return sum;
}

static void cmd_breakeven(void) {
  static const uint64_t sizes[] = {4 << 10,   16 << 10, 64 << 10, 256 << 10,
                                   512 << 10, 1 << 20,  3 << 19,  2 << 20,
                                   3 << 20,   4 << 20,  16 << 20, 64 << 20};
  const int ns = (int)(sizeof sizes / sizeof sizes[0]);
  printf("\nbreak-even: open + count '\\n' + close per file, hot cache; "
         "time per file\n");
  printf("%-10s %12s %12s %12s %12s %12s  (us, median wall)\n", "size",
         "read() loop", "mmap", "mmf READ", "mmf MAP", "mmf AUTO");
  for (int si = 0; si < ns; si++) {
    char path[4096], name[64];
    uint64_t size = sizes[si];
    int reps = (int)(256 * MIB / size);
    rep_ctx ctx[5] = {{run_read_loop, 0, -1},
                      {run_mmap_loop, 0, -1},
                      {NULL, 0, MMF_SCAN_READ},
                      {NULL, 0, MMF_SCAN_MAP},
                      {NULL, 0, MMF_SCAN_AUTO}};
    static const char *const names[5] = {"read", "mmap", "mmf_read", "mmf_map",
                                         "mmf_auto"};
    bcase cs[5];
    if (reps > 20000)
      reps = 20000;
    if (reps < 5)
      reps = 5;
    snprintf(path, sizeof path, "%s/mmf-bench-%llu.txt", dir,
             (unsigned long long)size);
    make_file(path, size);
    warm(path);
    for (int k = 0; k < 5; k++) {
      ctx[k].reps = reps;
      memset(&cs[k], 0, sizeof cs[k]);
      cs[k].name = names[k];
      cs[k].run = run_repeated;
      cs[k].path = strdup(path);
      cs[k].bytes = size * (uint64_t)reps;
      cs[k].arg = (uintptr_t)&ctx[k];
    }
    for (int r = 0; r < runs; r++)
      for (int k = 0; k < 5; k++) {
        if (r % 4 == 0 && k == 0)
          warm(path);
        measure(&cs[(k + r) % 5], r);
      }
    snprintf(name, sizeof name, "%lluK", (unsigned long long)(size >> 10));
    printf("%-10s", name);
    for (int k = 0; k < 5; k++)
      printf(" %12.2f", median(cs[k].wall, runs) / reps * 1e6);
    printf("\n");
    for (int k = 0; k < 5; k++) {
      printf("B %llu %s %.9f %.9f\n", (unsigned long long)size, names[k],
             median(cs[k].wall, runs) / reps, median(cs[k].cpu, runs) / reps);
      free((void *)cs[k].path);
    }
    unlink(path);
  }
}

/* ---- Small files: the 4 KiB goal ----------------------------------------- */

static void cmd_small(void) {
  char path[4096];
  rep_ctx ctx[2] = {{run_open_read_close, 20000, -1},
                    {NULL, 20000, MMF_SCAN_AUTO}};
  bcase cs[2];
  snprintf(path, sizeof path, "%s/mmf-bench-4k.txt", dir);
  make_file(path, 4096);
  warm(path);
  memset(cs, 0, sizeof cs);
  cs[0].name = "open+read+close";
  cs[1].name = "mmf_count_byte_path";
  for (int k = 0; k < 2; k++) {
    cs[k].run = run_repeated;
    cs[k].path = path;
    cs[k].bytes = 4096u * 20000u;
    cs[k].arg = (uintptr_t)&ctx[k];
  }
  run_cases("small", cs, 2, NULL);
  paired("small", &cs[1], &cs[0]);
  unlink(path);
}

/* ---- Cold cache ---------------------------------------------------------- */

static void prepare_evict(bcase *c) {
  double f;
  evict(c->path);
  f = resident_fraction(c->path);
  if (f > 0.01)
    fprintf(stderr, "bench_files: %s still %.1f%% resident after eviction\n",
            c->path, f * 100);
}

static uint64_t run_mmf_auto(const bcase *c) {
  return run_mmf_io_once(c->path, MMF_SCAN_AUTO);
}

static uint64_t run_mmf_read(const bcase *c) {
  return run_mmf_io_once(c->path, MMF_SCAN_READ);
}

static void cmd_cold(uint64_t size) {
  char path[4096];
  bcase cs[4];
  snprintf(path, sizeof path, "%s/mmf-bench-cold.txt", dir);
  make_file(path, size);
  memset(cs, 0, sizeof cs);
  cs[0].name = "read() loop 256K";
  cs[0].run = run_read_loop;
  cs[1].name = "mmap";
  cs[1].run = run_mmap_loop;
  cs[2].name = "mmf_count_byte_path";
  cs[2].run = run_mmf_auto;
  cs[3].name = "mmf_count_byte_path READ";
  cs[3].run = run_mmf_read;
  for (int k = 0; k < 4; k++) {
    cs[k].path = path;
    cs[k].bytes = size;
  }
  run_cases("cold", cs, 4, prepare_evict);
  paired("cold", &cs[2], &cs[0]);
  paired("cold", &cs[2], &cs[1]);
  paired("cold", &cs[3], &cs[0]);
  {
    /* The goal's yardstick: per round, the better of read() and mmap. */
    bcase best;
    memset(&best, 0, sizeof best);
    best.name = "best of read() and mmap";
    for (int r = 0; r < runs; r++) {
      best.wall[r] =
          cs[0].wall[r] < cs[1].wall[r] ? cs[0].wall[r] : cs[1].wall[r];
      best.cpu[r] = cs[0].cpu[r] < cs[1].cpu[r] ? cs[0].cpu[r] : cs[1].cpu[r];
    }
    paired("cold", &cs[2], &best);
  }
  unlink(path);
}

/* ---- Threads ------------------------------------------------------------- */

/* The raw two-thread count: one whole-file mmap, each thread counts its
 * half with the case's kernel; no guard, no placement, no pieces. */
typedef struct half_count {
  const mmf__scan_kernels *k;
  const unsigned char *p;
  size_t n;
  uint64_t count;
} half_count;

static void *count_half(void *arg) {
  half_count *h = arg;
  h->count = h->k->count_byte(h->p, h->n, '\n');
  return NULL;
}

static uint64_t run_raw_two_threads(const bcase *c) {
  struct stat st;
  half_count h[2];
  pthread_t t;
  unsigned char *p;
  size_t n;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0)
    die_errno(c->path);
  n = (size_t)st.st_size;
  p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    die_errno("mmap");
  h[0] = (half_count){c->kernels, p, n / 2, 0};
  h[1] = (half_count){c->kernels, p + n / 2, n - n / 2, 0};
  if (pthread_create(&t, NULL, count_half, &h[1]) != 0)
    die_errno("pthread_create");
  count_half(&h[0]);
  pthread_join(t, NULL);
  munmap(p, n);
  close(fd);
  return h[0].count + h[1].count;
}

/* mmf_count_byte_path with arg threads (low byte) and io (arg >> 8). */
static uint64_t run_mmf_threads(const bcase *c) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t n;
  int rc;
  o.threads = (unsigned)(c->arg & 0xff);
  o.io = (int)(c->arg >> 8);
  rc = mmf_count_byte_path(c->path, &o, '\n', &n);
  if (rc)
    die("mmf_count_byte_path", rc);
  return n;
}

static void cmd_threads(void) {
  const mmf__scan_kernels *avx2 = mmf__scan_kernels_for(MMF__SCAN_AVX2);
  const mmf__scan_kernels *k = avx2 ? avx2 : mmf__scan_kernels_best();
  bcase g[4];
  if (!avx2)
    fprintf(stderr, "bench_files: no AVX2 here; the raw count uses %s\n",
            k->name);
  g[0] = mk("raw 2 threads mmap avx2", run_raw_two_threads, big_path, BIG_SIZE,
            0, k);
  g[1] = mk("mmf 2 threads", run_mmf_threads, big_path, BIG_SIZE, 2, NULL);
  run_cases("threads-hot", g, 2, prepare_warm);
  paired("threads-hot", &g[1], &g[0]);
  g[0] = mk("mmf 1 thread", run_mmf_threads, big_path, BIG_SIZE, 1, NULL);
  run_cases("threads-hot-1v2", g, 2, prepare_warm);
  paired("threads-hot-1v2", &g[1], &g[0]);

  g[0] = mk("read() loop 256K", run_read_loop, big_path, BIG_SIZE, 0, NULL);
  g[1] = mk("mmf 1 thread", run_mmf_threads, big_path, BIG_SIZE, 1, NULL);
  g[2] = mk("mmf 2 threads", run_mmf_threads, big_path, BIG_SIZE, 2, NULL);
  g[3] = mk("mmf 2 threads READ", run_mmf_threads, big_path, BIG_SIZE,
            2 | (uint64_t)MMF_SCAN_READ << 8, NULL);
  run_cases("threads-cold", g, 4, prepare_evict);
  paired("threads-cold", &g[1], &g[0]);
  paired("threads-cold", &g[2], &g[0]);
  paired("threads-cold", &g[3], &g[0]);
}

/* ---- Random reads -------------------------------------------------------- */

#define RANDOM_OPS 1000000

static uint64_t *offsets;

static uint64_t run_pread(const bcase *c) {
  unsigned char buf[64];
  uint64_t sum = 0;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die_errno(c->path);
  for (int i = 0; i < RANDOM_OPS; i++) {
    if (pread(fd, buf, sizeof buf, (off_t)offsets[i]) != (ssize_t)sizeof buf)
      die_errno("pread");
    sum += buf[i & 63];
  }
  close(fd);
  return sum;
}

static uint64_t run_mmf_read_random(const bcase *c) {
  unsigned char buf[64];
  uint64_t sum = 0;
  mmf_map *m;
  int rc = mmf_open(&m, c->path, MMF_READ, NULL);
  if (rc)
    die("mmf_open", rc);
  for (int i = 0; i < RANDOM_OPS; i++) {
    rc = mmf_read(m, offsets[i], buf, sizeof buf);
    if (rc)
      die("mmf_read", rc);
    sum += buf[i & 63];
  }
  mmf_close(m);
  return sum;
}

static void cmd_random(void) {
  bcase cs[2];
  offsets = malloc(RANDOM_OPS * sizeof *offsets);
  if (!offsets)
    exit(1);
  for (int i = 0; i < RANDOM_OPS; i++)
    offsets[i] = rnd() % (BIG_SIZE - 64);
  memset(cs, 0, sizeof cs);
  cs[0].name = "pread 64B";
  cs[0].run = run_pread;
  cs[1].name = "mmf_read 64B";
  cs[1].run = run_mmf_read_random;
  for (int k = 0; k < 2; k++) {
    cs[k].path = big_path;
    cs[k].bytes = 64u * RANDOM_OPS;
  }
  run_cases("random", cs, 2, prepare_warm);
  paired("random", &cs[1], &cs[0]);
  free(offsets);
}

/* ---- Durable writes ------------------------------------------------------ */

#define DURABLE_SIZE (64 * MIB)
#define RECORD 4096
#define RECORDS 256

static unsigned char *payload;

static uint64_t run_write_fsync(const bcase *c) {
  int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die_errno(c->path);
  if (c->arg) { /* records, each made durable */
    for (int i = 0; i < RECORDS; i++) {
      write_all(fd, payload + (size_t)i * RECORD, RECORD);
      if (fdatasync(fd) != 0)
        die_errno("fdatasync");
    }
  } else {
    for (uint64_t off = 0; off < DURABLE_SIZE; off += MIB)
      write_all(fd, payload + off, (size_t)MIB);
    if (fsync(fd) != 0)
      die_errno("fsync");
  }
  close(fd);
  return 0;
}

static uint64_t run_mmf_write_flush(const bcase *c) {
  mmf_options o = {0, 0, 0, MMF_CREATE};
  mmf_map *m;
  int rc;
  unlink(c->path);
  o.size = c->arg ? (uint64_t)RECORD * RECORDS : DURABLE_SIZE;
  rc = mmf_open(&m, c->path, MMF_WRITE, &o);
  if (rc)
    die("mmf_open", rc);
  if (c->arg) {
    for (int i = 0; i < RECORDS; i++) {
      uint64_t off = (uint64_t)i * RECORD;
      rc = mmf_write(m, off, payload + off, RECORD);
      if (!rc)
        rc = mmf_flush(m, off, RECORD, MMF_FLUSH_SYNC);
      if (rc)
        die("mmf_write/flush", rc);
    }
  } else {
    for (uint64_t off = 0; off < DURABLE_SIZE; off += MIB)
      if ((rc = mmf_write(m, off, payload + off, (size_t)MIB)) != 0)
        die("mmf_write", rc);
    rc = mmf_flush(m, 0, 0, MMF_FLUSH_SYNC);
    if (rc)
      die("mmf_flush", rc);
  }
  mmf_close(m);
  return 0;
}

static void cmd_durable(void) {
  char p1[4096], p2[4096];
  bcase cs[4];
  payload = malloc(DURABLE_SIZE);
  if (!payload)
    exit(1);
  fill_text(payload, DURABLE_SIZE, 0);
  snprintf(p1, sizeof p1, "%s/mmf-bench-durable-a", dir);
  snprintf(p2, sizeof p2, "%s/mmf-bench-durable-b", dir);
  memset(cs, 0, sizeof cs);
  cs[0].name = "write+fsync 64MiB";
  cs[0].run = run_write_fsync;
  cs[0].path = p1;
  cs[0].bytes = DURABLE_SIZE;
  cs[1].name = "mmf_write+flush 64MiB";
  cs[1].run = run_mmf_write_flush;
  cs[1].path = p2;
  cs[1].bytes = DURABLE_SIZE;
  cs[2].name = "write+fdatasync 4K x256";
  cs[2].run = run_write_fsync;
  cs[2].path = p1;
  cs[2].bytes = RECORD * RECORDS;
  cs[2].arg = 1;
  cs[3].name = "mmf_write+flush 4K x256";
  cs[3].run = run_mmf_write_flush;
  cs[3].path = p2;
  cs[3].bytes = RECORD * RECORDS;
  cs[3].arg = 1;
  run_cases("durable", cs, 4, NULL);
  paired("durable", &cs[1], &cs[0]);
  paired("durable", &cs[3], &cs[2]);
  unlink(p1);
  unlink(p2);
  free(payload);
}

int main(int argc, char **argv) {
  int i = 1;
  uint64_t cold_mib = 1024;
  dir = getenv("MMF_BENCH_DIR");
  if (!dir || !*dir)
    dir = "/tmp";
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--cold-mib") == 0 && i + 1 < argc)
      cold_mib = strtoull(argv[++i], NULL, 10);
    else
      break;
  }
  if (i >= argc || runs < 1 || runs > MAX_RUNS) {
    fprintf(stderr, "usage: bench_files [--dir D] [--runs N] [--cold-mib N] "
                    "make|warm FILE|hot|breakeven|small|cold|threads|random|"
                    "durable\n");
    return 2;
  }
  snprintf(big_path, sizeof big_path, "%s/mmf-bench.txt", dir);
  if (strcmp(argv[i], "make") == 0) {
    make_file(big_path, BIG_SIZE);
  } else if (strcmp(argv[i], "warm") == 0 && i + 1 < argc) {
    double before = warm(argv[i + 1]);
    printf("%s: %.1f%% resident before, %.1f%% after\n", argv[i + 1],
           before * 100, resident_fraction(argv[i + 1]) * 100);
  } else if (strcmp(argv[i], "hot") == 0) {
    make_file(big_path, BIG_SIZE);
    cmd_hot();
  } else if (strcmp(argv[i], "breakeven") == 0) {
    cmd_breakeven();
  } else if (strcmp(argv[i], "small") == 0) {
    cmd_small();
  } else if (strcmp(argv[i], "cold") == 0) {
    cmd_cold(cold_mib * MIB);
  } else if (strcmp(argv[i], "threads") == 0) {
    make_file(big_path, BIG_SIZE);
    cmd_threads();
  } else if (strcmp(argv[i], "random") == 0) {
    make_file(big_path, BIG_SIZE);
    cmd_random();
  } else if (strcmp(argv[i], "durable") == 0) {
    cmd_durable();
  } else {
    fprintf(stderr, "bench_files: unknown command %s\n", argv[i]);
    return 2;
  }
  return 0;
}
