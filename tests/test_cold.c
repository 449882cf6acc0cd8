/*
 * test_cold.c - scans of cold files (mmf.h, "How the input is read"): the
 * direct engine (MMF_SCAN_DIRECT, reads around the page cache) gives the
 * results of the mapped and the read engines at every size around its
 * alignment and its 4 MiB reads, over ranges that start and end anywhere,
 * on one thread and split; MMF_SCAN_AUTO picks it for an evicted file and
 * not for a resident one; where uncached reads are refused (at open, or
 * at a read) the file is read through the cache with the same results; a
 * file cut under it is MMF_ETRUNCATED with nothing left behind.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef _WIN32
#include "os/posix/sys_posix.h"
#endif

#define MIB ((uint64_t)1 << 20)
#define CHUNK (4 * MIB) /* the direct engine's reads (source_direct.c) */

/* The split unit and the cold threshold (src/scan/); tests lower them. */
extern uint64_t mmf__scan_split_unit;
extern uint64_t mmf__scan_cold_min;

/* A linear congruential generator: the text only needs to look random. */
static uint64_t lcg = 0x2545F4914F6CDD1Du;
static unsigned rnd16(void) {
  lcg = lcg * 6364136223846793005u + 1442695040888963407u;
  return (unsigned)(lcg >> 60);
}

/* Text of 'a', 'b' and '\n', with the needles planted across every 4 KiB
 * and 4 MiB boundary below n (where reads and pieces meet). */
static const char *const needles[] = {
    "a", "ab", "aab", "b\nb", "xyzzy", "the-needle-that-straddles"};
#define NNEEDLES (sizeof needles / sizeof needles[0])

static unsigned char *cold_text(size_t n) {
  unsigned char *p = malloc(n ? n : 1);
  ASSERT_TRUE(p != NULL);
  for (size_t i = 0; i < n; i++) {
    unsigned r = rnd16();
    p[i] = r < 10 ? 'a' : r < 14 ? 'b' : '\n';
  }
  for (size_t at = 4096, k = 0; at < n; at += at % CHUNK ? 4096 * 97 : 4096) {
    const char *x = needles[k++ % NNEEDLES];
    size_t m = strlen(x);
    if (at >= m / 2 && at - m / 2 + m <= n)
      memcpy(p + at - m / 2, x, m);
  }
  for (uint64_t at = CHUNK; at < n; at += CHUNK) {
    const char *x = needles[NNEEDLES - 1];
    size_t m = strlen(x);
    if (at - m / 2 + m <= n)
      memcpy(p + at - m / 2, x, m);
  }
  return p;
}

/* What every scan of [off, off + len) gives. */
typedef struct results {
  uint64_t bytes, lines, pos[NNEEDLES], matches[NNEEDLES];
} results;

static void scan_all(const char *path, const mmf_scan_options *o, results *r) {
  memset(r, 0, sizeof *r);
  ASSERT_OK(mmf_count_byte_path(path, o, 'a', &r->bytes));
  ASSERT_OK(mmf_count_lines_path(path, o, &r->lines));
  for (size_t k = 0; k < NNEEDLES; k++) {
    size_t m = strlen(needles[k]);
    ASSERT_OK(mmf_find_path(path, o, needles[k], m, &r->pos[k]));
    ASSERT_OK(mmf_count_matches_path(path, o, needles[k], m, &r->matches[k]));
  }
}

static void reference(const unsigned char *h, size_t n, uint64_t off,
                      results *r) {
  memset(r, 0, sizeof *r);
  ASSERT_OK(mmf_count_byte_mem(h, n, 'a', &r->bytes));
  ASSERT_OK(mmf_count_lines_mem(h, n, &r->lines));
  for (size_t k = 0; k < NNEEDLES; k++) {
    size_t m = strlen(needles[k]);
    uint64_t pos = MMF_NPOS;
    ASSERT_OK(mmf_find_mem(h, n, needles[k], m, &pos));
    r->pos[k] = pos == MMF_NPOS ? MMF_NPOS : pos + off;
    ASSERT_OK(mmf_count_matches_mem(h, n, needles[k], m, &r->matches[k], NULL));
  }
}

