/*
 * bench_log.c - the log against its raw peers, measured in the same run.
 *
 *   bench_log [--dir DIR] [--runs N] [--quick]
 *
 * Each case runs N times (default 5), interleaved with its peer, and the
 * median is printed; ratios are medians of per-round ratios. The last
 * part of the output is a markdown section for docs/BENCHMARKS.md (lines
 * starting with "|" or "#").
 *
 * Cases:
 *  - append: 64-byte and 1 KiB records, no commit until the end, against
 *    a raw loop over a preallocated mapped file writing the same frames
 *    (header, CRC-32C, commit word);
 *  - durable commit per record, and group commits of 64 and 1,024
 *    records, against pwrite + fdatasync of the same frame bytes to a
 *    preallocated file; also appends through a raw map + msync, the other
 *    method the log could have used;
 *  - commit to visible in another process, the reader sleeping in
 *    mmf_log_next, against a raw futex wake of a sleeping process;
 *  - validation speed: a reader walking a 256 MiB log against CRC-32C
 *    over the same bytes; a writer's open that walks, checks and syncs
 *    all of it (written with one ASYNC commit), and the open after it;
 *  - SQLite in WAL mode inserting the same records (synchronous=FULL
 *    against SYNC commits, OFF against ASYNC), per record and per 64.
 *
 * Run it only on a quiet machine, under flock /tmp/mmf-bench.lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/syscall.h>
/* The kernel's futex operations (<linux/futex.h>, which musl's toolchain
 * does not see). */
#define RAW_FUTEX_WAIT 0
#define RAW_FUTEX_WAKE 1
#define raw_wait(w, v)                                                         \
  syscall(SYS_futex, (w), RAW_FUTEX_WAIT, (v), NULL, NULL, 0)
#define raw_wake(w) syscall(SYS_futex, (w), RAW_FUTEX_WAKE, 1, NULL, NULL, 0)
#else
#if defined(__APPLE__)
#define fdatasync fsync /* not declared on macOS; fsync promises as much */
/* No posix_fallocate on macOS: the peer's file is only sized there. */
#define posix_fallocate(fd, off, len) ftruncate((fd), (off) + (len))
#endif
/* No futex (macOS, the BSDs): the raw peer spins, so its figure there is
 * not the sleeping wake-up this benchmark compares with. */
#define raw_wait(w, v) ((void)(w), (void)(v))
#define raw_wake(w) ((void)(w))
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef MMF_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include "log/crc32c.h"
#include "log/log_internal.h"
#include "mmf.h"

static const char *dir = "/tmp";
static int runs = 5, quick;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_log: %s: %s\n", what,
          rc < 0 ? mmf_errname(rc) : strerror(errno));
  exit(1);
}

static char logdir[512], rawfile[512];

static void rm_log(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", logdir);
  if (system(cmd) != 0)
    die("rm", 1);
}

static mmf_log *new_log(void) {
  mmf_log *w;
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  int rc;
  rm_log();
  o.flags = MMF_CREATE;
  rc = mmf_log_open(&w, logdir, MMF_WRITE, &o);
  if (rc)
    die("mmf_log_open", rc);
  return w;
}

/* ---- The peers' frames: the same bytes the log writes ---------------- */

static size_t raw_frame(unsigned char *p, const void *rec, size_t len,
                        uint64_t seq) {
  uint32_t word = mmf__log_frame_fill(p, rec, len, seq, 0x1234u);
  memcpy(p + MMF__LOG_FRAME, rec, len);
  /* The commit word last, with release ordering, as the log does. */
  atomic_store_explicit(mmf__log_word(p), word, memory_order_release);
  return word;
}

static int raw_fd(uint64_t size) {
  int fd;
  unlink(rawfile);
  fd = open(rawfile, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || posix_fallocate(fd, 0, (off_t)size) != 0 || fsync(fd) != 0)
    die("raw file", 1);
  return fd;
}

/* ---- Appends ------------------------------------------------------------ */

