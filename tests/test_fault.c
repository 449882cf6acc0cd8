/*
 * test_fault.c - faults inside library accesses come back as codes.
 *
 * Truncation under guarded reads and writes (10,000 trials each, at varied
 * offsets and map offsets), 1,000 consecutive faults on one thread,
 * protection faults, the classification branches (truncated, no space, I/O
 * error and the poisoned handle that follows), a real full filesystem (a
 * 1 MiB tmpfs) and MMF_PREALLOCATE. Each test prints its figures.
 *
 * The classification branches that need an unusual file state (a read
 * error, a full disk with the file still long enough) are reached through
 * the system-call table (src/os/posix/sys_posix.h, src/os/win/sys_win.h):
 * the fault is real, the file's answer to the re-check is staged.
 *
 * On Windows the tests run under Wine, where test_truncate_mapped() cuts the
 * file from the host (a Windows program cannot shrink a mapped file), and
 * the guard sees the host's SIGBUS as an access violation on a page whose
 * protection allows the access (docs/windows.md, "The fault guard"). The
 * staged no-space tests stage the Windows table's equivalents
 * (GetVolumeFreeBytes, FileAllocationInfo); the tmpfs test stays
 * POSIX-only.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "os/win/sys_win.h"

/* run_crashing_child's status on Windows (test.h): an exit code in bits
 * 8-15, or SIGSEGV / SIGBUS in the low bits for an access violation / an
 * in-page error, as a POSIX wait status has it. */
#define WIFSIGNALED(st) (((st)&0x7f) != 0)
#define WTERMSIG(st) ((st)&0x7f)
#else
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/posix/sys_posix.h"
#endif

static uint64_t page(void) { return (uint64_t)test_page_size(); }

static uint64_t round_up(uint64_t x, uint64_t to) {
  return (x + to - 1) / to * to;
}

/* xorshift64*: reproducible "random" offsets; tests print their seeds. */
static uint64_t rng_state = 1;

static void rng_seed(uint64_t seed) { rng_state = seed ? seed : 1; }

static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Du;
}

/* Uniform in [lo, hi]. */
static uint64_t rng_in(uint64_t lo, uint64_t hi) {
  return lo + rng_next() % (hi - lo + 1);
}

/* SIGBUS and SIGSEGV must never be left blocked by a fault's return path.
 * (Windows has no signal mask: exceptions cannot be blocked.) */
static void assert_fault_signals_unblocked(void) {
#ifndef _WIN32
  sigset_t now;
  ASSERT_EQ(sigprocmask(SIG_BLOCK, NULL, &now), 0);
  ASSERT_FALSE(sigismember(&now, SIGBUS));
  ASSERT_FALSE(sigismember(&now, SIGSEGV));
#endif
}

/* Write pat() over [from, to) of path, growing it to to bytes: a truncated
 * file grows back while it is still mapped (on Windows a file that is
 * mapped may grow but not be recreated, as write_pattern would). */
static void restore_pattern(const char *path, uint64_t from, uint64_t to) {
  size_t n = (size_t)(to - from);
  unsigned char *buf = malloc(n ? n : 1);
  ASSERT_TRUE(buf != NULL);
  fill_pat(buf, from, n);
  write_at(path, from, buf, n);
  free(buf);
}

/* ------------------------------------------------------------------------ */
/* Truncation trials                                                         */
/* ------------------------------------------------------------------------ */

/* 10,000 trials, each one truncation of a mapped file. On Windows (under
 * Wine) each of those truncations is a host process started by
 * test_truncate_mapped(), some 5 ms a trial all told (a minute for
 * 10,000, against the test's two-minute limit on a loaded machine), so
 * there the test makes 1,000: the same trials (the first tenth of every
 * batch, same seeds), each of which must still come back as
 * MMF_ETRUNCATED. */
#ifdef _WIN32
enum { TRIALS = 1000 };
#else
enum { TRIALS = 10000 };
#endif
enum { BATCHES = 10, TRIAL_FILE_PAGES = 64 };
enum { SMALL_ACCESS = 512, BIG_ACCESS = 64 * 1024 };

typedef struct trial_stats {
  int done;     /* trials finished */
  int expected; /* MMF_ETRUNCATED, with mmf_size() clamped exactly */
  int other;    /* anything else */
  int first_bad_trial, first_bad_rc;
  uint64_t first_bad_size; /* mmf_size() after the first bad trial */
} trial_stats;

typedef struct trial_job {
  const char *path;
  int writing;
  uint64_t map_off; /* mmf_options.offset: aligned and unaligned */
  uint64_t seed;
  trial_stats *stats;
} trial_job;

typedef struct raw_job {
  unsigned char *p;
  size_t n;
  int writing;
} raw_job;

/* A caller's own loop over raw map memory, run under mmf_guard(). */
static int raw_access(void *ctx) {
  raw_job *j = ctx;
  volatile unsigned char *p = j->p;
  for (size_t i = 0; i < j->n; i++) {
    if (j->writing)
      p[i] = 0xAB;
    else
      (void)p[i];
  }
  return 0;
}

/* One guarded access of [at, at+n) of m, chosen by trial number so every
 * public access path sees truncation faults. The trial file holds zeros,
 * so compare and find must walk all n bytes. */
