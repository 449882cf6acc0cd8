/*
 * test_threads.c - scans split over threads (mmf.h, "Several threads"):
 * every count, find and match count with 1 to 8 threads equals the one
 * thread result and a naive reference, on inputs of every size up to a
 * few cuts (the split unit lowered to a few bytes, so that pieces are
 * small), with needles that straddle the cuts and overlap themselves; at
 * the real 2 MiB unit on larger files; truncation and read errors in a
 * worker come back as the call's code with nothing left behind; refused
 * threads; the workers' signal mask.
 */
#include "scan_reference.h"

#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef _WIN32
#include "os/win/sys_win.h"
#else
#include <dirent.h>
#include <pthread.h>
#include <signal.h>

#include "os/posix/sys_posix.h"
#endif

/* Under ThreadSanitizer (scans 20x slower) the exhaustive loops take
 * every 5th size: races show in any size that splits. Under an emulator,
 * every 7th (size_step). */
#ifdef TEST_TSAN
#define SIZE_STEP 5
#else
#define SIZE_STEP 1
#endif

/* Under an emulator every scan costs milliseconds: Wine emulates the file
 * calls, qemu-user (known by its copy of /proc/self/stat) every thread's
 * start and every instruction. Every 7th size there: the every-size loop
 * took 470 s under qemu-user. */
static size_t size_step(void) {
  static size_t step;
  if (step == 0)
    step = test_under_wine() || test_proc_copied("/proc/self/stat") ? 7
                                                                    : SIZE_STEP;
  return step;
}

#define SENTINEL 0x5a5a5a5a5a5a5a5aull
#define MIB ((uint64_t)1 << 20)

/* The split unit (scan_parallel.c); tests lower it. */
extern uint64_t mmf__scan_split_unit;

/* Text where every needle below is common and overlaps itself: mostly
 * 'a', some 'b' and '\n'. */
static void fill_text(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned r = (unsigned)(test_rand() % 16);
    p[i] = r < 10 ? 'a' : r < 14 ? 'b' : '\n';
  }
}

static unsigned char *random_text(size_t n) {
  unsigned char *p = malloc(n ? n : 1);
  ASSERT_TRUE(p != NULL);
  fill_text(p, n);
  return p;
}

/* Needles that overlap themselves ("aa", "aba", "abab"), cross lines,
 * and one longer than the smallest pieces. */
static const char *const needles[] = {"a",    "aa",   "aaa",  "aba",
                                      "abab", "b\na", "aaab", "aaaaaaaaaaaa"};
#define NNEEDLES (sizeof needles / sizeof needles[0])

/* What one scan of [off, off + len) of the file gives, every op. */
typedef struct results {
  int rc[4];
  uint64_t bytes, lines, pos[NNEEDLES], matches[NNEEDLES];
} results;

static void scan_all(const char *path, const mmf_scan_options *o, results *r) {
  memset(r, 0, sizeof *r);
  r->rc[0] = mmf_count_byte_path(path, o, 'a', &r->bytes);
  r->rc[1] = mmf_count_lines_path(path, o, &r->lines);
  for (size_t k = 0; k < NNEEDLES; k++) {
    size_t m = strlen(needles[k]);
    int rc = mmf_find_path(path, o, needles[k], m, &r->pos[k]);
    if (rc)
      r->rc[2] = rc;
    rc = mmf_count_matches_path(path, o, needles[k], m, &r->matches[k]);
    if (rc)
      r->rc[3] = rc;
  }
}

/* The references over h[0, n). */
static void reference(const unsigned char *h, size_t n, results *r) {
  memset(r, 0, sizeof *r);
  r->bytes = ref_count(h, n, 'a');
  r->lines = ref_count(h, n, '\n') + (n > 0 && h[n - 1] != '\n');
  for (size_t k = 0; k < NNEEDLES; k++) {
    size_t m = strlen(needles[k]);
    r->pos[k] = ref_find(h, n, needles[k], m);
    r->matches[k] = ref_matches(h, n, needles[k], m, NULL);
  }
}

