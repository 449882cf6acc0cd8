/*
 * test_matches.c - the match iterator (mmf_matches_*) against a naive
 * reference: files of many sizes read and mapped, in one window and in
 * many, at offsets and lengths, by path and by descriptor; pipes fed a
 * few bytes at a time (occurrences spread over three and more reads);
 * /proc files; overlapping needles; line numbers; errors, truncation and
 * failing reads. Also the counts' promise that on failure they hold what
 * was counted before it.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <io.h>
#include <windows.h>

#include "os/win/sys_win.h"
#else
#include <unistd.h>

#include "os/posix/sys_posix.h"
#endif
#include "os/alloc.h"

static size_t gran(void) { return mmf_granularity(); }

/* Text where the needles below occur often, run together and across
 * lines: mostly 'a' and 'b', some '\n', some anything. */
static unsigned char *random_text(size_t n) {
  unsigned char *p = malloc(n ? n : 1);
  ASSERT_TRUE(p != NULL);
  for (size_t i = 0; i < n; i++) {
    unsigned r = (unsigned)(test_rand() % 16);
    p[i] = r < 7    ? 'a'
           : r < 10 ? 'b'
           : r < 12 ? '\n'
                    : (unsigned char)test_rand();
  }
  return p;
}

/* ------------------------------------------------------------------------ */
/* The reference                                                             */
/* ------------------------------------------------------------------------ */

typedef struct ref_match {
  uint64_t pos, line;
} ref_match;

/* Occurrences of x[0, m) in h[0, n), non-overlapping, left to right, with
 * input offsets base + i and lines counted from 1 at h[0]. */
static ref_match *ref_matches(const unsigned char *h, size_t n, uint64_t base,
                              const void *x, size_t m, size_t *count) {
  ref_match *v = malloc((n / (m ? m : 1) + 1) * sizeof *v);
  uint64_t line = 1;
  size_t i = 0, c = 0, nl = 0;
  ASSERT_TRUE(v != NULL);
  while (m <= n && i <= n - m) {
    const unsigned char *hit =
        memchr(h + i, *(const unsigned char *)x, n - m + 1 - i);
    if (!hit)
      break;
    i = (size_t)(hit - h);
    if (memcmp(h + i, x, m) == 0) {
      for (; nl < i; nl++)
        line += h[nl] == '\n';
      v[c].pos = base + i;
      v[c].line = line;
      c++;
      i += m;
    } else {
      i++;
    }
  }
  *count = c;
  return v;
}

/* Walk it to the end and compare with want[0, want_n). */
static void check_walk_ref(mmf_matches *it, const ref_match *want,
                           size_t want_n, size_t m, int lines) {
  size_t k;
  uint64_t pos;
  ASSERT_EQ_U(mmf_matches_line(it), 0);
  for (k = 0; k < want_n; k++) {
    int rc = mmf_matches_next(it, &pos);
    uint64_t line = mmf_matches_line(it);
    if (rc || pos != want[k].pos || line != (lines ? want[k].line : 0))
      FAIL("occurrence %zu of %zu (needle length %zu): %s, at %llu line "
           "%llu, want %llu line %llu",
           k, want_n, m, mmf_errname(rc), (unsigned long long)pos,
           (unsigned long long)line, (unsigned long long)want[k].pos,
           (unsigned long long)want[k].line);
  }
  for (int again = 0; again < 3; again++) {
    pos = 0;
    ASSERT_OK(mmf_matches_next(it, &pos));
    ASSERT_EQ_U(pos, MMF_NPOS);
  }
}

/* Walk it to the end and compare with the reference of r[0, rn) at input
 * offset base. */
static void check_walk(mmf_matches *it, const unsigned char *r, size_t rn,
                       uint64_t base, const void *x, size_t m, int lines) {
  size_t want_n;
  ref_match *want = ref_matches(r, rn, base, x, m, &want_n);
  check_walk_ref(it, want, want_n, m, lines);
  free(want);
}

static const char *const needles[] = {"a",    "aa",  "aba",    "ab\n", "\n",
                                      "\n\n", "bab", "aaaaaa", "zzzz", "b\na"};