static int trial_access(mmf_map *m, int writing, int trial, uint64_t at,
                        size_t n, unsigned char *buf) {
  static const unsigned char absent = 0xA5;
  uint64_t count, pos;
  int cmp;
  raw_job rj = {(unsigned char *)mmf_data(m) + at, n, writing};
  if (writing) {
    if (trial % 4 == 3)
      return mmf_guard(m, raw_access, &rj);
    memset(buf, 0xAB, n);
    return mmf_write(m, at, buf, n);
  }
  switch (trial % 5) {
  case 0:
    return mmf_read(m, at, buf, n);
  case 1:
    return mmf_count_byte(m, at, n, 0x77, &count);
  case 2:
    return mmf_find(m, at, n, &absent, 1, &pos);
  case 3:
    memset(buf, 0, n);
    return mmf_compare(m, at, buf, n, &cmp);
  default:
    return mmf_guard(m, raw_access, &rj);
  }
}

/* A batch of trials in a child process, so that a crash is counted rather
 * than ending the test. Each trial: restore the file and the map to full
 * size, truncate the file to a random length t, then access a random range
 * of the map that ends past the last page still backed by the file (that
 * page, round_up(t), is where the faults start). Every trial must fault and
 * come back as MMF_ETRUNCATED with mmf_size() lowered to what is left. */
static int truncation_batch(void *arg) {
  trial_job *j = arg;
  trial_stats *st = j->stats;
  const uint64_t ps = page(), fsize = TRIAL_FILE_PAGES * ps;
  static unsigned char buf[BIG_ACCESS];
  mmf_options o = {j->map_off, 0, 0, 0};
  mmf_map *m = NULL;
  test_truncate_mapped(j->path, fsize);
  ASSERT_OK(mmf_open(&m, j->path, j->writing ? MMF_WRITE : MMF_READ, &o));
  rng_seed(j->seed);
  for (int i = 0; i < TRIALS / BATCHES; i++) {
    test_truncate_mapped(j->path, fsize);
    ASSERT_OK(mmf_resize(m, fsize - j->map_off));
    uint64_t t = rng_in(0, fsize - ps - 1);
    uint64_t gone = round_up(t, ps);
    uint64_t lo = gone > j->map_off ? gone : j->map_off;
    uint64_t end = rng_in(lo + 1, fsize); /* exclusive file offset */
    uint64_t most = end - j->map_off;
    uint64_t cap = i % 8 == 0 ? BIG_ACCESS : SMALL_ACCESS;
    uint64_t n = rng_in(1, most < cap ? most : cap);
    uint64_t at = end - n - j->map_off;
    test_truncate_mapped(j->path, t);
    int rc = trial_access(m, j->writing, i, at, (size_t)n, buf);
    uint64_t left = t > j->map_off ? t - j->map_off : 0;
    if (rc == MMF_ETRUNCATED && mmf_size(m) == left) {
      st->expected++;
    } else if (st->other++ == 0) {
      st->first_bad_trial = i;
      st->first_bad_rc = rc;
      st->first_bad_size = mmf_size(m);
    }
    st->done++;
  }
  ASSERT_OK(mmf_close(m));
  return 0;
}

static void truncation_trials(int writing) {
  static const uint64_t map_offs[] = {0, 1, 4095, 4096 + 17, 12345};
  const uint64_t seed = writing ? 0x5EED0002u : 0x5EED0001u;
  /* The batches' counts: anonymous memory that a forked batch shares
   * (on Windows the batch runs in this process, see run_crashing_child). */
  mmf_map *counts = NULL;
  ASSERT_OK(mmf_anon(&counts, BATCHES * sizeof(trial_stats), MMF_SHARED));
  trial_stats *stats = mmf_data(counts);
  int crashes = 0, done = 0, expected = 0, other = 0;
  for (int b = 0; b < BATCHES; b++) {
    char name[32];
    snprintf(name, sizeof name, "f%d", b);
    make_sparse(test_path(name), TRIAL_FILE_PAGES * page());
    trial_job job = {test_path(name), writing, map_offs[b % 5], seed + b,
                     &stats[b]};
    /* A batch that crashes is counted, not the end of the test. */
    int st = run_crashing_child(truncation_batch, &job);
    if (WIFSIGNALED(st)) {
      crashes++;
      test_note("batch %d (map offset %" PRIu64 "): killed by signal %d "
                "after %d trials",
                b, job.map_off, WTERMSIG(st), stats[b].done);
    } else {
      ASSERT_EXITED(st, 0);
    }
    if (stats[b].other)
      test_note("batch %d (map offset %" PRIu64 "): trial %d returned %s, "
                "mmf_size %" PRIu64,
                b, job.map_off, stats[b].first_bad_trial,
                mmf_errname(stats[b].first_bad_rc), stats[b].first_bad_size);
    done += stats[b].done;
    expected += stats[b].expected;
    other += stats[b].other;
  }
  test_note("guarded %s, truncated file: %d of %d -> MMF_ETRUNCATED "
            "(size clamped), %d other, %d crashes (seed 0x%" PRIx64 ")",
            writing ? "write" : "read", expected, TRIALS, other, crashes, seed);
  ASSERT_EQ(crashes, 0);
  ASSERT_EQ(done, TRIALS);
  ASSERT_EQ(expected, TRIALS);
  ASSERT_OK(mmf_close(counts));
}

static void truncation_guarded_read_10000_run(void) { truncation_trials(0); }

static void truncation_guarded_write_10000_run(void) { truncation_trials(1); }