static void assert_same(const results *got, const results *want) {
  for (int i = 0; i < 4; i++)
    ASSERT_OK(got->rc[i]);
  ASSERT_EQ_U(got->bytes, want->bytes);
  ASSERT_EQ_U(got->lines, want->lines);
  for (size_t k = 0; k < NNEEDLES; k++) {
    test_context("needle \"%s\"", needles[k]);
    ASSERT_EQ_U(got->pos[k], want->pos[k]);
    ASSERT_EQ_U(got->matches[k], want->matches[k]);
  }
}

/* The file's whole range and two others, with `threads`, in io mode io,
 * against one thread and the reference. */
static void check_threads(const char *path, const unsigned char *c, size_t n,
                          unsigned threads, int io) {
  uint64_t offs[3] = {0, n / 3, n > 5 ? 5 : 0};
  uint64_t lens[3] = {0, n - n / 3 - n / 5, n > 5 ? n - 5 : 0};
  for (int k = 0; k < 3; k++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    results one, many, ref;
    size_t len = (size_t)(lens[k] ? lens[k] : n - offs[k]);
    o.offset = offs[k];
    o.length = lens[k];
    o.io = io;
    test_context("size %zu, range %d, %u threads, io %d", n, k, threads, io);
    scan_all(path, &o, &one);
    o.threads = threads;
    scan_all(path, &o, &many);
    reference(c + offs[k], len, &ref);
    for (size_t i = 0; i < NNEEDLES; i++) /* file offsets */
      if (ref.pos[i] != MMF_NPOS)
        ref.pos[i] += offs[k];
    assert_same(&one, &ref);
    assert_same(&many, &ref);
  }
}

/* ------------------------------------------------------------------------ */
/* Every size, every thread count                                            */
/* ------------------------------------------------------------------------ */

TEST(every_size_matches_one_thread) {
  /* Units of 8 bytes: pieces of 32 bytes and more, so sizes up to 300
   * make up to nine pieces, and sync points are looked for only one byte
   * past a cut, so that runs of overlapping occurrences drop cuts. */
  const char *path = test_path("f");
  mmf__scan_split_unit = 8;
  for (size_t n = 0; n <= 300; n += size_step()) {
    unsigned char *c = random_text(n);
    write_file(path, c, n);
    for (unsigned t = 1; t <= 8; t++)
      check_threads(path, c, n, t, (int)((n + t) % 3));
    free(c);
  }
}

TEST(every_size_fd_and_position) {
  /* The _fd twins, and MMF_SCAN_FROM_POSITION, split alike. */
  const char *path = test_path("f");
  mmf__scan_split_unit = 8;
  for (size_t n = 0; n <= 200; n += 7) {
    unsigned char *c = random_text(n);
    write_file(path, c, n);
    int fd = test_open(path, O_RDONLY);
    ASSERT_TRUE(fd >= 0);
    for (unsigned t = 1; t <= 8; t++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v = SENTINEL, pos = SENTINEL, skip = n / 4;
      ASSERT_EQ((long long)lseek(fd, (off_t)skip, SEEK_SET), (long long)skip);
      o.threads = t;
      o.flags = MMF_SCAN_FROM_POSITION;
      test_context("size %zu, %u threads", n, t);
      ASSERT_OK(mmf_count_matches_fd(fd, &o, "aa", 2, &v));
      ASSERT_EQ_U(v, ref_matches(c + skip, n - skip, "aa", 2, NULL));
      ASSERT_OK(mmf_count_lines_fd(fd, &o, &v));
      ASSERT_EQ_U(v, ref_count(c + skip, n - skip, '\n') +
                         (n > skip && c[n - 1] != '\n'));
      ASSERT_OK(mmf_find_fd(fd, &o, "ab", 2, &pos));
      uint64_t want = ref_find(c + skip, n - skip, "ab", 2);
      ASSERT_EQ_U(pos, want == MMF_NPOS ? MMF_NPOS : want + skip);
      /* The position is not moved. */
      ASSERT_EQ((long long)lseek(fd, 0, SEEK_CUR), (long long)skip);
    }
    close(fd);
    free(c);
  }
}