#define N_NEEDLES (sizeof needles / sizeof needles[0])

/* Needles for large files, where every walk costs more: one common, one
 * absent, one across lines. */
static const char *const few_needles[] = {"aba", "zzzz", "b\na"};

/* The first nx needles of xs over path (content c[0, n)) with options o,
 * by path and by descriptor, with and without line numbers. */
static void check_file(const char *path, const unsigned char *c, size_t n,
                       const mmf_scan_options *o, const char *const *xs,
                       size_t nx) {
  size_t off = (size_t)o->offset, rn = o->length ? (size_t)o->length : n - off;
  for (size_t k = 0; k < nx; k++) {
    size_t want_n;
    ref_match *want =
        ref_matches(c + off, rn, off, xs[k], strlen(xs[k]), &want_n);
    for (int mode = 0; mode < 4; mode++) {
      int by_fd = mode & 1, lines = mode >> 1;
      mmf_scan_options lo = *o;
      mmf_matches *it = NULL;
      int fd = by_fd ? test_open(path, O_RDONLY) : -1;
      test_context("size %zu offset %zu length %llu budget %llu io %d "
                   "needle %zu by_fd %d lines %d",
                   n, off, (unsigned long long)o->length,
                   (unsigned long long)o->budget, o->io, k, by_fd, lines);
      if (lines)
        lo.flags |= MMF_SCAN_LINE_NUMBERS;
      ASSERT_OK(by_fd ? mmf_matches_open_fd(&it, fd, &lo, xs[k], strlen(xs[k]))
                      : mmf_matches_open(&it, path, &lo, xs[k], strlen(xs[k])));
      if (fd >= 0)
        close(fd); /* the iterator has its own */
      check_walk_ref(it, want, want_n, strlen(xs[k]), lines);
      ASSERT_OK(mmf_matches_close(it));
    }
    free(want);
  }
  test_context_clear();
}

static void check_sizes(const size_t *sizes, size_t count, uint64_t budget) {
  const char *path = test_path("in");
  for (size_t s = 0; s < count; s++) {
    size_t n = sizes[s];
    unsigned char *c = random_text(n);
    size_t offs[] = {0, 4097, 1, 70001};
    int big = n > ((size_t)1 << 20);
    const char *const *xs = big ? few_needles : needles;
    size_t nx = big ? sizeof few_needles / sizeof few_needles[0] : N_NEEDLES;
    write_file(path, c, n);
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++)
      for (size_t k = 0; k < (big ? 2 : sizeof offs / sizeof offs[0]); k++) {
        mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
        if (offs[k] > n)
          continue;
        o.io = io;
        o.budget = budget;
        o.offset = offs[k];
        check_file(path, c, n, &o, xs, nx);
        if (n - offs[k] > 3) {
          o.length = (n - offs[k]) / 2 + 1; /* a range ending mid-file */
          check_file(path, c, n, &o, xs, nx);
        }
      }
    free(c);
  }
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

TEST(files_match_the_reference) {
  static const size_t sizes[] = {0, 1, 5, 4095, 70000, 300000};
  check_sizes(sizes, sizeof sizes / sizeof sizes[0], 0);
}

TEST(files_in_small_windows_and_buffers) {
  /* Windows (and read buffers) of two granularity units: every file
   * spans several, and occurrences straddle their boundaries. */
  static const size_t sizes[] = {70000, 300000};
  check_sizes(sizes, sizeof sizes / sizeof sizes[0], 2 * gran());
}

TEST(file_past_the_break_even) {
  /* 3 MiB: MMF_SCAN_AUTO maps the rest after its first read. */
  static const size_t sizes[] = {(size_t)3 << 20};
  check_sizes(sizes, 1, 0);
}