/* What the handle does after a truncation fault: mmf_size() drops to the
 * bytes that exist, the rest is MMF_ERANGE without touching memory, the
 * bytes that remain read correctly, and mmf_resize() brings the map back
 * once the file is long again. */
static void truncation_clamps_size_run(void) {
  const uint64_t ps = page(), size = 8 * ps, off = 100;
  const uint64_t cut = 3 * ps + 77; /* file size after the cut */
  unsigned char buf[256];
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, test_path("f"), MMF_READ, &(mmf_options){.offset = off}));
  ASSERT_EQ_U(mmf_size(m), size - off);
  test_truncate_mapped(test_path("f"), cut);

  /* Bytes of the page holding the new end still read (zeros past it):
   * only whole pages past the end fault. */
  ASSERT_OK(mmf_read(m, cut - off - 10, buf, 20));
  ASSERT_PAT(buf, cut - 10, 10);
  ASSERT_ZERO(buf + 10, 10);
  ASSERT_EQ_U(mmf_size(m), size - off);

  ASSERT_ERR(mmf_read(m, 5 * ps, buf, 16), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(m), cut - off);
  ASSERT_EQ(mmf_last_os_error(m), 0);
  /* Past the new end: range errors, no fault. */
  ASSERT_ERR(mmf_read(m, 5 * ps, buf, 16), MMF_ERANGE);
  ASSERT_ERR(mmf_read(m, cut - off - 1, buf, 2), MMF_ERANGE);
  /* What is left is intact. */
  ASSERT_OK(mmf_read(m, cut - off - sizeof buf, buf, sizeof buf));
  ASSERT_PAT(buf, cut - sizeof buf, sizeof buf);
  uint64_t count = 0;
  ASSERT_OK(mmf_count_byte(m, 0, 0, pat(off), &count));
  ASSERT_GE_U(count, 1);

  /* The file grows back: so can the map. */
  restore_pattern(test_path("f"), cut, size);
  ASSERT_OK(mmf_resize(m, size - off));
  ASSERT_OK(mmf_read(m, 5 * ps, buf, 16));
  ASSERT_PAT(buf, off + 5 * ps, 16);
  ASSERT_OK(mmf_close(m));
}