/* n appends; an ASYNC commit every `every` records (0: only at the end).
 * A commit stores the commit words of the frames it publishes, so one
 * commit after a million appends walks them all again, out of cache. */
static double log_append(size_t len, uint64_t n, uint64_t every) {
  unsigned char rec[1024];
  mmf_log *w = new_log();
  double t;
  memset(rec, 'r', sizeof rec);
  t = now();
  for (uint64_t i = 0; i < n; i++) {
    if (mmf_log_append(w, rec, len, NULL) != 0)
      die("append", 1);
    if (every && (i + 1) % every == 0 &&
        mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
      die("commit", 1);
  }
  if (mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
    die("commit", 1);
  t = now() - t;
  mmf_log_close(w);
  return t;
}

static double raw_append(size_t len, uint64_t n) {
  unsigned char rec[1024];
  uint64_t size = mmf__log_frame_size(len) * n + 4096, off = 0;
  int fd = raw_fd(size);
  unsigned char *m =
      mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  double t;
  if (m == MAP_FAILED)
    die("mmap", 1);
  memset(rec, 'r', sizeof rec);
  t = now();
  for (uint64_t i = 0; i < n; i++)
    off += raw_frame(m + off, rec, len, i);
  t = now() - t;
  munmap(m, (size_t)size);
  close(fd);
  return t;
}

/* ---- Durable commits ------------------------------------------------------
 */

/* n commits of batch records each. */
static double log_commits(size_t len, int batch, int n, int level) {
  unsigned char rec[1024];
  mmf_log *w = new_log();
  double t;
  memset(rec, 'c', sizeof rec);
  t = now();
  for (int i = 0; i < n; i++) {
    for (int b = 0; b < batch; b++)
      if (mmf_log_append(w, rec, len, NULL) != 0)
        die("append", 1);
    if (mmf_log_commit(w, level) != 0)
      die("commit", 1);
  }
  t = now() - t;
  mmf_log_close(w);
  return t;
}

/* The raw peer: the same frames, one pwrite per commit, fdatasync. */
static double raw_pwrite_commits(size_t len, int batch, int n) {
  unsigned char rec[1024], *buf;
  size_t fsize = (size_t)mmf__log_frame_size(len);
  uint64_t off = 0, seq = 0;
  int fd = raw_fd(fsize * (uint64_t)batch * (uint64_t)n + 4096);
  double t;
  buf = malloc(fsize * (size_t)batch);
  memset(rec, 'c', sizeof rec);
  t = now();
  for (int i = 0; i < n; i++) {
    size_t at = 0;
    for (int b = 0; b < batch; b++)
      at += raw_frame(buf + at, rec, len, seq++);
    if (pwrite(fd, buf, at, (off_t)off) != (ssize_t)at || fdatasync(fd) != 0)
      die("pwrite/fdatasync", 1);
    off += at;
  }
  t = now() - t;
  free(buf);
  close(fd);
  return t;
}

/* The other method: frames through a raw map, msync of the new bytes. */
static double raw_msync_commits(size_t len, int batch, int n) {
  unsigned char rec[1024];
  size_t fsize = (size_t)mmf__log_frame_size(len);
  uint64_t size = fsize * (uint64_t)batch * (uint64_t)n + 8192, off = 0,
           synced = 0, seq = 0;
  int fd = raw_fd(size);
  unsigned char *m =
      mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  double t;
  memset(rec, 'c', sizeof rec);
  t = now();
  for (int i = 0; i < n; i++) {
    for (int b = 0; b < batch; b++)
      off += raw_frame(m + off, rec, len, seq++);
    uint64_t from = synced & ~(uint64_t)4095;
    if (msync(m + from, (size_t)(off - from), MS_SYNC) != 0)
      die("msync", 1);
    synced = off;
  }
  t = now() - t;
  munmap(m, (size_t)size);
  close(fd);
  return t;
}

/* ---- Commit to visible in another process ------------------------------ */

#define LAT_N 2000

/* The reader: sleeps in mmf_log_next, and reports now - the time in the
 * record, over a pipe. */
static void lat_reader(int out) {
  mmf_log *r;
  const void *rec;
  size_t len;
  double lat[LAT_N];
  if (mmf_log_open(&r, logdir, MMF_READ, NULL) != 0)
    _exit(3);
  for (int i = 0; i < LAT_N; i++) {
    double sent;
    if (mmf_log_next(r, &rec, &len, NULL, -1) != 0)
      _exit(4);
    memcpy(&sent, rec, sizeof sent);
    lat[i] = now() - sent;
  }
  if (write(out, lat, sizeof lat) != (ssize_t)sizeof lat)
    _exit(5);
  _exit(0);
}

static double log_visible(void) {
  mmf_log *w = new_log();
  int fds[2];
  double lat[LAT_N];
  pid_t pid;
  if (pipe(fds) != 0)
    die("pipe", 1);
  pid = fork();
  if (pid == 0)
    lat_reader(fds[1]);
  usleep(200000);
  for (int i = 0; i < LAT_N; i++) {
    double t;
    usleep(200); /* the reader is asleep again when the next comes */
    t = now();
    if (mmf_log_append(w, &t, sizeof t, NULL) != 0 ||
        mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
      die("append/commit", 1);
  }
  if (read(fds[0], lat, sizeof lat) != (ssize_t)sizeof lat)
    die("reader", 1);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  close(fds[1]);
  mmf_log_close(w);
  return median(lat, LAT_N);
}

/* The raw peer: a word in shared memory and FUTEX_WAIT/FUTEX_WAKE. */
static double raw_visible(void) {
  struct shared {
    _Atomic uint32_t word;
    double sent;
  } *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
              -1, 0);
  int fds[2];
  double lat[LAT_N];
  pid_t pid;
  if (s == MAP_FAILED || pipe(fds) != 0)
    die("mmap/pipe", 1);
  atomic_store(&s->word, 0);
  pid = fork();
  if (pid == 0) {
    for (uint32_t i = 0; i < LAT_N; i++) {
      while (atomic_load_explicit(&s->word, memory_order_acquire) == i)
        raw_wait(&s->word, i);
      lat[i] = now() - s->sent;
    }
    if (write(fds[1], lat, sizeof lat) != (ssize_t)sizeof lat)
      _exit(5);
    _exit(0);
  }
  usleep(200000);
  for (uint32_t i = 0; i < LAT_N; i++) {
    usleep(200);
    s->sent = now();
    atomic_store_explicit(&s->word, i + 1, memory_order_release);
    raw_wake(&s->word);
  }
  if (read(fds[0], lat, sizeof lat) != (ssize_t)sizeof lat)
    die("reader", 1);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  close(fds[1]);
  munmap(s, 4096);
  return median(lat, LAT_N);
}

/* ---- Validation -----------------------------------------------------------
 */

static uint64_t big_records;

static void make_big_log(void) {
  unsigned char rec[1000];
  mmf_log *w = new_log();
  uint64_t bytes = quick ? (64u << 20) : (256u << 20);
  memset(rec, 'v', sizeof rec);
  big_records = bytes / mmf__log_frame_size(sizeof rec);
  for (uint64_t i = 0; i < big_records; i++)
    if (mmf_log_append(w, rec, sizeof rec, NULL) != 0)
      die("append", 1);
  if (mmf_log_commit(w, MMF_FLUSH_ASYNC) != 0)
    die("commit", 1);
  mmf_log_close(w);
}

static double read_all(void) {
  mmf_log *r;
  const void *rec;
  size_t len;
  uint64_t n = 0;
  double t = now();
  if (mmf_log_open(&r, logdir, MMF_READ, NULL) != 0)
    die("open reader", 1);
  while (mmf_log_next(r, &rec, &len, NULL, 0) == 0)
    n++;
  t = now() - t;
  mmf_log_close(r);
  if (n != big_records)
    die("read back", 1);
  return t;
}

/* The writer's open. Right after the big log was written with ASYNC
 * commits no segment is marked complete, so the open walks, checks and
 * syncs every segment (the bytes of the whole log); opened again, only the
 * last segment, mostly unwritten, is walked. */
static double open_writer(void) {
  mmf_log *w;
  double t = now();
  if (mmf_log_open(&w, logdir, MMF_WRITE, NULL) != 0)
    die("open writer", 1);
  t = now() - t;
  mmf_log_close(w);
  return t;
}

static double raw_crc(uint64_t bytes) {
  unsigned char *b = malloc((size_t)bytes);
  uint32_t c;
  double t;
  memset(b, 'v', (size_t)bytes);
  t = now();
  c = mmf__crc32c(0, b, (size_t)bytes);
  t = now() - t;
  if (c == 42)
    printf(" ");
  free(b);
  return t;
}

/* ---- SQLite ----------------------------------------------------------------
 */

#ifdef MMF_HAVE_SQLITE
static double sqlite_inserts(size_t len, int batch, int n, int full) {
  char path[600], sql[128];
  sqlite3 *db;
  sqlite3_stmt *st;
  unsigned char rec[1024];
  double t;
  memset(rec, 's', sizeof rec);
  snprintf(path, sizeof path, "%s/bench.sqlite", logdir);
  rm_log();
  mkdir(logdir, 0777);
  if (sqlite3_open(path, &db) != SQLITE_OK)
    die("sqlite3_open", 1);
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
           full ? "FULL" : "OFF");
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(db, "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB)", NULL,
                   NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO r(v) VALUES(?)", -1, &st, NULL) !=
          SQLITE_OK)
    die("sqlite setup", 1);
  t = now();
  for (int i = 0; i < n; i++) {
    if (batch > 1)
      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int b = 0; b < batch; b++) {
      sqlite3_bind_blob(st, 1, rec, (int)len, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE)
        die("sqlite insert", 1);
      sqlite3_reset(st);
    }
    if (batch > 1)
      sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  }
  t = now() - t;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return t;
}
#endif

