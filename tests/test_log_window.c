/*
 * test_log_window.c - readers see segments through windows: a budget
 * smaller than the segment, records longer than the budget, and a
 * process whose address space cannot hold a segment (RLIMIT_AS), where
 * mapping the whole segment fails and the reader still reads every record.
 *
 * Records are made from their sequence number (make_rec), so a reader
 * tells a right record from a wrong one without a copy of what was
 * written. Every tenth record is long: longer than a small budget, or
 * than the window a short address space leaves.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

#include "log/log_internal.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

/* Bytes of record seq: long ones of `big` bytes and more, short ones of
 * 0 to 4999 bytes. */
static size_t rec_len(uint64_t seq, size_t big) {
  return seq % 10 == 3 ? big + (size_t)(seq % 8) * 8 + 1
                       : (size_t)(seq * 37 % 5000);
}

static size_t make_rec(uint64_t seq, size_t big, unsigned char *buf) {
  size_t n = rec_len(seq, big);
  fill_pat(buf, seq * 7777u, n);
  return n;
}

/* Write records [0, n) to a new log at dir in segments of seg bytes. */
static void write_log(const char *dir, uint64_t seg, uint64_t n, size_t big) {
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *w = NULL;
  unsigned char *buf = malloc(big + 64);
  ASSERT_TRUE(buf != NULL);
  o.segment_size = seg;
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_log_open(&w, dir, MMF_WRITE, &o));
  for (uint64_t s = 0; s < n; s++)
    ASSERT_OK(mmf_log_append(w, buf, make_rec(s, big, buf), NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_ASYNC));
  ASSERT_OK(mmf_log_close(w));
  free(buf);
}

/* Read records [from, to) from r and check each; buf holds the longest.
 * *widest gets the longest window the reader mapped. */
static void read_all(mmf_log *r, uint64_t from, uint64_t to, size_t big,
                     unsigned char *buf, size_t *widest) {
  const void *rec;
  size_t len;
  uint64_t seq;
  for (uint64_t s = from; s < to; s++) {
    test_context("record %llu", (unsigned long long)s);
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
    ASSERT_EQ_U(seq, s);
    size_t n = make_rec(s, big, buf);
    ASSERT_EQ_U(len, n);
    ASSERT_MEMEQ(rec, buf, n);
    if (r->win.map_len > *widest)
      *widest = r->win.map_len;
    test_context_clear();
  }
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), MMF_EAGAIN);
}

TEST(reader_walks_segments_through_small_windows) {
  /* Segments of 1 MiB read through a budget of two granularity units
   * (8 KiB on Linux, 128 KiB on Windows): short records come from
   * windows no larger than the budget, a record longer than the budget
   * gets a window of its own length, and no window is ever the segment. */
  const uint64_t seg = MIB, n = 400;
  const size_t budget = 2 * mmf_granularity(), big = budget + budget / 2;
  unsigned char *buf = malloc(big + 64);
  size_t widest = 0;
  mmf_log *r = NULL;
  const void *rec;
  size_t len;
  uint64_t seq;
  ASSERT_TRUE(buf != NULL);
  write_log(test_path("log"), seg, n, big);
  ASSERT_OK(mmf_log_open(&r, test_path("log"), MMF_READ, NULL));
  r->budget = budget; /* what a short address space would leave */
  read_all(r, 0, n, big, buf, &widest);
  ASSERT_TRUE(widest > 0);
  ASSERT_LE_U(widest, big + 2 * budget);
  ASSERT_LT_U(widest, seg);
  /* Seeking walks the windows too, back and forth over segments. */
  const uint64_t at[] = {n - 1, 3, 250, 0, 123};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    ASSERT_OK(mmf_log_seek(r, at[i]));
    ASSERT_OK(mmf_log_next(r, &rec, &len, &seq, 0));
    ASSERT_EQ_U(seq, at[i]);
    ASSERT_EQ_U(len, make_rec(at[i], big, buf));
    ASSERT_MEMEQ(rec, buf, len);
  }
  ASSERT_OK(mmf_log_seek(r, MMF_LOG_END));
  ASSERT_ERR(mmf_log_next(r, &rec, &len, &seq, 0), MMF_EAGAIN);
  ASSERT_OK(mmf_log_close(r));
  free(buf);
}

#if !defined(TEST_ASAN) && !defined(_WIN32)

#define SHORT_SEG ((uint64_t)16 << 20)
#define SHORT_RECORDS 200
#define SHORT_BIG ((size_t)(2 * MIB))
#define HEADROOM ((rlim_t)6 << 20)

/* Address space this process holds now (/proc/self/statm: pages). */
static rlim_t address_space_used(void) {
  unsigned long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf(f, "%lu", &pages) != 1)
    pages = 0;
  fclose(f);
  return (rlim_t)pages * (rlim_t)mmf_page_size();
}

static int read_under_rlimit(void *arg) {
  const char *dir = arg;
  char seg0[1024];
  unsigned char *buf = malloc(SHORT_BIG + 64);
  size_t widest = 0;
  mmf_log *r = NULL;
  mmf_map *m = (mmf_map *)(uintptr_t)1;
  ASSERT_TRUE(buf != NULL);
  snprintf(seg0, sizeof seg0, "%s/%016llx.seg", dir, 0ull);
  rlim_t used = address_space_used();
  ASSERT_TRUE(used > 0);
  struct rlimit rl = {used + HEADROOM, used + HEADROOM};
  if (setrlimit(RLIMIT_AS, &rl) != 0)
    FAIL("setrlimit(RLIMIT_AS) failed");
  /* The negative control: a whole segment does not fit, so a reader that
   * mapped whole segments could not read this log here. */
  int rc = mmf_open(&m, seg0, MMF_READ, NULL);
  ASSERT_ERR(rc, MMF_ENOMEM);
  ASSERT_NULL(m);
  /* The reader's windows do. */
  ASSERT_OK(mmf_log_open(&r, dir, MMF_READ, NULL));
  read_all(r, 0, SHORT_RECORDS, SHORT_BIG, buf, &widest);
  ASSERT_GE_U(widest, SHORT_BIG);
  ASSERT_LT_U(widest, SHORT_SEG);
  test_note("segments of %llu MiB read in windows of at most %zu KiB",
            (unsigned long long)(SHORT_SEG >> 20), widest / KIB);
  ASSERT_OK(mmf_log_close(r));
  free(buf);
  return 0;
}

#endif /* !TEST_ASAN && !_WIN32 */

TEST(reader_reads_segments_larger_than_the_address_space_left) {
#ifdef TEST_ASAN
  SKIP("AddressSanitizer reserves terabytes of address space");
#elif defined(_WIN32)
  SKIP("Windows has no RLIMIT_AS (setrlimit) to bound the address space, "
       "and no fork() to apply it in a child");
#else
  if (test_rlimit_as_ignored())
    SKIP("setrlimit(RLIMIT_AS) succeeds but bounds nothing here "
         "(qemu-user ignores it)");
  /* Two segments of 16 MiB, each record of 2 MiB and more in a window of
   * its own, under a limit that leaves 6 MiB of address space. */
  write_log(test_path("log"), SHORT_SEG, SHORT_RECORDS, SHORT_BIG);
  ASSERT_EXITED(run_in_child(read_under_rlimit, (void *)test_path("log")), 0);
#endif
}