/* A truncation to zero leaves an empty, still valid handle. */
static void truncation_to_zero_run(void) {
  const uint64_t size = 4 * page();
  unsigned char b;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  test_truncate_mapped(test_path("f"), 0);
  b = 1;
  ASSERT_ERR(mmf_write(m, 2 * page(), &b, 1), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_NULL(mmf_data(m));
  ASSERT_ERR(mmf_read(m, 0, &b, 1), MMF_ERANGE);
  ASSERT_OK(mmf_read(m, 0, &b, 0));
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Many faults on one thread                                                 */
/* ------------------------------------------------------------------------ */

static int touch_byte(void *ctx) {
  volatile unsigned char *p = ctx;
  return *p;
}

static void thousand_consecutive_faults_run(void) {
  const uint64_t ps = page();
  unsigned char buf[64];
  int bus = 0, segv = 0, mixed = 0;
  write_pattern(test_path("f"), 4 * ps);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  unsigned char *past = (unsigned char *)mmf_data(m) + 3 * ps;
  test_truncate_mapped(test_path("f"), ps);

  /* SIGBUS: a raw load past the end under mmf_guard. The first fault
   * clamps the size; the guard still covers the whole mapping, so each
   * later load faults again. */
  for (int i = 0; i < 1000; i++)
    bus += mmf_guard(m, touch_byte, past) == MMF_ETRUNCATED;
  assert_fault_signals_unblocked();
  ASSERT_EQ_U(mmf_size(m), ps);

  /* SIGSEGV: reads of a page protected with MMF_PROT_NONE. */
  ASSERT_OK(mmf_protect(m, 0, ps, MMF_PROT_NONE));
  for (int i = 0; i < 1000; i++)
    segv += mmf_read(m, (uint64_t)i % ps, buf, 1) == MMF_EACCES;
  assert_fault_signals_unblocked();

  /* Both kinds, alternating. */
  for (int i = 0; i < 1000; i++)
    mixed += i % 2 ? mmf_guard(m, touch_byte, past) == MMF_ETRUNCATED
                   : mmf_read(m, 7, buf, 9) == MMF_EACCES;
  assert_fault_signals_unblocked();

  test_note("one thread, consecutive: SIGBUS -> MMF_ETRUNCATED %d of 1000; "
            "SIGSEGV -> MMF_EACCES %d of 1000; alternating %d of 1000; "
            "0 crashes",
            bus, segv, mixed);
  ASSERT_EQ(bus, 1000);
  ASSERT_EQ(segv, 1000);
  ASSERT_EQ(mixed, 1000);

  /* The handle is as good as before. */
  ASSERT_OK(mmf_protect(m, 0, ps, MMF_PROT_READ));
  ASSERT_OK(mmf_read(m, 100, buf, sizeof buf));
  ASSERT_PAT(buf, 100, sizeof buf);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Protection faults                                                         */
/* ------------------------------------------------------------------------ */

static void prot_none_read_eacces_run(void) {
  const uint64_t ps = page(), size = 3 * ps;
  unsigned char buf[64];
  uint64_t count, pos;
  int cmp;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_OK(mmf_protect(m, ps, ps, MMF_PROT_NONE));

  ASSERT_ERR(mmf_read(m, ps + 5, buf, 10), MMF_EACCES);
  ASSERT_ERR(mmf_read(m, ps - 5, buf, 10), MMF_EACCES); /* straddles */
  ASSERT_ERR(mmf_count_byte(m, 0, 0, 1, &count), MMF_EACCES);
  ASSERT_EQ_U(count, 0);
  ASSERT_ERR(mmf_find(m, 0, 0, "\xA5\x5A\xA5\x5A", 4, &pos), MMF_EACCES);
  ASSERT_EQ_U(pos, MMF_NPOS);
  fill_pat(buf, ps, sizeof buf);
  ASSERT_ERR(mmf_compare(m, ps, buf, sizeof buf, &cmp), MMF_EACCES);

  /* Not poisoned, not clamped: the other pages read, and the page reads
   * again once readable. */
  ASSERT_EQ_U(mmf_size(m), size);
  ASSERT_OK(mmf_read(m, 2 * ps, buf, sizeof buf));
  ASSERT_PAT(buf, 2 * ps, sizeof buf);
  ASSERT_OK(mmf_protect(m, ps, ps, MMF_PROT_READ));
  ASSERT_OK(mmf_read(m, ps + 5, buf, 10));
  ASSERT_PAT(buf, ps + 5, 10);
  ASSERT_OK(mmf_close(m));
}

static void prot_read_write_eacces_run(void) {
  const uint64_t ps = page(), size = 2 * ps;
  unsigned char buf[32], back[32];
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  ASSERT_OK(mmf_protect(m, 0, 0, MMF_PROT_READ));
  memset(buf, 0x3C, sizeof buf);
  ASSERT_ERR(mmf_write(m, ps + 1, buf, sizeof buf), MMF_EACCES);
  read_at(test_path("f"), ps + 1, back, sizeof back);
  ASSERT_PAT(back, ps + 1, sizeof back);
  ASSERT_OK(mmf_protect(m, 0, 0, MMF_PROT_WRITE));
  ASSERT_OK(mmf_write(m, ps + 1, buf, sizeof buf));
  read_at(test_path("f"), ps + 1, back, sizeof back);
  ASSERT_MEMEQ(back, buf, sizeof buf);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Classification through a staged re-check                                  */
/* ------------------------------------------------------------------------ */

/* The re-check asks the file for its size and change stamp: fstat() on
 * POSIX, GetFileInformationByHandleEx() on Windows. stage_fstat() makes that
 * call fail with an I/O error or report a size the file does not have. */
static int fstat_calls;
static int fstat_errno;          /* fail the call with this, if not 0 */
static uint64_t fstat_fake_size; /* else report this size, if not 0 */

#ifdef _WIN32
/* What the staged call fails with, and so what mmf_last_os_error() gives
 * after the I/O error: Windows' own code for EIO. */
#define STAGED_EIO ERROR_IO_DEVICE

static BOOL WINAPI staged_file_info(HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls,
                                    LPVOID buf, DWORD size) {
  fstat_calls++;
  if (fstat_errno) {
    SetLastError((DWORD)fstat_errno);
    return FALSE;
  }
  BOOL ok = mmf__sys_real.GetFileInformationByHandleEx(h, cls, buf, size);
  if (ok && fstat_fake_size && cls == FileStandardInfo)
    ((FILE_STANDARD_INFO *)buf)->EndOfFile.QuadPart = (LONGLONG)fstat_fake_size;
  return ok;
}

static void stage_fstat(int err, uint64_t fake_size) {
  fstat_calls = 0;
  fstat_errno = err;
  fstat_fake_size = fake_size;
  mmf__sys.GetFileInformationByHandleEx = staged_file_info;
}

/* The volume has no free bytes left (NtQueryVolumeInformationFile,
 * FileFsFullSizeInformation, says 0 available units). */
static BOOL WINAPI no_free_bytes(HANDLE h, ULONGLONG *bytes) {
  (void)h;
  *bytes = 0;
  return TRUE;
}

static void stage_fs_full(void) { mmf__sys.GetVolumeFreeBytes = no_free_bytes; }
#else
#define STAGED_EIO EIO

static int staged_fstat(int fd, struct stat *st) {
  fstat_calls++;
  if (fstat_errno) {
    errno = fstat_errno;
    return -1;
  }
  int r = mmf__sys_real.fstat(fd, st);
  if (r == 0 && fstat_fake_size)
    st->st_size = (off_t)fstat_fake_size;
  return r;
}

static int full_fstatvfs(int fd, struct statvfs *st) {
  int r = mmf__sys_real.fstatvfs(fd, st);
  if (r == 0) {
    st->f_bfree = 0;
    st->f_bavail = 0;
  }
  return r;
}

static void stage_fstat(int err, uint64_t fake_size) {
  fstat_calls = 0;
  fstat_errno = err;
  fstat_fake_size = fake_size;
  mmf__sys.fstat = staged_fstat;
}

static void stage_fs_full(void) { mmf__sys.fstatvfs = full_fstatvfs; }
#endif

static void unstage(void) { mmf__sys = mmf__sys_real; }

/* Every call on a poisoned handle returns MMF_EPOISONED; close works and
 * releases everything. */
static void assert_poisoned_then_close(mmf_map *m, int fds_before) {
  unsigned char b = 0;
  uint64_t u;
  int cmp;
  ASSERT_ERR(mmf_read(m, 0, &b, 1), MMF_EPOISONED);
  ASSERT_ERR(mmf_read(m, 0, &b, 0), MMF_EPOISONED);
  ASSERT_ERR(mmf_write(m, 0, &b, 1), MMF_EPOISONED);
  ASSERT_ERR(mmf_compare(m, 0, &b, 1, &cmp), MMF_EPOISONED);
  ASSERT_ERR(mmf_find(m, 0, 0, &b, 1, &u), MMF_EPOISONED);
  ASSERT_ERR(mmf_count_byte(m, 0, 0, 0, &u), MMF_EPOISONED);
  ASSERT_ERR(mmf_guard(m, touch_byte, mmf_data(m)), MMF_EPOISONED);
  ASSERT_ERR(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC), MMF_EPOISONED);
  ASSERT_ERR(mmf_advise(m, 0, 0, MMF_ADV_NORMAL), MMF_EPOISONED);
  ASSERT_ERR(mmf_protect(m, 0, 0, MMF_PROT_READ), MMF_EPOISONED);
  ASSERT_ERR(mmf_resident(m, 0, 0, &u), MMF_EPOISONED);
  ASSERT_ERR(mmf_resize(m, page()), MMF_EPOISONED);
  /* And again: poison does not wear off. */
  ASSERT_ERR(mmf_read(m, 0, &b, 1), MMF_EPOISONED);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_open_fds(), fds_before);
}

/* The re-check cannot even stat the file: an I/O error, handle poisoned. */
static void poison_when_recheck_fails_run(void) {
  const uint64_t ps = page();
  unsigned char buf[16];
  write_pattern(test_path("f"), 4 * ps);
  int fds = count_open_fds();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  test_truncate_mapped(test_path("f"), ps);
  stage_fstat(STAGED_EIO, 0);
  int rc = mmf_read(m, 2 * ps, buf, sizeof buf);
  int calls = fstat_calls;
  unstage();
  ASSERT_ERR(rc, MMF_EIO);
  ASSERT_GE(calls, 1);
  ASSERT_EQ(mmf_last_os_error(m), STAGED_EIO);
  test_note("fault with failing re-check -> %s, then MMF_EPOISONED",
            mmf_errname(rc));
  assert_poisoned_then_close(m, fds);
}

/* The file is still long enough, yet the page cannot be read: what a disk
 * read error looks like. */
static void poison_when_page_unreadable_run(void) {
  const uint64_t ps = page();
  unsigned char buf[16];
  write_pattern(test_path("f"), 4 * ps);
  int fds = count_open_fds();
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, test_path("f"), MMF_READ, &(mmf_options){.offset = 33}));
  test_truncate_mapped(test_path("f"), ps);
  stage_fstat(0, 4 * ps);
  int rc = mmf_count_byte(m, 0, 0, 1, &(uint64_t){0});
  unstage();
  ASSERT_ERR(rc, MMF_EIO);
  ASSERT_EQ_U(mmf_size(m), 4 * ps - 33); /* an I/O error does not clamp */
  ASSERT_ERR(mmf_read(m, 0, buf, sizeof buf), MMF_EPOISONED);
  assert_poisoned_then_close(m, fds);
}