/* Text of runs of one letter: occurrences of "aa" and "aaa" chain across
 * cuts, and runs of "ab" chain "abab". */
static unsigned char *runs_text(size_t n, size_t run) {
  unsigned char *p = malloc(n ? n : 1);
  ASSERT_TRUE(p != NULL);
  for (size_t i = 0; i < n;) {
    size_t len = 1 + (size_t)(test_rand() % run);
    int kind = (int)(test_rand() % 3);
    for (size_t j = 0; j < len && i < n; j++, i++)
      p[i] = kind == 0 ? 'a' : kind == 1 ? (j % 2 ? 'b' : 'a') : '\n';
  }
  return p;
}

TEST(self_overlapping_runs_drop_cuts) {
  /* Runs of a's and of "abab" longer than the pieces: the sync point of
   * a cut lies past the reach, the cut is dropped, and the piece before
   * counts across it. Small units, every size up to 400. */
  const char *path = test_path("f");
  mmf__scan_split_unit = 8;
  for (size_t n = 0; n <= 400; n += 3 * size_step()) {
    unsigned char *c = runs_text(n, 1 + n / 4);
    write_file(path, c, n);
    for (unsigned t = 2; t <= 8; t += 3)
      check_threads(path, c, n, t, (int)(n % 3));
    free(c);
  }
}

TEST(one_long_run) {
  /* The whole input is one run of a's: no cut has a sync point, one
   * piece counts everything. "aa" in 2k+1 a's is k. */
  const char *path = test_path("f");
  size_t n = 4001;
  unsigned char *c = malloc(n);
  ASSERT_TRUE(c != NULL);
  memset(c, 'a', n);
  write_file(path, c, n);
  mmf__scan_split_unit = 16;
  for (unsigned t = 1; t <= 8; t++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v = SENTINEL;
    o.threads = t;
    ASSERT_OK(mmf_count_matches_path(path, &o, "aa", 2, &v));
    ASSERT_EQ_U(v, 2000);
    ASSERT_OK(mmf_count_matches_path(path, &o, "aaa", 3, &v));
    ASSERT_EQ_U(v, 1333);
  }
  free(c);
}

/* ------------------------------------------------------------------------ */
/* The real unit                                                             */
/* ------------------------------------------------------------------------ */

TEST(needles_straddle_2mib_cuts) {
  /* 24 MiB + 5 bytes of text (12 units, pieces of 4 units with 2, 3
   * and 8 threads); at every 2 MiB offset an occurrence of each needle is
   * planted to straddle it, and around the 8 MiB cuts a run of 100,000
   * a's (beyond the 64 KiB reach: that cut is dropped) or of "ab" pairs.
   * Every op with 2, 3 and 8 threads equals one thread and the
   * reference, read and mapped. */
  const char *path = test_path("big");
  size_t n = (size_t)(24 * MIB) + 5;
  unsigned char *c = random_text(n);
  results ref;
  for (uint64_t at = 2 * MIB; at + 200000 < n; at += 2 * MIB) {
    size_t k = (size_t)(at / (2 * MIB)) % NNEEDLES;
    size_t m = strlen(needles[k]);
    memcpy(c + at - m / 2, needles[k], m);
    if (at % (8 * MIB) == 0)
      for (size_t i = 0; i < 100000; i++)
        c[at - 50000 + i] = k % 2 ? 'a' : "ab"[i % 2];
  }
  write_file(path, c, n);
  reference(c, n, &ref);
  for (unsigned t = 2; t <= 8; t = t == 3 ? 8 : t + 1)
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      results many;
      o.io = io;
      o.threads = t;
      test_context("%u threads, io %d", t, io);
      scan_all(path, &o, &many);
      assert_same(&many, &ref);
    }
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Threads left behind, failures                                             */
/* ------------------------------------------------------------------------ */

/* One threaded scan before a test counts threads: a sanitizer's runtime
 * starts a thread of its own at the first thread created. */