TEST(occurrences_at_every_window_boundary) {
  /* A needle placed across the boundary of two windows at every split:
   * each occurrence is found once, at the right offset. */
  const char *x = "0123456789abcdef";
  size_t m = strlen(x), w = 2 * gran(), n = 4 * w;
  unsigned char *c = malloc(n);
  const char *path = test_path("edges");
  memset(c, '.', n);
  for (size_t split = 0; split <= m; split++) {
    size_t at = w - split, want_n;
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_matches *it;
    memset(c, '.', n);
    memcpy(c + at, x, m);
    memcpy(c + 2 * w - split, x, m); /* and across the next boundary */
    write_file(path, c, n);
    for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
      free(ref_matches(c, n, 0, x, m, &want_n));
      ASSERT_EQ_U(want_n, 2);
      o.io = io;
      o.budget = w;
      test_context("split %zu io %d", split, io);
      ASSERT_OK(mmf_matches_open(&it, path, &o, x, m));
      check_walk(it, c, n, 0, x, m, 0);
      ASSERT_OK(mmf_matches_close(it));
    }
  }
  free(c);
}

TEST(overlapping_needles_leftmost_first) {
  static const struct {
    const char *text, *needle;
    uint64_t want[4];
    size_t n;
  } cases[] = {
      {"aaaa", "aa", {0, 2}, 2},     {"aaaaa", "aa", {0, 2}, 2},
      {"aaaaaaa", "aaa", {0, 3}, 2}, {"abababa", "aba", {0, 4}, 2},
      {"xaaax", "aa", {1}, 1},       {"aaa", "aaaa", {0}, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    mmf_matches *it;
    uint64_t pos;
    write_file(test_path("t"), cases[k].text, strlen(cases[k].text));
    ASSERT_OK(mmf_matches_open(&it, test_path("t"), NULL, cases[k].needle,
                               strlen(cases[k].needle)));
    for (size_t i = 0; i < cases[k].n; i++) {
      ASSERT_OK(mmf_matches_next(it, &pos));
      ASSERT_EQ_U(pos, cases[k].want[i]);
    }
    ASSERT_OK(mmf_matches_next(it, &pos));
    ASSERT_EQ_U(pos, MMF_NPOS);
    ASSERT_OK(mmf_matches_close(it));
  }
}

TEST(needle_longer_than_half_a_window) {
  /* Kept bytes must leave windows room to advance: such a needle is
   * searched in a read buffer instead, with the same results. */
  size_t m = gran() + 100, n = 8 * gran();
  unsigned char *c = random_text(n), *x = malloc(m);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_matches *it;
  memcpy(x, c + 3 * gran() - 50, m); /* straddles a window boundary */
  write_file(test_path("long"), c, n);
  o.io = MMF_SCAN_MAP;
  o.budget = 2 * gran();
  ASSERT_OK(mmf_matches_open(&it, test_path("long"), &o, x, m));
  check_walk(it, c, n, 0, x, m, 0);
  ASSERT_OK(mmf_matches_close(it));
  free(x);
  free(c);
}

TEST(from_the_descriptor_position) {
  /* MMF_SCAN_FROM_POSITION: offset counts from where the descriptor
   * stands; positions stay file offsets, lines count from the first byte
   * scanned. */
  size_t n = 70000;
  unsigned char *c = random_text(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  write_file(test_path("f"), c, n);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_matches *it;
    int fd = test_open(test_path("f"), O_RDONLY);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(lseek(fd, 10, SEEK_SET), 10);
    o.io = io;
    o.offset = 3;
    o.flags = MMF_SCAN_FROM_POSITION | MMF_SCAN_LINE_NUMBERS;
    test_context("io %d", io);
    ASSERT_OK(mmf_matches_open_fd(&it, fd, &o, "b\na", 3));
    check_walk(it, c + 13, n - 13, 13, "b\na", 3, 1);
    ASSERT_OK(mmf_matches_close(it));
    ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 10); /* not moved */
    close(fd);
  }
  free(c);
}

TEST(needle_copied_at_open) {
  char needle[] = "ab";
  mmf_matches *it;
  uint64_t pos;
  write_file(test_path("t"), "xxabxx", 6);
  ASSERT_OK(mmf_matches_open(&it, test_path("t"), NULL, needle, 2));
  memcpy(needle, "zz", 2);
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, 2);
  ASSERT_OK(mmf_matches_close(it));
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