#ifndef _WIN32
/* A truncate-then-extend race that settles before the re-check looks: the
 * first fstat of the re-check finds the file grown back to its size. */
static const char *regrow_path;
static uint64_t regrow_size;

static int regrow_then_fstat(int fd, struct stat *st) {
  if (regrow_path) {
    test_truncate(regrow_path, regrow_size);
    regrow_path = NULL;
  }
  return mmf__sys_real.fstat(fd, st);
}
#endif

/* A store that faulted because the file was cut, into a file that was
 * grown back before the fault was looked at: the page takes reads and
 * stores again, so the fault was the cut (MMF_ETRUNCATED), not a refused
 * block allocation (MMF_ENOSPC, which the tool once reported with 74 GB
 * free). */
#ifndef _WIN32
static void write_fault_in_undone_cut_run(void) {
  const uint64_t ps = page();
  unsigned char b = 0x5A, back;
  write_pattern(test_path("f"), 4 * ps);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  test_truncate_mapped(test_path("f"), ps);
  regrow_path = test_path("f");
  regrow_size = 4 * ps;
  mmf__sys.fstat = regrow_then_fstat;
  int rc = mmf_write(m, 2 * ps + 1, &b, 1);
  unstage();
  ASSERT_ERR(rc, MMF_ETRUNCATED);
  /* Usable, and a retry goes through now that the file is long again. */
  ASSERT_OK(mmf_write(m, 2 * ps + 1, &b, 1));
  ASSERT_OK(mmf_read(m, 2 * ps + 1, &back, 1));
  ASSERT_EQ(back, 0x5A);
  ASSERT_OK(mmf_close(m));
  test_note("store fault in a cut undone before the re-check -> %s",
            mmf_errname(rc));
}
#endif

/* A poisoned MMF_SYNC_ON_CLOSE map reports the poison from close. */
static void poison_sync_on_close_run(void) {
  const uint64_t ps = page();
  unsigned char b = 7;
  write_pattern(test_path("f"), 4 * ps);
  int fds = count_open_fds();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_SYNC_ON_CLOSE}));
  test_truncate_mapped(test_path("f"), ps);
  stage_fstat(0, 4 * ps);
  int rc = mmf_read(m, 3 * ps, &b, 1);
  unstage();
  ASSERT_ERR(rc, MMF_EIO);
  ASSERT_ERR(mmf_close(m), MMF_EPOISONED);
  ASSERT_EQ(count_open_fds(), fds);
}