static void assert_same(const results *got, const results *want) {
  ASSERT_EQ_U(got->bytes, want->bytes);
  ASSERT_EQ_U(got->lines, want->lines);
  for (size_t k = 0; k < NNEEDLES; k++) {
    ASSERT_EQ_U(got->pos[k], want->pos[k]);
    ASSERT_EQ_U(got->matches[k], want->matches[k]);
  }
}

/* [off, off + len) of path (len 0: to the end) with io and threads
 * against the reference over c. */
static void check_range(const char *path, const unsigned char *c, size_t n,
                        uint64_t off, uint64_t len, int io, unsigned threads) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  results got, want;
  size_t span = (size_t)(len ? len : n - off);
  o.offset = off;
  o.length = len;
  o.io = io;
  o.threads = threads;
  reference(c + off, span, off, &want);
  scan_all(path, &o, &got);
  assert_same(&got, &want);
}

/* ------------------------------------------------------------------------ */
/* Same results                                                              */
/* ------------------------------------------------------------------------ */

TEST(every_size_around_the_reads) {
  /* Whole files of sizes around 4 KiB, the 8 KiB first read of a scan by
   * path, and one and two 4 MiB reads, forced direct on one thread and
   * on three (pieces of 64 KiB units), equal the reference. */
  static const uint64_t sizes[] = {0,
                                   1,
                                   4095,
                                   4096,
                                   4097,
                                   8191,
                                   8192,
                                   8193,
                                   12289,
                                   CHUNK - 1,
                                   CHUNK,
                                   CHUNK + 1,
                                   CHUNK + 4096,
                                   2 * CHUNK - 7,
                                   2 * CHUNK,
                                   2 * CHUNK + 8193};
  const char *path = test_path("f");
  mmf__scan_split_unit = 64 << 10;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = (size_t)sizes[i];
    unsigned char *c = cold_text(n);
    write_file(path, c, n);
    for (unsigned t = 1; t <= 3; t += 2) {
      test_context("size %zu, %u threads", n, t);
      check_range(path, c, n, 0, 0, MMF_SCAN_DIRECT, t);
    }
    free(c);
  }
}

TEST(ranges_start_and_end_anywhere) {
  /* Ranges of a 8 MiB + 5 file that start and end off the alignment,
   * just before, at and after 4 KiB and 4 MiB boundaries, forced direct
   * on 1 and 3 threads (64 KiB units), equal the reference, and so do
   * the read and mapped engines over one of them. */
  static const uint64_t offs[] = {1, 4095, 4097, CHUNK - 3, CHUNK + 1};
  static const uint64_t ends[] = {8193, CHUNK - 1, CHUNK, CHUNK + 2,
                                  2 * CHUNK + 5};
  const char *path = test_path("f");
  size_t n = (size_t)(2 * CHUNK + 5);
  unsigned char *c = cold_text(n);
  write_file(path, c, n);
  mmf__scan_split_unit = 64 << 10;
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
    for (size_t j = 0; j < sizeof ends / sizeof ends[0]; j++) {
      if (ends[j] <= offs[i])
        continue;
      for (unsigned t = 1; t <= 3; t += 2) {
        test_context("[%llu, %llu), %u threads", (unsigned long long)offs[i],
                     (unsigned long long)ends[j], t);
        check_range(path, c, n, offs[i], ends[j] - offs[i], MMF_SCAN_DIRECT, t);
      }
    }
  test_context("read and mapped");
  check_range(path, c, n, 4097, CHUNK, MMF_SCAN_READ, 2);
  check_range(path, c, n, 4097, CHUNK, MMF_SCAN_MAP, 2);
  free(c);
}