/* ---- Driver
 * ------------------------------------------------------------------ */

typedef struct result {
  const char *name;
  double v[32], peer[32], ratio[32];
} result;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else {
      fprintf(stderr, "usage: bench_log [--dir DIR] [--runs N] [--quick]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 31)
    runs = 5;
  snprintf(logdir, sizeof logdir, "%s/mmf-bench-log", dir);
  snprintf(rawfile, sizeof rawfile, "%s/mmf-bench-log.raw", dir);
  signal(SIGPIPE, SIG_IGN);

  uint64_t n64 = quick ? 500000 : 2000000, n1k = quick ? 50000 : 200000;
  int nsync = quick ? 100 : 300, n64b = quick ? 30 : 100,
      n1024 = quick ? 10 : 30;
  double a64[32], a64p[32], a64r[32], a1k[32], a1kp[32], a1kr[32];
  double a64c[32], a64cr[32], a1kc[32], a1kcr[32];
  double s1[32], s1p[32], s1m[32], s1r[32], g64[32], g64p[32], g64r[32];
  double g1k[32], g1kp[32], g1kr[32], vis[32], visp[32], rd[32], rc[32],
      crcp[32], rcv[32], rcv2[32];
  double q1[32], q1m[32], q64[32], q64m[32], o1[32], o1m[32], o64[32], o64m[32];
  int have_sqlite = 0;

  fprintf(stderr, "bench_log: %d runs in %s, crc32c %s\n", runs, dir,
          mmf__crc32c_name());
  for (int r = 0; r < runs; r++) {
    a64[r] = log_append(64, n64, 0);
    a64p[r] = raw_append(64, n64);
    a64c[r] = log_append(64, n64, 1024);
    a64r[r] = a64[r] / a64p[r];
    a64cr[r] = a64c[r] / a64p[r];
    a1k[r] = log_append(1024, n1k, 0);
    a1kp[r] = raw_append(1024, n1k);
    a1kc[r] = log_append(1024, n1k, 1024);
    a1kr[r] = a1k[r] / a1kp[r];
    a1kcr[r] = a1kc[r] / a1kp[r];
    s1p[r] = raw_pwrite_commits(64, 1, nsync);
    s1[r] = log_commits(64, 1, nsync, MMF_FLUSH_SYNC);
    s1m[r] = raw_msync_commits(64, 1, nsync);
    s1r[r] = s1[r] / s1p[r];
    g64[r] = log_commits(64, 64, n64b, MMF_FLUSH_SYNC);
    g64p[r] = raw_pwrite_commits(64, 64, n64b);
    g64r[r] = g64[r] / g64p[r];
    g1k[r] = log_commits(64, 1024, n1024, MMF_FLUSH_SYNC);
    g1kp[r] = raw_pwrite_commits(64, 1024, n1024);
    g1kr[r] = g1k[r] / g1kp[r];
    vis[r] = log_visible();
    visp[r] = raw_visible();
    make_big_log();
    rd[r] = read_all();
    rcv[r] = open_writer();
    rcv2[r] = open_writer();
    crcp[r] = raw_crc(big_records * mmf__log_frame_size(1000));
    rc[r] = rd[r] / crcp[r];
#ifdef MMF_HAVE_SQLITE
    have_sqlite = 1;
    q1[r] = sqlite_inserts(64, 1, nsync, 1);
    q1m[r] = log_commits(64, 1, nsync, MMF_FLUSH_SYNC);
    q64[r] = sqlite_inserts(64, 64, n64b, 1);
    q64m[r] = log_commits(64, 64, n64b, MMF_FLUSH_SYNC);
    o1[r] = sqlite_inserts(64, 1, (int)(n1k), 0);
    o1m[r] = log_commits(64, 1, (int)(n1k), MMF_FLUSH_ASYNC);
    o64[r] = sqlite_inserts(64, 64, (int)(n1k / 64), 0);
    o64m[r] = log_commits(64, 64, (int)(n1k / 64), MMF_FLUSH_ASYNC);
#endif
    fprintf(stderr, "bench_log: round %d/%d done\n", r + 1, runs);
  }
  rm_log();
  unlink(rawfile);

  uint64_t big = big_records * mmf__log_frame_size(1000);
  double m;
  printf("### The log (bench/bench_log.c)\n\n");
  printf("Medians of %d rounds; each ratio is the median of the per-round "
         "ratios against the peer measured right before or after it. "
         "CRC-32C: %s. Files in %s.\n\n",
         runs, mmf__crc32c_name(), dir);
  printf("| case | mmf log | raw peer | ratio (mmf/peer time) | goal |\n");
  printf("|---|---|---|---|---|\n");
  m = median(a64, runs);
  printf("| append 64 B, no commit | %.2f M rec/s | %.2f M rec/s (map + CRC "
         "+ commit word) | %.2f | >= 5 M/s |\n",
         (double)n64 / m / 1e6, (double)n64 / median(a64p, runs) / 1e6,
         median(a64r, runs));
  printf("| append 64 B, ASYNC commit every 1,024 | %.2f M rec/s | %.2f M "
         "rec/s | %.2f | >= 5 M/s |\n",
         (double)n64 / median(a64c, runs) / 1e6,
         (double)n64 / median(a64p, runs) / 1e6, median(a64cr, runs));
  m = median(a1k, runs);
  printf("| append 1 KiB, no commit | %.0f MB/s | %.0f MB/s | %.2f | >= 500 "
         "MB/s |\n",
         (double)n1k * 1024 / m / 1e6,
         (double)n1k * 1024 / median(a1kp, runs) / 1e6, median(a1kr, runs));
  printf("| append 1 KiB, ASYNC commit every 1,024 | %.0f MB/s | %.0f MB/s | "
         "%.2f | >= 500 MB/s |\n",
         (double)n1k * 1024 / median(a1kc, runs) / 1e6,
         (double)n1k * 1024 / median(a1kp, runs) / 1e6, median(a1kcr, runs));
  printf("| SYNC commit per 64 B record | %.0f us | %.0f us (pwrite + "
         "fdatasync); map + msync %.0f us | %.2f | <= 1.2 |\n",
         median(s1, runs) / nsync * 1e6, median(s1p, runs) / nsync * 1e6,
         median(s1m, runs) / nsync * 1e6, median(s1r, runs));
  printf("| group commit, 64 records | %.0f k rec/s | %.0f k rec/s | %.2f | "
         ">= 200 k/s |\n",
         64.0 * n64b / median(g64, runs) / 1e3,
         64.0 * n64b / median(g64p, runs) / 1e3, median(g64r, runs));
  printf("| group commit, 1,024 records | %.0f k rec/s | %.0f k rec/s | %.2f "
         "| >= 500 k/s |\n",
         1024.0 * n1024 / median(g1k, runs) / 1e3,
         1024.0 * n1024 / median(g1kp, runs) / 1e3, median(g1kr, runs));
  printf("| commit to visible, reader asleep in another process (median of "
         "%d) | %.1f us | %.1f us (futex wake) | %.2f | <= 15 us |\n",
         LAT_N, median(vis, runs) * 1e6, median(visp, runs) * 1e6,
         median(vis, runs) / median(visp, runs));
  printf("| reader validates a %.0f MiB log (hot) | %.2f GB/s | %.2f GB/s "
         "(CRC-32C alone) | %.2f | >= 1 GB/s |\n",
         (double)big / (1 << 20), (double)big / median(rd, runs) / 1e9,
         (double)big / median(crcp, runs) / 1e9, median(rc, runs));
  printf("| writer open after ASYNC commits only: every segment walked, "
         "checked and synced (%.0f MiB) | %.2f GB/s | | | >= 1 GB/s |\n",
         (double)big / (1 << 20), (double)big / median(rcv, runs) / 1e9);
  printf("| writer open of the same log again: its last segment walked "
         "(mostly unwritten) | %.1f ms | | | |\n",
         median(rcv2, runs) * 1e3);
  if (have_sqlite) {
    printf("\nAgainst SQLite %s in WAL mode, a table (id INTEGER PRIMARY "
           "KEY, v BLOB), 64-byte records:\n\n",
#ifdef MMF_HAVE_SQLITE
           sqlite3_libversion()
#else
           ""
#endif
    );
    printf("| promise | batch | mmf log | SQLite | mmf faster by |\n");
    printf("|---|---|---|---|---|\n");
    printf("| durable (SYNC / synchronous=FULL) | 1 | %.0f rec/s | %.0f "
           "rec/s | %.2fx |\n",
           nsync / median(q1m, runs), nsync / median(q1, runs),
           median(q1, runs) / median(q1m, runs));
    printf("| durable (SYNC / synchronous=FULL) | 64 | %.0f k rec/s | %.0f k "
           "rec/s | %.2fx |\n",
           64.0 * n64b / median(q64m, runs) / 1e3,
           64.0 * n64b / median(q64, runs) / 1e3,
           median(q64, runs) / median(q64m, runs));
    printf("| visible (ASYNC / synchronous=OFF) | 1 | %.0f k rec/s | %.0f k "
           "rec/s | %.2fx |\n",
           (double)n1k / median(o1m, runs) / 1e3,
           (double)n1k / median(o1, runs) / 1e3,
           median(o1, runs) / median(o1m, runs));
    printf("| visible (ASYNC / synchronous=OFF) | 64 | %.0f k rec/s | %.0f k "
           "rec/s | %.2fx |\n",
           (double)(n1k / 64 * 64) / median(o64m, runs) / 1e3,
           (double)(n1k / 64 * 64) / median(o64, runs) / 1e3,
           median(o64, runs) / median(o64m, runs));
  }
  (void)q1;
  (void)q1m;
  (void)q64;
  (void)q64m;
  (void)o1;
  (void)o1m;
  (void)o64;
  (void)o64m;
  return 0;
}