TEST(slow_pipe_occurrence_over_three_reads) {
  /* "HELLO_WORLD" arrives as HEL, LO_ and WORLD, each in its own read:
   * the iterator and the count both find it. */
  static const char *const parts[] = {"....HEL", "LO_", "WORLD\n"};
  for (int count = 0; count < 2; count++) {
    int fds[2];
    uint64_t v = 0;
    mmf_matches *it = NULL;
    test_pipe(fds);
    if (!count)
      ASSERT_OK(mmf_matches_open_fd(&it, fds[0], NULL, "HELLO_WORLD", 11));
    for (int k = 0; k < 3; k++) {
      ASSERT_EQ(write(fds[1], parts[k], strlen(parts[k])),
                (long)strlen(parts[k]));
      test_sleep_ms(50);
    }
    close(fds[1]);
    if (count) {
      ASSERT_OK(mmf_count_matches_fd(fds[0], NULL, "HELLO_WORLD", 11, &v));
      ASSERT_EQ_U(v, 1);
    } else {
      ASSERT_OK(mmf_matches_next(it, &v));
      ASSERT_EQ_U(v, 4);
      ASSERT_OK(mmf_matches_next(it, &v));
      ASSERT_EQ_U(v, MMF_NPOS);
      ASSERT_OK(mmf_matches_close(it));
    }
    close(fds[0]);
  }
}

TEST(pipes_fed_slowly_match_the_reference) {
  /* Random text in pieces of 1 to 7 bytes with pauses: occurrences of
   * the long needle are spread over up to six reads. */
  static const char *const x[] = {"aba", "aaaaaa", "b\na", "ab\nab\nab"};
  size_t n = 3000;
  unsigned char *c = random_text(n);
  for (size_t k = 0; k < sizeof x / sizeof x[0]; k++)
    for (int lines = 0; lines < 2; lines++) {
      test_fed_pipe f;
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      mmf_matches *it;
      int fd = test_fed_pipe_start(&f, c, n, 7, lines ? 0 : 1);
      o.offset = k; /* skipped, but counted in the offsets */
      o.flags = lines ? MMF_SCAN_LINE_NUMBERS : 0;
      test_context("needle %zu lines %d", k, lines);
      ASSERT_OK(mmf_matches_open_fd(&it, fd, &o, x[k], strlen(x[k])));
      check_walk(it, c + k, n - k, k, x[k], strlen(x[k]), lines);
      ASSERT_OK(mmf_matches_close(it));
      close(fd);
      test_fed_pipe_join(&f);
    }
  free(c);
}

TEST(fifo_by_path) {
  test_fifo f;
  size_t n = 300000;
  unsigned char *c = malloc(n);
  unsigned char x[3];
  mmf_matches *it;
  fill_pat(c, 0, n);
  memcpy(x, c + 1000, sizeof x);
  test_fifo_start(&f, "fifo", n);
  ASSERT_OK(mmf_matches_open(&it, f.path, NULL, x, sizeof x));
  check_walk(it, c, n, 0, x, sizeof x, 0);
  ASSERT_OK(mmf_matches_close(it));
  ASSERT_EXITED(test_fifo_wait(&f), 0);
  free(c);
}

TEST(nonblocking_pipe_retry) {
#ifdef _WIN32
  SKIP("no O_NONBLOCK pipes on Windows");
#else
  int fds[2];
  mmf_matches *it;
  uint64_t pos;
  test_pipe(fds);
  ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  ASSERT_OK(mmf_matches_open_fd(&it, fds[0], NULL, "needle", 6));
  ASSERT_ERR(mmf_matches_next(it, &pos), MMF_EAGAIN);
  ASSERT_EQ_U(pos, MMF_NPOS);
  ASSERT_EQ(write(fds[1], "xxnee", 5), 5);
  ASSERT_ERR(mmf_matches_next(it, &pos), MMF_EAGAIN);
  ASSERT_EQ(write(fds[1], "dlexneedle", 10), 10);
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, 2);
  close(fds[1]);
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, 9);
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, MMF_NPOS);
  ASSERT_OK(mmf_matches_close(it));
  close(fds[0]);