/* A write fault inside the file while the filesystem reports no free
 * blocks: no space, and the map stays usable. */
static void enospc_when_fs_full_run(void) {
  const uint64_t ps = page();
  unsigned char b = 9, buf[16];
  write_pattern(test_path("f"), 4 * ps);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  test_truncate_mapped(test_path("f"), 2 * ps);
  stage_fstat(0, 4 * ps);
  stage_fs_full();
  int rc = mmf_write(m, 3 * ps + 1, &b, 1);
  unstage();
  ASSERT_ERR(rc, MMF_ENOSPC);
  ASSERT_EQ_U(mmf_size(m), 4 * ps);
  ASSERT_OK(mmf_read(m, ps, buf, sizeof buf));
  ASSERT_PAT(buf, ps, sizeof buf);
  ASSERT_OK(mmf_write(m, ps, &b, 1));
  /* The real re-check now finds the truncation. */
  ASSERT_ERR(mmf_write(m, 3 * ps + 1, &b, 1), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(m), 2 * ps);
  ASSERT_OK(mmf_close(m));
}

#if defined(__linux__)

/* ------------------------------------------------------------------------ */
/* A real full filesystem: a 1 MiB tmpfs                                     */
/* ------------------------------------------------------------------------ */

/* Memory shared with forked children, for their counts. */
static void *shared_memory(size_t n) {
  void *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    FAIL("mmap shared: %s", strerror(errno));
  memset(p, 0, n);
  return p;
}

#define TMPFS_SIZE (1024 * 1024)

typedef struct full_report {
  char skip[200];         /* why the mount was refused */
  uint64_t first_fail;    /* map offset of the first failed write */
  int first_rc;           /* its code */
  int later_errors;       /* of 100 writes past the limit */
  int later_other;        /* of those, codes other than expected */
  int retry_rc;           /* the failed write after freeing space */
  int prealloc_open_rc;   /* mmf_open of 2 MiB with MMF_PREALLOCATE */
  int prealloc_left;      /* the failed create left a file behind */
  int prealloc_resize_rc; /* mmf_resize to 4 MiB with MMF_PREALLOCATE */
  int hole_read_rc;       /* a read of an unwritten page, fs full */
} full_report;

typedef struct full_job {
  const char *mnt;
  full_report *r;
} full_job;

static int write_proc(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Without CAP_SYS_ADMIN, a user namespace (where one is allowed) gives the
 * process root's rights over a mount namespace of its own. */
static int enter_user_namespace(full_report *r) {
  char map[64];
  unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    snprintf(r->skip, sizeof r->skip,
             "unshare(CLONE_NEWNS) and unshare(CLONE_NEWUSER|CLONE_NEWNS): "
             "%s",
             strerror(errno));
    return -1;
  }
  snprintf(map, sizeof map, "0 %u 1\n", uid);
  if (write_proc("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
    goto fail;
  if (write_proc("/proc/self/uid_map", map) != 0)
    goto fail;
  snprintf(map, sizeof map, "0 %u 1\n", gid);
  if (write_proc("/proc/self/gid_map", map) != 0)
    goto fail;
  return 0;
fail:
  snprintf(r->skip, sizeof r->skip, "user namespace id maps: %s",
           strerror(errno));
  return -1;
}

/* Mount a private tmpfs in a new mount namespace (it disappears with this
 * process), or say why not. */
static int mount_small_tmpfs(const char *mnt, full_report *r) {
  if (unshare(CLONE_NEWNS) != 0 && enter_user_namespace(r) != 0)
    return -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    snprintf(r->skip, sizeof r->skip, "mount --make-rprivate /: %s",
             strerror(errno));
    return -1;
  }
  if (mount("mmf-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV,
            "size=1m,mode=0700") != 0) {
    snprintf(r->skip, sizeof r->skip, "mount -t tmpfs -o size=1m: %s",
             strerror(errno));
    return -1;
  }
  return 0;
}

static int disk_full_child(void *arg) {
  full_job *j = arg;
  full_report *r = j->r;
  const uint64_t ps = page(), sparse = 4 * TMPFS_SIZE;
  char path[4096], path2[4096];
  static unsigned char buf[65536];
  mmf_map *m = NULL;
  int rc = 0;
  if (mount_small_tmpfs(j->mnt, r) != 0)
    return 77;
  snprintf(path, sizeof path, "%s/sparse", j->mnt);
  snprintf(path2, sizeof path2, "%s/prealloc", j->mnt);

  /* A 4 MiB sparse file on a 1 MiB filesystem, written page by page
   * through the map until the filesystem is full. */
  ASSERT_OK(mmf_open(&m, path, MMF_WRITE,
                     &(mmf_options){.size = sparse, .flags = MMF_CREATE}));
  memset(buf, 0x5A, ps);
  uint64_t off;
  for (off = 0; off < sparse; off += ps) {
    rc = mmf_write(m, off, buf, (size_t)ps);
    if (rc)
      break;
  }
  r->first_fail = off;
  r->first_rc = rc;
  if (rc != MMF_ENOSPC && rc != MMF_EIO)
    return 2;
  /* Past the limit every write fails the same way; nothing crashes. */
  int later_expected = rc == MMF_ENOSPC ? MMF_ENOSPC : MMF_EPOISONED;
  for (int i = 0; i < 100; i++) {
    uint64_t at = off + (uint64_t)i * ps % (sparse - off);
    int w = mmf_write(m, at, buf, 100);
    r->later_errors += w != 0;
    r->later_other += w != later_expected;
  }
  {
    /* Observed, not asserted: on tmpfs even a read of a hole needs a
     * page, so with the filesystem full it faults too. */
    mmf_map *reader = NULL;
    unsigned char b;
    ASSERT_OK(mmf_open(&reader, path, MMF_READ, NULL));
    r->hole_read_rc = mmf_read(reader, sparse - ps, &b, 1);
    ASSERT_OK(mmf_close(reader));
  }
  if (rc == MMF_ENOSPC) {
    /* The map stays usable: what was written reads back, and once space
     * is freed (a hole punched at the start) the failed write succeeds. */
    unsigned char back[64];
    ASSERT_OK(mmf_read(m, 0, back, sizeof back));
    ASSERT_EQ(back[0], 0x5A);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                        (off_t)(TMPFS_SIZE / 2)),
              0);
    close(fd);
    r->retry_rc = mmf_write(m, off, buf, (size_t)ps);
  }
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(unlink(path), 0);

  /* MMF_PREALLOCATE: a map larger than the filesystem fails at open, and
   * leaves no grown file behind. */
  m = NULL;
  r->prealloc_open_rc =
      mmf_open(&m, path2, MMF_WRITE,
               &(mmf_options){.size = 2 * TMPFS_SIZE,
                              .flags = MMF_CREATE | MMF_PREALLOCATE});
  ASSERT_NULL(m);
  /* The open created the file; failing, it removes it again. */
  r->prealloc_left = access(path2, F_OK) == 0;
  /* One that fits is fully written without a fault; growing it past the
   * filesystem fails in mmf_resize and leaves map and file as they were. */
  ASSERT_OK(mmf_open(&m, path2, MMF_WRITE,
                     &(mmf_options){.size = TMPFS_SIZE / 4,
                                    .flags = MMF_CREATE | MMF_PREALLOCATE}));
  memset(buf, 0x6B, sizeof buf);
  for (off = 0; off < TMPFS_SIZE / 4; off += sizeof buf)
    ASSERT_OK(mmf_write(m, off, buf, sizeof buf));
  r->prealloc_resize_rc = mmf_resize(m, 4 * TMPFS_SIZE);
  ASSERT_EQ_U(mmf_size(m), TMPFS_SIZE / 4);
  ASSERT_EQ_U(file_size(path2), TMPFS_SIZE / 4);
  ASSERT_OK(mmf_write(m, TMPFS_SIZE / 4 - 1, buf, 1));
  ASSERT_OK(mmf_resize(m, TMPFS_SIZE / 2));
  ASSERT_OK(mmf_write(m, TMPFS_SIZE / 2 - sizeof buf, buf, sizeof buf));
  ASSERT_OK(mmf_close(m));
  return 0;
}