static void warm_up_threads(void) {
  unsigned char c[100];
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  uint64_t unit = mmf__scan_split_unit;
  fill_text(c, sizeof c);
  write_file(test_path("warm"), c, sizeof c);
  mmf__scan_split_unit = 16;
  o.threads = 2;
  o.length = sizeof c;
  ASSERT_OK(mmf_count_byte_path(test_path("warm"), &o, 'a', &v));
  mmf__scan_split_unit = unit;
}

/* The most threads counted by a worker as it starts (it sets its mask
 * through the call table first thing): the negative control of "no
 * thread outlives the call", which shows that the count sees workers. */
static _Atomic int most_threads;
#if !defined(_WIN32)
static int count_at_start(int how, const sigset_t *set, sigset_t *old) {
  int n = count_threads(), m = most_threads;
  while (n > m && !atomic_compare_exchange_weak(&most_threads, &m, n))
    ;
  return mmf__sys_real.thread_sigmask(how, set, old);
}
#endif

TEST(truncated_under_threads) {
  /* A child cuts the file to 4 KiB while 4 threads count it in small
   * windows or buffers: MMF_ETRUNCATED (or the whole count, or the count
   * of the first 4 KiB when the cut came before the scan took the size),
   * with the count so
   * far below the total; afterwards no descriptor, no mapping and no
   * thread is left. Each worker counts the threads as it starts, which
   * shows that the count sees them. */
  test_need_truncate_mapped();
  size_t n = (size_t)(64 * MIB);
  unsigned char *c = random_text(n);
  uint64_t want = ref_count(c, n, '\n');
  int base, truncated = 0;
  warm_up_threads();
  base = count_threads();
  int fds = count_open_fds(), maps = count_mappings_of(test_dir());
#if !defined(_WIN32)
  mmf__sys.thread_sigmask = count_at_start;
#endif
  for (int round = 0; round < 8 && truncated < 2; round++) {
    for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v = SENTINEL;
      test_proc p;
      char delay[16];
      int rc;
      write_file(test_path("f"), c, n);
      o.io = io;
      o.threads = 4;
      o.budget = 32 * (uint64_t)mmf_granularity();
      snprintf(delay, sizeof delay, "%d", round * 3);
      p = test_spawn("truncate_after",
                     (const char *const[]){test_path("f"), delay, NULL});
      rc = mmf_count_byte_path(test_path("f"), &o, '\n', &v);
      ASSERT_EXITED(test_wait(p), 0);
      if (rc == 0) {
        if (v != want) /* cut before the scan took the size */
          ASSERT_EQ_U(v, ref_count(c, 4096, '\n'));
      } else {
        ASSERT_ERR(rc, MMF_ETRUNCATED);
        ASSERT_LT_U(v, want);
        truncated++;
      }
      ASSERT_EQ(count_open_fds(), fds);
      ASSERT_EQ(count_mappings_of(test_dir()), maps);
    }
  }
  mmf__sys = mmf__sys_real;
  test_note("truncations seen: %d; most threads while scanning: %d (%d "
            "before)",
            truncated, (int)most_threads, base);
  if (base > 0) {
    ASSERT_GT(most_threads, base); /* at least one worker */
    /* Fewer is fine: a thread that was still leaving when base was
     * counted (qemu-user has been seen at one fewer and one more). */
    ASSERT_LE(count_threads_settled(base), base);
  }
  free(c);
}

#if !defined(_WIN32)
/* Cuts the file to 4 KiB when a worker first maps or reads at 8 MiB or
 * later, before the call goes through: the cut always falls inside a
 * threaded scan, at a point one worker is about to reach. */
static const char *cut_path;
static _Atomic int cut_done;
static void cut_once(off_t off) {
  int no = 0;
  if (off >= (off_t)(8 * MIB) &&
      atomic_compare_exchange_strong(&cut_done, &no, 1))
    ASSERT_EQ(truncate(cut_path, 4096), 0);
}
static void *cutting_mmap(void *addr, size_t len, int prot, int flags, int fd,
                          off_t off) {
  cut_once(off);
  return mmf__sys_real.mmap(addr, len, prot, flags, fd, off);
}
static ssize_t cutting_pread(int fd, void *buf, size_t n, off_t off) {
  cut_once(off);
  return mmf__sys_real.pread(fd, buf, n, off);
}
#endif