#endif
}

TEST(proc_files) {
#ifdef _WIN32
  SKIP("no /proc on Windows");
#else
  static const char *const paths[] = {"/proc/version", "/proc/filesystems"};
  for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
    unsigned char want[65536];
    ssize_t got;
    int fd = open(paths[p], O_RDONLY);
    if (fd < 0)
      SKIP("no %s", paths[p]);
    got = read(fd, want, sizeof want);
    close(fd);
    ASSERT_GT(got, 0);
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++)
      for (uint64_t off = 0; off < 6; off += 5) {
        mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
        mmf_matches *it;
        const char *x = p ? "\n" : "e";
        o.io = io;
        o.offset = off;
        o.flags = MMF_SCAN_LINE_NUMBERS;
        test_context("%s io %d offset %llu", paths[p], io,
                     (unsigned long long)off);
        ASSERT_OK(mmf_matches_open(&it, paths[p], &o, x, 1));
        check_walk(it, want + off, (size_t)got - off, off, x, 1, 1);
        ASSERT_OK(mmf_matches_close(it));
      }
  }
#endif
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

TEST(bad_arguments) {
  mmf_matches *it = (mmf_matches *)&it;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t pos = 7;
  write_file(test_path("f"), "abc", 3);
  ASSERT_ERR(mmf_matches_open(NULL, test_path("f"), NULL, "a", 1), MMF_EINVAL);
  ASSERT_ERR(mmf_matches_open(&it, NULL, NULL, "a", 1), MMF_EINVAL);
  ASSERT_NULL(it);
  it = (mmf_matches *)&it;
  ASSERT_ERR(mmf_matches_open(&it, test_path("f"), NULL, NULL, 1), MMF_EINVAL);
  ASSERT_NULL(it);
  ASSERT_ERR(mmf_matches_open(&it, test_path("f"), NULL, "a", 0), MMF_EINVAL);
  ASSERT_ERR(mmf_matches_open_fd(&it, -1, NULL, "a", 1), MMF_EINVAL);
  ASSERT_NULL(it);
  o.flags = 1u << 30;
  ASSERT_ERR(mmf_matches_open(&it, test_path("f"), &o, "a", 1), MMF_EINVAL);
  o.flags = 0;
  o.io = 9;
  ASSERT_ERR(mmf_matches_open(&it, test_path("f"), &o, "a", 1), MMF_EINVAL);
  o.io = 0;
  o.offset = 4;
  ASSERT_ERR(mmf_matches_open(&it, test_path("f"), &o, "a", 1), MMF_ERANGE);
  ASSERT_NULL(it);
  ASSERT_ERR(mmf_matches_next(NULL, &pos), MMF_EINVAL);
  ASSERT_EQ_U(pos, MMF_NPOS);
  ASSERT_OK(mmf_matches_open(&it, test_path("f"), NULL, "b", 1));
  ASSERT_ERR(mmf_matches_next(it, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, 1);
  ASSERT_EQ_U(mmf_matches_line(it), 0); /* not asked for */
  ASSERT_OK(mmf_matches_close(it));
  ASSERT_EQ_U(mmf_matches_line(NULL), 0);
  ASSERT_EQ(mmf_matches_close(NULL), 0);
}

TEST(paths_that_are_not_files) {
  mmf_matches *it = NULL;
  test_mkdir(test_path("dir"));
  ASSERT_ERR(mmf_matches_open(&it, test_path("missing"), NULL, "a", 1),
             MMF_ENOENT);
  ASSERT_NE(mmf_matches_last_os_error(NULL), 0);
  ASSERT_NULL(it);
  ASSERT_ERR(mmf_matches_open(&it, test_path("dir"), NULL, "a", 1), MMF_EISDIR);
  ASSERT_NULL(it);
}

TEST(empty_file_ends_at_once) {
  mmf_matches *it;
  uint64_t pos;
  write_file(test_path("empty"), NULL, 0);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    o.io = io;
    ASSERT_OK(mmf_matches_open(&it, test_path("empty"), &o, "a", 1));
    ASSERT_OK(mmf_matches_next(it, &pos));
    ASSERT_EQ_U(pos, MMF_NPOS);
    ASSERT_OK(mmf_matches_close(it));
  }
}