static void disk_full_tmpfs_run(void) {
  full_report *r = shared_memory(sizeof *r);
  full_job j = {test_path("mnt"), r};
  ASSERT_EQ(mkdir(j.mnt, 0700), 0);
  int st = run_in_child(disk_full_child, &j);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
    SKIP("cannot mount a 1 MiB tmpfs here (%s); needs CAP_SYS_ADMIN or "
         "unprivileged user namespaces",
         r->skip);
  if (WIFSIGNALED(st))
    FAIL("the writer crashed with signal %d after %" PRIu64 " bytes",
         WTERMSIG(st), r->first_fail);
  test_note("1 MiB tmpfs, sparse 4 MiB map: first failing write at %" PRIu64
            " (%" PRIu64 " pages written) -> %s; %d of 100 later writes -> "
            "error (%d unexpected codes); 0 crashes",
            r->first_fail, r->first_fail / page(), mmf_errname(r->first_rc),
            r->later_errors, r->later_other);
  ASSERT_EXITED(st, 0);
  ASSERT_TRUE(r->first_rc == MMF_ENOSPC || r->first_rc == MMF_EIO);
  ASSERT_GT(r->first_fail, 0);
  ASSERT_LE_U(r->first_fail, TMPFS_SIZE);
  ASSERT_EQ(r->later_errors, 100);
  ASSERT_EQ(r->later_other, 0);
  if (r->first_rc == MMF_ENOSPC)
    ASSERT_OK(r->retry_rc);
  /* tmpfs allocates a page even to read a hole: with the filesystem full
   * that is a space problem (MMF_ENOSPC, handle usable), not an I/O
   * error that would poison the handle. */
  test_note("read of an unwritten page with the tmpfs full -> %s",
            mmf_errname(r->hole_read_rc));
  ASSERT_ERR(r->hole_read_rc, MMF_ENOSPC);
  test_note("MMF_PREALLOCATE: creating open of 2 MiB -> %s (file %s); "
            "resize to 4 MiB -> %s",
            mmf_errname(r->prealloc_open_rc),
            r->prealloc_left ? "left behind" : "removed",
            mmf_errname(r->prealloc_resize_rc));
  ASSERT_ERR(r->prealloc_open_rc, MMF_ENOSPC);
  ASSERT_FALSE(r->prealloc_left);
  ASSERT_ERR(r->prealloc_resize_rc, MMF_ENOSPC);
}

#endif /* __linux__ */