TEST(descriptor_and_iterators) {
  /* The _fd scans open the file again for uncached reads (Linux: through
   * /proc/self/fd) and leave the caller's descriptor as it was; the
   * iterators take MMF_SCAN_DIRECT too (lines read as MMF_SCAN_READ). */
  const char *path = test_path("f");
  size_t n = (size_t)(CHUNK + 12345);
  unsigned char *c = cold_text(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = 0, want, pos;
  int fd, fds;
  write_file(path, c, n);
  fd = test_open(path, O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  fds = count_open_fds();
  o.io = MMF_SCAN_DIRECT;
  for (unsigned t = 1; t <= 2; t++) {
    o.threads = t;
    ASSERT_OK(mmf_count_lines_fd(fd, &o, &v));
    ASSERT_OK(mmf_count_lines_mem(c, n, &want));
    ASSERT_EQ_U(v, want);
    ASSERT_OK(mmf_count_matches_fd(fd, &o, "ab", 2, &v));
    ASSERT_OK(mmf_count_matches_mem(c, n, "ab", 2, &want, NULL));
    ASSERT_EQ_U(v, want);
    ASSERT_EQ(count_open_fds(), fds);
  }
#ifndef _WIN32
  ASSERT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
#ifdef O_DIRECT
  ASSERT_EQ(fcntl(fd, F_GETFL) & O_DIRECT, 0); /* the caller's is untouched */
#endif
#endif
  close(fd);
  {
    mmf_lines *it = NULL;
    mmf_matches *m = NULL;
    const char *line;
    size_t len;
    uint64_t lines = 0, found = 0;
    o.threads = 0;
    ASSERT_OK(mmf_lines_open(&it, path, &o));
    while (mmf_lines_next(it, &line, &len) == 0 && line)
      lines++;
    ASSERT_OK(mmf_lines_close(it));
    ASSERT_OK(mmf_count_lines_mem(c, n, &want));
    ASSERT_EQ_U(lines, want);
    ASSERT_OK(mmf_matches_open(&m, path, &o, "xyzzy", 5));
    while (mmf_matches_next(m, &pos) == 0 && pos != MMF_NPOS)
      found++;
    ASSERT_OK(mmf_matches_close(m));
    ASSERT_OK(mmf_count_matches_mem(c, n, "xyzzy", 5, &want, NULL));
    ASSERT_EQ_U(found, want);
  }
  free(c);
}

/* ------------------------------------------------------------------------ */
/* The choice                                                                */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* Opens for uncached reads, seen through the call table; refuse_direct
 * makes them fail as a file system without O_DIRECT does. */
static _Atomic int direct_opens;
static int refuse_direct;
static bool uncached_flags(int flags) {
#ifdef O_DIRECT
  return (flags & O_DIRECT) != 0;
#else
  (void)flags;
  return false;
#endif
}
static int watching_open(const char *path, int flags, mode_t mode) {
  if (uncached_flags(flags)) {
    direct_opens++;
    if (refuse_direct) {
      errno = EINVAL;
      return -1;
    }
  }
  return mmf__sys_real.open(path, flags, mode);
}
#ifdef __APPLE__
static int watching_nocache(int fd) {
  direct_opens++;
  if (refuse_direct) {
    errno = EINVAL;
    return -1;
  }
  return mmf__sys_real.nocache(fd);
}
#endif
static void watch_opens(int refuse) {
  direct_opens = 0;
  refuse_direct = refuse;
  mmf__sys.open = watching_open;
#ifdef __APPLE__
  mmf__sys.nocache = watching_nocache;
#endif
}

/* The fraction of path in the page cache. */
static double resident(const char *path) {
  mmf_map *m = NULL;
  uint64_t bytes = 0;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
  double f = mmf_size(m) ? (double)bytes / (double)mmf_size(m) : 0;
  mmf_close(m);
  return f;
}

/* Drop path from the page cache (written back first); the fraction left. */
static double evict(const char *path) {
  int fd = test_open(path, O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  ASSERT_EQ(fsync(fd), 0);
#if defined(POSIX_FADV_DONTNEED) /* not on macOS: the file stays cached */
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
#endif
  close(fd);
  return resident(path);
}
#endif

TEST(auto_reads_an_evicted_file_around_the_cache) {
  /* The threshold lowered to 1 MiB: a 6 MiB file evicted right before
   * each scan is read uncached (an O_DIRECT open is seen) by every op on
   * 1 and 2 threads, with the results of the resident file; the same
   * file resident is mapped (no such open: the control). Where the file
   * system keeps files in memory (tmpfs) the cold half skips. */
#ifdef _WIN32
  SKIP("no uncached reads and no residency probe on Windows (direct_win.c)");
#else
  const char *path = test_path("cold");
  size_t n = (size_t)(6 * MIB + 99);
  unsigned char *c = cold_text(n);
  results want, got;
  double left;
  write_file(path, c, n);
  reference(c, n, 0, &want);
  mmf__scan_cold_min = MIB;
  mmf__scan_split_unit = 256 << 10;
  for (unsigned t = 1; t <= 2; t++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    o.threads = t;
    ASSERT_TRUE(resident(path) > 0.9);
    watch_opens(0);
    scan_all(path, &o, &got);
    mmf__sys = mmf__sys_real;
    assert_same(&got, &want);
    ASSERT_EQ(direct_opens, 0); /* hot: mapped */
  }
  left = evict(path);
  test_note("resident after eviction: %.0f%%", left * 100);
  if (left > 0.5)
    SKIP("the file stays in the page cache (tmpfs, or no posix_fadvise)");
  for (unsigned t = 1; t <= 2; t++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v = 0;
    o.threads = t;
    test_context("%u threads", t);
    ASSERT_TRUE(evict(path) < 0.5);
    watch_opens(0);
    ASSERT_OK(mmf_count_lines_path(path, &o, &v));
    mmf__sys = mmf__sys_real;
    ASSERT_EQ_U(v, want.lines);
    ASSERT_GT(direct_opens, 0);
    /* Uncached reads leave the file out of the cache: every op sees it
     * cold. */
    ASSERT_TRUE(resident(path) < 0.5);
    scan_all(path, &o, &got);
    assert_same(&got, &want);
  }
  free(c);
#endif
}

/* ------------------------------------------------------------------------ */
/* Refusals                                                                  */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* Reads of the uncached descriptor fail with EINVAL from the second one
 * on (a file system that takes the open and refuses the reads). */
static _Atomic int uncached_reads, refused_reads;
static ssize_t refusing_pread(int fd, void *buf, size_t n, off_t off) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && uncached_flags(fl) && uncached_reads++ > 0) {
    refused_reads++;
    errno = EINVAL;
    return -1;
  }
  return mmf__sys_real.pread(fd, buf, n, off);
}
#endif

TEST(refused_uncached_reads_read_through_the_cache) {
  /* An open for uncached reads refused (EINVAL, as from a file system
   * without O_DIRECT), and uncached reads refused after the first one:
   * the results are those of the reference, on 1 and 3 threads, and
   * no descriptor is left. */
#ifdef _WIN32
  SKIP("the POSIX call table is the one wrapped here");
#else
  const char *path = test_path("f");
  size_t n = (size_t)(2 * CHUNK + 4097);
  unsigned char *c = cold_text(n);
  int fds = count_open_fds();
  write_file(path, c, n);
  mmf__scan_split_unit = 256 << 10;
  for (unsigned t = 1; t <= 3; t += 2) {
    test_context("open refused, %u threads", t);
    watch_opens(1);
    check_range(path, c, n, 0, 0, MMF_SCAN_DIRECT, t);
    check_range(path, c, n, 7, n - 9, MMF_SCAN_DIRECT, t);
    mmf__sys = mmf__sys_real;
    ASSERT_GT(direct_opens, 0);
    ASSERT_EQ(count_open_fds(), fds);
#ifndef O_DIRECT
    continue; /* no O_DIRECT: no descriptor reads uncached */
#endif
    test_context("reads refused, %u threads", t);
    uncached_reads = refused_reads = 0;
    mmf__sys.pread = refusing_pread;
    check_range(path, c, n, 0, 0, MMF_SCAN_DIRECT, t);
    check_range(path, c, n, 4095, CHUNK + 2, MMF_SCAN_DIRECT, t);
    mmf__sys = mmf__sys_real;
    test_note("%u threads: uncached reads %d, refused %d", t,
              (int)uncached_reads, (int)refused_reads);
    ASSERT_GT(refused_reads, 0);
    ASSERT_EQ(count_open_fds(), fds);
  }
  free(c);
#endif
}

TEST(file_in_memory_file_system) {
  /* A file on tmpfs (/dev/shm), whose O_DIRECT older kernels refuse and
   * newer ones take: forced direct, the results are the reference's. */
#ifdef _WIN32
  SKIP("no tmpfs on Windows");
#else
  char path[64];
  size_t n = (size_t)(CHUNK + 4099);
  unsigned char *c = cold_text(n);
  int fd;
  (void)snprintf(path, sizeof path, "/dev/shm/mmf-test-cold-%d", (int)getpid());
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    free(c);
    SKIP("no /dev/shm here: %s", strerror(errno));
  }
  close(fd);
  write_file(path, c, n);
  watch_opens(0);
  for (unsigned t = 1; t <= 2; t++) {
    test_context("%u threads", t);
    check_range(path, c, n, 0, 0, MMF_SCAN_DIRECT, t);
    check_range(path, c, n, 3, n - 3, MMF_SCAN_DIRECT, t);
  }
  mmf__sys = mmf__sys_real;
  test_note("uncached opens on tmpfs: %d", (int)direct_opens);
  unlink(path);
  free(c);
#endif
}