TEST(no_descriptor_left_behind) {
  int before = count_open_fds(), maps = count_mappings_of(test_dir());
  size_t n = (size_t)3 << 20;
  unsigned char *c = random_text(n);
  write_file(test_path("f"), c, n);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_matches *it;
    uint64_t pos;
    o.io = io;
    ASSERT_OK(mmf_matches_open(&it, test_path("f"), &o, "ab", 2));
    ASSERT_OK(mmf_matches_next(it, &pos)); /* mid-walk */
    ASSERT_OK(mmf_matches_close(it));
    ASSERT_ERR(mmf_matches_open(&it, test_path("nope"), &o, "ab", 2),
               MMF_ENOENT);
  }
  ASSERT_EQ(count_open_fds(), before);
  ASSERT_EQ(count_mappings_of(test_dir()), maps);
  free(c);
}

TEST(truncated_under_the_iterator) {
  /* The file is cut while the iterator holds a window of it: the next
   * search faults, which comes back as MMF_ETRUNCATED (never SIGBUS) and
   * stays. Occurrences handed out before were right. */
  size_t w = 2 * gran(), n = 16 * w;
  unsigned char *c = malloc(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_matches *it;
  uint64_t pos;
  test_need_truncate_mapped();
  for (size_t i = 0; i < n; i++)
    c[i] = i % 1000 == 0 ? 'x' : '.';
  write_file(test_path("f"), c, n);
  o.io = MMF_SCAN_MAP;
  o.budget = w;
  ASSERT_OK(mmf_matches_open(&it, test_path("f"), &o, "x", 1));
  ASSERT_OK(mmf_matches_next(it, &pos));
  ASSERT_EQ_U(pos, 0);
  test_truncate_mapped(test_path("f"), 0);
  for (;;) {
    int rc = mmf_matches_next(it, &pos);
    if (rc) {
      ASSERT_ERR(rc, MMF_ETRUNCATED);
      ASSERT_EQ_U(pos, MMF_NPOS);
      break;
    }
    /* The rest of the batch found before the cut. */
    ASSERT_NE_U(pos, MMF_NPOS);
    ASSERT_EQ_U(pos % 1000, 0);
    ASSERT_LT_U(pos, w);
  }
  ASSERT_ERR(mmf_matches_next(it, &pos), MMF_ETRUNCATED);
  ASSERT_OK(mmf_matches_close(it));
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Failing reads: the count so far, and the iterator                         */
/* ------------------------------------------------------------------------ */

/* Make the fail_at-th positioned read of the backend fail with EIO (on
 * Windows, ReadFile with ERROR_CRC); reads before it work. */
static int reads_seen, fail_at;
#ifdef _WIN32
static BOOL WINAPI failing_read(HANDLE h, LPVOID buf, DWORD n, LPDWORD got,
                                LPOVERLAPPED ov) {
  if (++reads_seen == fail_at) {
    SetLastError(ERROR_CRC);
    return FALSE;
  }
  return mmf__sys_real.ReadFile(h, buf, n, got, ov);
}
static void fail_reads_from(int n) {
  reads_seen = 0;
  fail_at = n;
  mmf__sys.ReadFile = failing_read;
}
static void real_reads(void) { mmf__sys.ReadFile = mmf__sys_real.ReadFile; }
#else
static ssize_t failing_pread(int fd, void *buf, size_t n, off_t off) {
  if (++reads_seen == fail_at) {
    errno = EIO;
    return -1;
  }
  return mmf__sys_real.pread(fd, buf, n, off);
}
static ssize_t failing_read(int fd, void *buf, size_t n) {
  if (++reads_seen == fail_at) {
    errno = EIO;
    return -1;
  }
  return mmf__sys_real.read(fd, buf, n);
}
static void fail_reads_from(int n) {
  reads_seen = 0;
  fail_at = n;
  mmf__sys.pread = failing_pread;
  mmf__sys.read = failing_read;
}
static void real_reads(void) {
  mmf__sys.pread = mmf__sys_real.pread;
  mmf__sys.read = mmf__sys_real.read;
}
#endif

TEST(counts_hold_the_count_so_far_when_a_read_fails) {
  /* A file of '\n' and "ab" read in buffers: when the k-th read fails,
   * each count holds what the reads before it brought, neither 0 (the old
   * promise) nor the whole. Negative control: the same scans without the
   * failure count everything. */
  size_t n = (size_t)3 << 20;
  unsigned char *c = malloc(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v, full_nl, full_ab, seen_partial = 0;
  for (size_t i = 0; i < n; i++)
    c[i] = "ab\n"[i % 3];
  write_file(test_path("f"), c, n);
  o.io = MMF_SCAN_READ;
  ASSERT_OK(mmf_count_byte_path(test_path("f"), &o, '\n', &full_nl));
  ASSERT_EQ_U(full_nl, n / 3);
  ASSERT_OK(mmf_count_matches_path(test_path("f"), &o, "ab", 2, &full_ab));
  ASSERT_EQ_U(full_ab, n / 3);
  for (int k = 2; k < 6; k++) {
    uint64_t lines;
    test_context("read %d fails", k);
    fail_reads_from(k);
    v = 12345;
    ASSERT_ERR(mmf_count_byte_path(test_path("f"), &o, '\n', &v), MMF_EIO);
    /* Whole buffers before the failing read, each a run of "ab\n". */
    ASSERT_GT(v, 0);
    ASSERT_LT_U(v, full_nl);
    seen_partial += v;
    fail_reads_from(k);
    ASSERT_ERR(mmf_count_lines_path(test_path("f"), &o, &lines), MMF_EIO);
    ASSERT_EQ_U(lines, v); /* the same '\n' bytes, no last-line rule */
    fail_reads_from(k);
    v = 12345;
    ASSERT_ERR(mmf_count_matches_path(test_path("f"), &o, "ab", 2, &v),
               MMF_EIO);
    ASSERT_GT(v, 0);
    ASSERT_LT_U(v, full_ab);
    fail_reads_from(k);
    v = 12345;
    ASSERT_ERR(mmf_find_path(test_path("f"), &o, "zz", 2, &v), MMF_EIO);
    ASSERT_EQ_U(v, MMF_NPOS); /* a position is never partial */
    real_reads();
  }
  test_note("partial counts sum to %llu", (unsigned long long)seen_partial);
  real_reads();
  /* A failure before any byte: 0. */
  fail_reads_from(1);
  v = 12345;
  ASSERT_ERR(mmf_count_byte_path(test_path("f"), &o, '\n', &v), MMF_EIO);
  ASSERT_EQ_U(v, 0);
  real_reads();
  free(c);
}

TEST(iterator_when_a_read_fails) {
  /* The walk ends with the read's error, which stays; every occurrence
   * handed out before it is right. */
  size_t n = (size_t)3 << 20, want_n;
  unsigned char *c = random_text(n);
  ref_match *want = ref_matches(c, n, 0, "aba", 3, &want_n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  write_file(test_path("f"), c, n);
  o.io = MMF_SCAN_READ;
  o.flags = MMF_SCAN_LINE_NUMBERS;
  for (int k = 1; k < 5; k++) {
    mmf_matches *it;
    uint64_t pos;
    size_t got = 0;
    int rc;
    test_context("read %d fails", k);
    fail_reads_from(k);
    rc = mmf_matches_open(&it, test_path("f"), &o, "aba", 3);
    if (rc) {
      ASSERT_ERR(rc, MMF_EIO);
      ASSERT_NE(mmf_matches_last_os_error(NULL), 0);
      real_reads();
      continue;
    }
    while ((rc = mmf_matches_next(it, &pos)) == 0 && pos != MMF_NPOS) {
      ASSERT_LT_U(got, want_n);
      ASSERT_EQ_U(pos, want[got].pos);
      ASSERT_EQ_U(mmf_matches_line(it), want[got].line);
      got++;
    }
    ASSERT_ERR(rc, MMF_EIO);
    ASSERT_NE(mmf_matches_last_os_error(it), 0);
    ASSERT_LT_U(got, want_n);
    ASSERT_ERR(mmf_matches_next(it, &pos), MMF_EIO);
    real_reads();
    ASSERT_OK(mmf_matches_close(it));
  }
  free(want);
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Failing allocations                                                       */
/* ------------------------------------------------------------------------ */

static int allocs_seen, alloc_fail_at, allocs_live;

static void *counted_malloc(size_t n) {
  void *p;
  if (++allocs_seen == alloc_fail_at)
    return NULL;
  p = mmf__alloc_real.malloc(n);
  allocs_live += p != NULL;
  return p;
}

static void *counted_calloc(size_t count, size_t size) {
  void *p;
  if (++allocs_seen == alloc_fail_at)
    return NULL;
  p = mmf__alloc_real.calloc(count, size);
  allocs_live += p != NULL;
  return p;
}

static void *counted_realloc(void *old, size_t n) {
  void *p;
  if (++allocs_seen == alloc_fail_at)
    return NULL;
  p = mmf__alloc_real.realloc(old, n);
  allocs_live += old == NULL && p != NULL;
  return p;
}

static void counted_free(void *p) {
  allocs_live -= p != NULL;
  mmf__alloc_real.free(p);
}

TEST(every_allocation_failing_in_turn) {
  /* The k-th allocation of open, walk and close fails, for every k: the
   * call that met it returns MMF_ENOMEM (open leaves *out NULL) or gets
   * over it with the whole answer, and nothing stays allocated. Then a run
   * with no failure left finds all. */
  size_t n = (size_t)3 << 20, want_n;
  unsigned char *c = random_text(n);
  ref_match *want = ref_matches(c, n, 0, "aba", 3, &want_n);
  int k, io, failures = 0, recovered = 0;
  write_file(test_path("f"), c, n);
  for (io = MMF_SCAN_AUTO, k = 1; io <= MMF_SCAN_READ; k++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_matches *it = NULL;
    uint64_t pos;
    size_t got = 0;
    int rc;
    allocs_seen = allocs_live = 0;
    alloc_fail_at = k;
    mmf__alloc.malloc = counted_malloc;
    mmf__alloc.calloc = counted_calloc;
    mmf__alloc.realloc = counted_realloc;
    mmf__alloc.free = counted_free;
    o.flags = MMF_SCAN_LINE_NUMBERS;
    o.io = io;
    rc = mmf_matches_open(&it, test_path("f"), &o, "aba", 3);
    if (rc == 0) {
      while ((rc = mmf_matches_next(it, &pos)) == 0 && pos != MMF_NPOS) {
        ASSERT_EQ_U(pos, want[got].pos);
        got++;
      }
      ASSERT_OK(mmf_matches_close(it));
    } else {
      ASSERT_NULL(it);
    }
    mmf__alloc = mmf__alloc_real;
    test_context("io %d, allocation %d fails", io, k);
    ASSERT_EQ(allocs_live, 0);
    if (allocs_seen < k) { /* no failure was left to meet */
      ASSERT_OK(rc);
      ASSERT_EQ_U(got, want_n);
      io++;
      k = 0;
      continue;
    }
    if (rc == 0) {
      /* Met and got over: a window refused for want of memory is taken
       * again smaller (Windows allocates while it maps). The answer must
       * then be whole. */
      ASSERT_EQ_U(got, want_n);
      recovered++;
      continue;
    }
    ASSERT_ERR(rc, MMF_ENOMEM);
    failures++;
  }
  test_note("%d allocations failed in turn: %d calls said MMF_ENOMEM, %d got "
            "over it",
            failures + recovered, failures, recovered);
  free(want);
  free(c);
}