TEST(truncated_inside_a_worker) {
  /* The file is cut while the workers run, every time: each op with 2, 4
   * and 8 threads, mapped, read and direct, returns MMF_ETRUNCATED with a count
   * below the total (at most what lay before 8 MiB and a piece), and no
   * descriptor, mapping or thread is left behind. */
#ifdef _WIN32
  SKIP("Windows cannot cut a mapped file");
#else
  size_t n = (size_t)(32 * MIB);
  unsigned char *c = random_text(n);
  uint64_t want = ref_count(c, n, '\n');
  int base;
  warm_up_threads();
  base = count_threads();
  int fds = count_open_fds(), maps = count_mappings_of(test_dir());
  cut_path = test_path("f");
  for (unsigned t = 2; t <= 8; t *= 2)
    for (int io = MMF_SCAN_READ; io <= MMF_SCAN_DIRECT; io++)
      for (int op = 0; op < 3; op++) {
        mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
        uint64_t v = SENTINEL;
        int rc;
        write_file(cut_path, c, n);
        cut_done = 0;
        o.io = io;
        o.threads = t;
        o.length = n; /* the size is taken before the cut */
        mmf__sys.mmap = cutting_mmap;
        mmf__sys.pread = cutting_pread;
        test_context("%u threads, io %d, op %d", t, io, op);
        rc = op == 0   ? mmf_count_lines_path(cut_path, &o, &v)
             : op == 1 ? mmf_count_matches_path(cut_path, &o, "ab", 2, &v)
                       : mmf_find_path(cut_path, &o, "never", 5, &v);
        mmf__sys = mmf__sys_real;
        ASSERT_TRUE(cut_done);
        ASSERT_ERR(rc, MMF_ETRUNCATED);
        if (op == 2)
          ASSERT_EQ_U(v, MMF_NPOS);
        else
          ASSERT_LT_U(v, op == 0 ? want : ref_matches(c, n, "ab", 2, NULL));
        ASSERT_EQ(count_open_fds(), fds);
        ASSERT_EQ(count_mappings_of(test_dir()), maps);
        if (base > 0)
          ASSERT_LE(count_threads_settled(base), base);
      }
  free(c);
#endif
}

TEST_CHILD(truncate_after) {
  (void)argc;
  test_sleep_ms((unsigned)atoi(argv[2]));
  test_truncate_mapped(argv[1], 4096);
  return 0;
}

/* Thread creation that fails: every worker is refused. */
static int refused;
#ifdef _WIN32
static HANDLE WINAPI no_thread(LPSECURITY_ATTRIBUTES sa, SIZE_T stack,
                               LPTHREAD_START_ROUTINE fn, LPVOID arg,
                               DWORD flags, LPDWORD id) {
  (void)sa, (void)stack, (void)fn, (void)arg, (void)flags, (void)id;
  refused++;
  SetLastError(ERROR_NOT_ENOUGH_MEMORY);
  return NULL;
}
#else
static int no_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  (void)t, (void)fn, (void)arg;
  refused++;
  return EAGAIN;
}
#endif

TEST(refused_threads_are_no_error) {
  /* The system refuses every thread: the calling thread scans every piece
   * and the results are the same. The refusals are counted (they did
   * happen). */
  const char *path = test_path("f");
  size_t n = 2000;
  unsigned char *c = random_text(n);
  results many, ref;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  write_file(path, c, n);
  mmf__scan_split_unit = 16;
  o.length = n; /* a range: a small file by path is otherwise read first */
#ifdef _WIN32
  mmf__sys.CreateThread = no_thread;
#else
  mmf__sys.thread_create = no_thread;
#endif
  o.threads = 4;
  scan_all(path, &o, &many);
  mmf__sys = mmf__sys_real;
  reference(c, n, &ref);
  assert_same(&many, &ref);
  ASSERT_GT(refused, 0);
  free(c);
}