/* ------------------------------------------------------------------------ */
/* Truncation                                                                */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* Cuts the file to 4 KiB at the first read at 8 MiB or later. */
static const char *cut_path;
static _Atomic int cut_done;
static ssize_t cutting_pread(int fd, void *buf, size_t n, off_t off) {
  int no = 0;
  if (off >= (off_t)(8 * MIB) &&
      atomic_compare_exchange_strong(&cut_done, &no, 1))
    ASSERT_EQ(truncate(cut_path, 4096), 0);
  return mmf__sys_real.pread(fd, buf, n, off);
}
#endif

TEST(cut_under_a_direct_scan) {
  /* The file is cut while the direct engine reads it, on 1, 2 and 4
   * threads: MMF_ETRUNCATED with a count below the total, and no
   * descriptor and no mapping (its buffer; with threads, of the file)
   * left. */
#ifdef _WIN32
  SKIP("Windows cannot cut a file another handle reads");
#else
  size_t n = (size_t)(24 * MIB);
  unsigned char *c = cold_text(n);
  uint64_t total;
  int fds, maps, file_maps;
  ASSERT_OK(mmf_count_lines_mem(c, n, &total));
  cut_path = test_path("f");
  /* One threaded scan first: the C library keeps the stacks of ended
   * threads, mappings that are not the scan's. */
  write_file(cut_path, c, n);
  {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v;
    o.threads = 4;
    o.io = MMF_SCAN_DIRECT;
    ASSERT_OK(mmf_count_lines_path(cut_path, &o, &v));
  }
  fds = count_open_fds();
  maps = count_mappings();
  file_maps = count_mappings_of(test_dir());
  for (unsigned t = 1; t <= 4; t *= 2) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v = 0;
    write_file(cut_path, c, n);
    cut_done = 0;
    o.io = MMF_SCAN_DIRECT;
    o.threads = t;
    o.length = n; /* the size is taken before the cut */
    mmf__sys.pread = cutting_pread;
    test_context("%u threads", t);
    ASSERT_ERR(mmf_count_lines_path(cut_path, &o, &v), MMF_ETRUNCATED);
    mmf__sys = mmf__sys_real;
    ASSERT_TRUE(cut_done);
    ASSERT_LT_U(v, total);
    ASSERT_EQ(count_open_fds(), fds);
    /* Every mapping is counted where no thread ran (the buffer is an
     * anonymous one); with threads, the runtime's own (sanitizers map
     * per thread) would blur that count: the file's mappings then. */
    if (t == 1)
      ASSERT_EQ(count_mappings(), maps);
    ASSERT_EQ(count_mappings_of(test_dir()), file_maps);
  }
  free(c);
#endif
}