/* The preallocation failure paths without a full disk: the OS call is
 * made to fail through the system-call table. POSIX: fallocate() fails
 * with ENOSPC. Windows: the file reports no space allocated to it
 * (FileStandardInfo's AllocationSize 0, as on a filesystem that allocates
 * lazily; NTFS would otherwise already cover a grown file and skip the
 * call), and raising the allocation (FileAllocationInfo, which Wine 8 does
 * not implement) fails with ERROR_DISK_FULL. Everything else goes through
 * to the real calls, growing and shrinking the file included. */
#ifdef _WIN32
#define STAGED_ENOSPC ERROR_DISK_FULL

static BOOL WINAPI unallocated_file_info(HANDLE h,
                                         FILE_INFO_BY_HANDLE_CLASS cls,
                                         LPVOID buf, DWORD size) {
  BOOL ok = mmf__sys_real.GetFileInformationByHandleEx(h, cls, buf, size);
  if (ok && cls == FileStandardInfo)
    ((FILE_STANDARD_INFO *)buf)->AllocationSize.QuadPart = 0;
  return ok;
}

static BOOL WINAPI allocation_disk_full(HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls,
                                        LPVOID buf, DWORD size) {
  if (cls == FileAllocationInfo) {
    SetLastError(ERROR_DISK_FULL);
    return FALSE;
  }
  return mmf__sys_real.SetFileInformationByHandle(h, cls, buf, size);
}

static void stage_preallocate_enospc(void) {
  mmf__sys.GetFileInformationByHandleEx = unallocated_file_info;
  mmf__sys.SetFileInformationByHandle = allocation_disk_full;
}
#else
#define STAGED_ENOSPC ENOSPC

static int fallocate_enospc(int fd, off_t off, off_t len) {
  (void)fd;
  (void)off;
  (void)len;
  return ENOSPC;
}

static void stage_preallocate_enospc(void) {
  mmf__sys.fallocate = fallocate_enospc;
}
#endif

static void preallocate_enospc_staged_run(void) {
  const uint64_t ps = page();
  mmf_map *m = (mmf_map *)(uintptr_t)1;
  int fds = count_open_fds();
  write_pattern(test_path("f"), ps);
  stage_preallocate_enospc();
  int rc = mmf_open(&m, test_path("f"), MMF_WRITE,
                    &(mmf_options){.size = 8 * ps, .flags = MMF_PREALLOCATE});
  unstage();
  ASSERT_ERR(rc, MMF_ENOSPC);
  ASSERT_NULL(m);
  ASSERT_EQ(mmf_last_os_error(NULL), STAGED_ENOSPC);
  ASSERT_EQ_U(file_size(test_path("f")), ps); /* the growth was undone */
  ASSERT_EQ(count_open_fds(), fds);

  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_PREALLOCATE}));
  stage_preallocate_enospc();
  rc = mmf_resize(m, 8 * ps);
  unstage();
  ASSERT_ERR(rc, MMF_ENOSPC);
  ASSERT_EQ(mmf_last_os_error(m), STAGED_ENOSPC);
  ASSERT_EQ_U(mmf_size(m), ps);
  ASSERT_EQ_U(file_size(test_path("f")), ps);
  unsigned char buf[32];
  ASSERT_OK(mmf_read(m, 0, buf, sizeof buf));
  ASSERT_PAT(buf, 0, sizeof buf);
  ASSERT_OK(mmf_resize(m, 8 * ps));
  ASSERT_OK(mmf_close(m));
}

/* Each test keeps its TEST() line on every platform (see test.h). Those
 * that cut a file under its map need test_truncate_mapped(), which on
 * Windows works under Wine only; the rest of the POSIX-only ones say what
 * they need. */

TEST(truncation_guarded_read_10000) {
  test_need_truncate_mapped();
  truncation_guarded_read_10000_run();
}

TEST(truncation_guarded_write_10000) {
  test_need_truncate_mapped();
  truncation_guarded_write_10000_run();
}

TEST(truncation_clamps_size) {
  test_need_truncate_mapped();
  truncation_clamps_size_run();
}

TEST(truncation_to_zero) {
  test_need_truncate_mapped();
  truncation_to_zero_run();
}

TEST(thousand_consecutive_faults) {
  test_need_truncate_mapped();
  thousand_consecutive_faults_run();
}

TEST(prot_none_read_eacces) { prot_none_read_eacces_run(); }

TEST(prot_read_write_eacces) { prot_read_write_eacces_run(); }

TEST(poison_when_recheck_fails) {
  test_need_truncate_mapped();
  poison_when_recheck_fails_run();
}

TEST(write_fault_in_undone_cut_is_truncation) {
#ifdef _WIN32
  SKIP("the staged race uses the POSIX system-call table");
#else
  test_need_truncate_mapped();
  write_fault_in_undone_cut_run();
#endif
}

TEST(poison_when_page_unreadable) {
  test_need_truncate_mapped();
  poison_when_page_unreadable_run();
}

TEST(poison_sync_on_close) {
  test_need_truncate_mapped();
  poison_sync_on_close_run();
}

TEST(enospc_when_fs_full) {
  test_need_truncate_mapped();
  enospc_when_fs_full_run();
}

TEST(disk_full_tmpfs) {
#if !defined(__linux__)
  SKIP("fills a real 1 MiB tmpfs, mounted in a Linux mount namespace; "
       "this system has no such mount");
#else
  disk_full_tmpfs_run();
#endif
}

TEST(preallocate_enospc_staged) { preallocate_enospc_staged_run(); }