/* Reads that fail from a given file offset on. */
static int64_t fail_from = -1;
#ifdef _WIN32
static BOOL WINAPI failing_read(HANDLE h, LPVOID buf, DWORD n, LPDWORD got,
                                LPOVERLAPPED ov) {
  if (ov && fail_from >= 0 &&
      ((int64_t)ov->Offset | ((int64_t)ov->OffsetHigh << 32)) >= fail_from) {
    SetLastError(ERROR_CRC);
    return FALSE;
  }
  return mmf__sys_real.ReadFile(h, buf, n, got, ov);
}
#else
static ssize_t failing_pread(int fd, void *buf, size_t n, off_t off) {
  if (fail_from >= 0 && off >= fail_from) {
    errno = EIO;
    return -1;
  }
  return mmf__sys_real.pread(fd, buf, n, off);
}
#endif

/* Whether v counts 'a' in c[0, q) for a cut q (a multiple of the unit,
 * 16 here) in [from, to]. */
static bool count_up_to_a_cut(const unsigned char *c, uint64_t v, size_t from,
                              size_t to) {
  for (size_t q = from - from % 16; q <= to; q += 16)
    if (q >= from && ref_count(c, q, 'a') == v)
      return true;
  return false;
}

static void fail_reads_from(int64_t off) {
  fail_from = off;
#ifdef _WIN32
  mmf__sys.ReadFile = failing_read;
#else
  mmf__sys.pread = failing_pread;
#endif
}

TEST(failing_piece_is_the_calls_code) {
  /* Reads that start at offset 200 or later fail. With 2 to 8 threads
   * the pieces that start there fail (a piece that starts before reads
   * all of its at most 32 units in one read): the count is MMF_EIO, with
   * the OS error behind it, and holds exactly the pieces before the first
   * failing one, whichever thread read them: the count up to a cut
   * between 200 and 200 + 32 units. */
  const char *path = test_path("f");
  size_t n = 2000;
  unsigned char *c = random_text(n);
#ifdef _WIN32
  const int want_os = ERROR_CRC;
#else
  const int want_os = EIO;
#endif
  mmf__scan_split_unit = 16;
  write_file(path, c, n);
  fail_reads_from(200);
  for (unsigned t = 2; t <= 8; t++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v = SENTINEL;
    o.io = MMF_SCAN_READ;
    o.threads = t;
    o.length = n; /* a range: no read-first of the whole file */
    test_context("%u threads", t);
    ASSERT_ERR(mmf_count_byte_path(path, &o, 'a', &v), MMF_EIO);
    ASSERT_EQ(mmf_last_os_error(NULL), want_os);
    ASSERT_NE_U(v, 0);
    test_context("%u threads, count %llu", t, (unsigned long long)v);
    ASSERT_TRUE(count_up_to_a_cut(c, v, 200, 200 + 32 * 16));
    v = SENTINEL;
    ASSERT_ERR(mmf_count_matches_path(path, &o, "ab", 2, &v), MMF_EIO);
    ASSERT_LE_U(v, ref_matches(c, 200 + 32 * 16 + 1, "ab", 2, NULL));
    ASSERT_ERR(mmf_find_path(path, &o, "bbbbbbbbbbbb", 12, &v), MMF_EIO);
    ASSERT_EQ_U(v, MMF_NPOS);
  }
  mmf__sys = mmf__sys_real;
  fail_from = -1;
  free(c);
}

TEST(find_before_a_failing_piece) {
  /* "xyz" at 100 is found although reads fail from 1000 on: one thread
   * would have stopped there before reaching the failure. "pqr" at 1500
   * lies past reads that fail from 500 on: the failure is the code (one
   * thread reading the whole range in one read finds it, so that case is
   * not compared). */
  const char *path = test_path("f");
  size_t n = 2000;
  unsigned char *c = malloc(n);
  ASSERT_TRUE(c != NULL);
  memset(c, 'a', n);
  memcpy(c + 100, "xyz", 3);
  memcpy(c + 1500, "pqr", 3);
  mmf__scan_split_unit = 16;
  write_file(path, c, n);
  for (unsigned t = 1; t <= 8; t++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t pos = SENTINEL;
    o.io = MMF_SCAN_READ;
    o.length = n;
    o.threads = t;
    test_context("%u threads", t);
    fail_reads_from(1000);
    ASSERT_OK(mmf_find_path(path, &o, "xyz", 3, &pos));
    ASSERT_EQ_U(pos, 100);
    if (t > 1) {
      fail_reads_from(500);
      ASSERT_ERR(mmf_find_path(path, &o, "pqr", 3, &pos), MMF_EIO);
      ASSERT_EQ_U(pos, MMF_NPOS);
    }
  }
  mmf__sys = mmf__sys_real;
  fail_from = -1;
  free(c);
}

TEST(streams_and_small_inputs_use_one_thread) {
  /* A pipe cannot be split: it is read by the calling thread, with the
   * same results. */
  unsigned char c[5000];
  int fds[2];
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = SENTINEL;
  fill_text(c, sizeof c);
  mmf__scan_split_unit = 16;
  test_pipe(fds);
  ASSERT_EQ(write(fds[1], c, sizeof c), (int)sizeof c);
  close(fds[1]);
  o.threads = 8;
  ASSERT_OK(mmf_count_matches_fd(fds[0], &o, "aa", 2, &v));
  ASSERT_EQ_U(v, ref_matches(c, sizeof c, "aa", 2, NULL));
  close(fds[0]);
}

#if !defined(_WIN32)
/* Each worker's signal mask, read by the worker itself right after it set
 * it (through the call table); fail_mask makes setting it fail. */
static _Atomic int masks_seen, sigint_open, faults_blocked;
static int fail_mask;
static int observe_sigmask(int how, const sigset_t *set, sigset_t *old) {
  sigset_t now;
  int e = fail_mask ? EINVAL : mmf__sys_real.thread_sigmask(how, set, old);
  if (pthread_sigmask(SIG_BLOCK, NULL, &now) == 0) {
    masks_seen++;
    if (!sigismember(&now, SIGINT))
      sigint_open = 1;
    if (sigismember(&now, SIGBUS) || sigismember(&now, SIGSEGV))
      faults_blocked = 1;
  }
  return e;
}

static void scan_with_observed_masks(int fail) {
  const char *path = test_path("f");
  size_t n = 4000;
  unsigned char *c = random_text(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = SENTINEL;
  write_file(path, c, n);
  mmf__scan_split_unit = 16;
  masks_seen = sigint_open = faults_blocked = 0;
  fail_mask = fail;
  mmf__sys.thread_sigmask = observe_sigmask;
  o.threads = 4;
  o.length = n;
  ASSERT_OK(mmf_count_matches_path(path, &o, "ab", 2, &v));
  mmf__sys = mmf__sys_real;
  ASSERT_EQ_U(v, ref_matches(c, n, "ab", 2, NULL));
  free(c);
}
#endif

TEST(workers_take_no_asynchronous_signals) {
  /* Every worker blocks SIGINT and leaves SIGBUS and SIGSEGV open (the
   * guard needs them). Negative control: when blocking fails, the worker
   * runs with the creator's mask, SIGINT open, and the scan still counts
   * right. */
#ifdef _WIN32
  SKIP("Windows threads have no signal mask");
#else
  sigset_t mine;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, NULL, &mine), 0);
  scan_with_observed_masks(0);
  test_note("worker masks seen: %d", (int)masks_seen);
  ASSERT_GT(masks_seen, 0);
  ASSERT_FALSE(sigint_open);
  ASSERT_FALSE(faults_blocked);
  scan_with_observed_masks(1);
  ASSERT_GT(masks_seen, 0);
  ASSERT_FALSE(faults_blocked);
  if (!sigismember(&mine, SIGINT))
    ASSERT_TRUE(sigint_open);
#endif
}

#if !defined(_WIN32)
/* A join that reports failure without waiting, keeping the thread for the
 * test to join; workers that start late. */
static pthread_t unjoined[8];
static int n_unjoined;
static int refuse_join(pthread_t t) {
  unjoined[n_unjoined++] = t;
  return ESRCH;
}
static _Atomic int woke;
static int late_start(int how, const sigset_t *set, sigset_t *old) {
  test_sleep_ms(20);
  woke++;
  return mmf__sys_real.thread_sigmask(how, set, old);
}
#endif

TEST(failed_join_still_waits_for_the_workers) {
  /* The joins fail without waiting while the workers have not even
   * started: the call returns the join's error (ESRCH), with the count
   * of every piece, and only after every worker woke and finished with
   * the call's memory (without the wait it returns 20 ms before they
   * wake). */
#ifdef _WIN32
  SKIP("the POSIX join is the one wrapped here");
#else
  const char *path = test_path("f");
  size_t n = 4000;
  unsigned char *c = random_text(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = SENTINEL;
  write_file(path, c, n);
  mmf__scan_split_unit = 16;
  o.threads = 4;
  o.length = n;
  mmf__sys.thread_join = refuse_join;
  mmf__sys.thread_sigmask = late_start;
  ASSERT_ERR(mmf_count_byte_path(path, &o, 'a', &v), mmf__os_error(ESRCH));
  mmf__sys = mmf__sys_real;
  ASSERT_EQ(mmf_last_os_error(NULL), ESRCH);
  ASSERT_EQ_U(v, ref_count(c, n, 'a'));
  ASSERT_GT(n_unjoined, 0);
  ASSERT_EQ(woke, n_unjoined);
  for (int i = 0; i < n_unjoined; i++)
    ASSERT_EQ(pthread_join(unjoined[i], NULL), 0);
  free(c);
#endif
}

/* One file's pages can be dropped from the page cache where
 * posix_fadvise(DONTNEED) exists: not on Windows, nor macOS. */
#if !defined(_WIN32) && defined(POSIX_FADV_DONTNEED)
#define CAN_EVICT 1
#endif

#ifdef CAN_EVICT
/* Drop the file's pages from the page cache (written back first), and
 * the fraction of it still resident afterwards. */
static double evict(const char *path) {
  mmf_map *m = NULL;
  uint64_t bytes = 0, size;
  int fd = test_open(path, O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  ASSERT_EQ(fsync(fd), 0);
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  close(fd);
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  size = mmf_size(m);
  ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
  mmf_close(m);
  return size ? (double)bytes / (double)size : 0;
}
#endif

TEST(evicted_file_same_results) {
  /* A file dropped from the page cache before every scan (cold input:
   * every piece faults or reads from the device, several at once): every
   * op with 1, 2 and 4 threads, mapped, read, direct and auto, equals the
   * reference. The eviction is checked (the control: right after
   * writing, the file is resident); where the file system keeps files in
   * memory (tmpfs) the test skips. */
#ifndef CAN_EVICT
  SKIP("no way to drop one file from the cache here (no posix_fadvise)");
#else
  const char *path = test_path("cold");
  size_t n = (size_t)(20 * MIB) + 77;
  unsigned char *c = random_text(n);
  results ref;
  double before, after;
  write_file(path, c, n);
  reference(c, n, &ref);
  {
    mmf_map *m = NULL;
    uint64_t bytes = 0;
    ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
    ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
    mmf_close(m);
    before = (double)bytes / (double)n;
  }
  after = evict(path);
  test_note("resident after writing %.0f%%, after eviction %.0f%%",
            before * 100, after * 100);
  if (after > 0.5)
    SKIP("the file system keeps the file in memory");
  ASSERT_TRUE(before > 0.5);
  for (unsigned t = 1; t <= 4; t *= 2)
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_DIRECT; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      results got;
      o.io = io;
      o.threads = t;
      test_context("%u threads, io %d", t, io);
      ASSERT_TRUE(evict(path) < 0.5);
      scan_all(path, &o, &got);
      assert_same(&got, &ref);
    }
  free(c);
#endif
}
