/*
 * test_exhaust.c - what the library does when the process runs out of
 * something the OS rations: descriptors (RLIMIT_NOFILE), mappings
 * (vm.max_map_count) and locked memory (RLIMIT_MEMLOCK). Each runs in a
 * child process of its own, since the limit stays with the process; each
 * skips with the reason where the limit cannot be set or does not bind.
 *
 * Descriptors: every call that opens something (maps, cursors, scans,
 * iterators, shared memory, the log) at a limit that leaves none.
 *
 * The address-space limit (RLIMIT_AS: the whole map refused, cursors and
 * scans in windows that fit) is tested where those walk:
 * test_scanapi.c scans_fit_a_short_address_space and test_window_big.c
 * rlimit_as_64gib_file; the file-size limit (RLIMIT_FSIZE: MMF_EFBIG, not
 * SIGXFSZ) in test_input.c file_size_limit_is_efbig_not_a_signal.
 *
 * Every failure must be an error code with the out-parameter NULL and
 * nothing left behind (descriptors, mappings); each test also shows the
 * same call working once the limit is lifted (the failure came from the
 * limit).
 */
#include "test.h"

#ifdef _WIN32
#define NOT_ON_WINDOWS(what) SKIP("Windows has no " what)
#else
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif
#endif

#define MIB (1024 * 1024)
/* What an out-parameter holds before a call that must clear it. */
#define SENTINEL ((void *)(uintptr_t)0x1234)

#ifndef _WIN32

/* 77 from a child: the limit cannot be set here. */
#define CHILD_SKIP 77

static void skip_if_child_skipped(int st, const char *why) {
  if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SKIP)
    SKIP("%s", why);
}

/* ------------------------------------------------------------------------ */
/* Descriptors                                                               */
/* ------------------------------------------------------------------------ */

/* The lowest descriptor number not in use: the next open() returns it. */
static int lowest_free_fd(void) {
  int fd = dup(0);
  ASSERT_TRUE(fd >= 0);
  close(fd);
  return fd;
}

/* Allow descriptors below n only. */
static int limit_fds(rlim_t n) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  rl.rlim_cur = n;
  return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Everything that needs a descriptor, at a limit that leaves none. */
static int with_no_descriptor_left(void *arg) {
  const char *path = arg;
  int fd = test_open(path, O_RDONLY);
  const int fds = count_open_fds(), maps = count_mappings();
  mmf_map *m = SENTINEL;
  mmf_window *w = SENTINEL;
  mmf_lines *it = SENTINEL;
  uint64_t v = 7;
  rlim_t old;
  {
    struct rlimit rl;
    ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
    old = rl.rlim_cur;
  }
  if (limit_fds((rlim_t)lowest_free_fd()) != 0)
    return CHILD_SKIP;

  ASSERT_ERR(mmf_open(&m, path, MMF_READ, NULL), MMF_EMFILE);
  ASSERT_NULL(m);
  ASSERT_EQ(mmf_last_os_error(NULL), EMFILE);
  m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_READ, NULL), MMF_EMFILE);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("new"), MMF_WRITE,
                      &(mmf_options){.size = 100, .flags = MMF_CREATE}),
             MMF_EMFILE);
  ASSERT_NULL(m);
  ASSERT_ERR(mmf_window_open(&w, path, NULL), MMF_EMFILE);
  ASSERT_NULL(w);
  w = SENTINEL;
  ASSERT_ERR(mmf_window_open_fd(&w, fd, NULL), MMF_EMFILE);
  ASSERT_NULL(w);
  ASSERT_ERR(mmf_lines_open(&it, path, NULL), MMF_EMFILE);
  ASSERT_NULL(it);
  ASSERT_ERR(mmf_count_byte_path(path, NULL, 'x', &v), MMF_EMFILE);
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_count_lines_fd(fd, NULL, &v), MMF_EMFILE);
  mmf_matches *mt = SENTINEL;
  ASSERT_ERR(mmf_matches_open(&mt, path, NULL, "x", 1), MMF_EMFILE);
  ASSERT_NULL(mt);
  char region[64];
  snprintf(region, sizeof region, "mmf-exhaust-%ld", (long)getpid());
  m = SENTINEL;
  ASSERT_ERR(mmf_shm_open(&m, region, MMF_WRITE,
                          &(mmf_options){.size = 4096, .flags = MMF_CREATE}),
             MMF_EMFILE);
  ASSERT_NULL(m);
  mmf_log *lg = SENTINEL;
  mmf_log_options lo = MMF_LOG_OPTIONS_INIT;
  lo.flags = MMF_CREATE;
  ASSERT_ERR(mmf_log_open(&lg, test_path("log"), MMF_WRITE, &lo), MMF_EMFILE);
  ASSERT_NULL(lg);
  /* Anonymous memory needs no descriptor. */
  m = SENTINEL;
  ASSERT_OK(mmf_anon(&m, 3 * 4096, 0));
  ASSERT_OK(mmf_close(m));

  /* The limit lifted: nothing was left behind, and the same calls work. */
  ASSERT_OK(limit_fds(old));
  ASSERT_FALSE(test_exists(test_path("new")));
  ASSERT_ERR(mmf_shm_open(&m, region, MMF_READ, NULL), MMF_ENOENT);
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps);
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_count_byte_path(path, NULL, 'x', &v));
  ASSERT_OK(mmf_matches_open(&mt, path, NULL, "x", 1));
  ASSERT_OK(mmf_matches_close(mt));
  ASSERT_OK(mmf_log_open(&lg, test_path("log"), MMF_WRITE, &lo));
  ASSERT_OK(mmf_log_close(lg));
  close(fd);
  return 0;
}

/* One descriptor left: everything that needs one works. A large scan by
 * path would like a second one (a fresh description for the mapped rest,
 * source.c) and does without. */
static int with_one_descriptor_left(void *arg) {
  const char *path = arg;
  const int fds = count_open_fds();
  mmf_map *m = NULL;
  mmf_window *w = NULL;
  uint64_t v = 0;
  if (limit_fds((rlim_t)lowest_free_fd() + 1) != 0)
    return CHILD_SKIP;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  /* ... and while the map holds it, the next open is refused. */
  ASSERT_ERR(mmf_window_open(&w, path, NULL), MMF_EMFILE);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_window_open(&w, path, NULL));
  ASSERT_OK(mmf_window_close(w));
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    o.io = io;
    test_context("io %d", io);
    ASSERT_OK(mmf_count_byte_path(path, &o, 'x', &v));
    ASSERT_EQ_U(v, 0);
  }
  test_context_clear();
  ASSERT_EQ(count_open_fds(), fds);
  return 0;
}

#endif /* _WIN32 */

TEST(fd_limit_reached_is_emfile) {
#ifdef _WIN32
  NOT_ON_WINDOWS("descriptor limit (RLIMIT_NOFILE) to reach");
#else
  write_pattern(test_path("f"), 3 * MIB); /* past the small-file read */
  int st = run_in_child(with_no_descriptor_left, (void *)test_path("f"));
  skip_if_child_skipped(st, "setrlimit(RLIMIT_NOFILE) refused here");
  ASSERT_EXITED(st, 0);
#endif
}

TEST(fd_limit_one_left_is_enough) {
#ifdef _WIN32
  NOT_ON_WINDOWS("descriptor limit (RLIMIT_NOFILE) to reach");
#else
  /* No 'x' in it, a size past the 2 MiB break-even: a mapped scan. */
  write_file(test_path("f"), NULL, 3 * MIB);
  int st = run_in_child(with_one_descriptor_left, (void *)test_path("f"));
  skip_if_child_skipped(st, "setrlimit(RLIMIT_NOFILE) refused here");
  ASSERT_EXITED(st, 0);
#endif
}

/* ------------------------------------------------------------------------ */
/* Mappings                                                                  */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32

static long max_map_count(void) {
  long n = -1;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (!f)
    return -1;
  if (fscanf(f, "%ld", &n) != 1)
    n = -1;
  fclose(f);
  return n;
}

/* Single pages mapped after the splits, to be given back at the end. */
#define EXTRA 64
static void *extra[EXTRA];

/*
 * Take every mapping the kernel allows, one page each. Neighbours with the
 * same protection would merge into one mapping, so the pages of one region
 * alternate between readable and inaccessible. Splitting stops one short
 * of the limit (a split needs the count below it, a new mapping only not
 * above it), so single pages follow until mmap itself says no. Returns how
 * many were made; the region starts at *base.
 */
static size_t fill_map_count(long limit, unsigned char **base) {
  const size_t page = (size_t)test_page_size();
  const size_t n = (size_t)limit;
  unsigned char *p = mmap(NULL, n * page, PROT_READ,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  size_t made = 1;
  ASSERT_TRUE(p != MAP_FAILED);
  for (size_t i = 1; i + 1 < n; i += 2) {
    if (mprotect(p + i * page, page, PROT_NONE) != 0) {
      ASSERT_EQ(errno, ENOMEM);
      break;
    }
    made += 2;
  }
  for (int i = 0; i < EXTRA; i++) {
    void *q = mmap(NULL, page, i % 2 ? PROT_NONE : PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) {
      ASSERT_EQ(errno, ENOMEM);
      break;
    }
    extra[i] = q;
    made++;
  }
  ASSERT_TRUE(extra[EXTRA - 1] == NULL); /* the kernel did say no */
  *base = p;
  return made;
}

static void release_extra(void) {
  for (int i = 0; i < EXTRA; i++)
    if (extra[i]) {
      munmap(extra[i], (size_t)test_page_size());
      extra[i] = NULL;
    }
}

/* Give back k mappings from the front of the filled region (each pair
 * of pages unmapped takes two mappings away). */
static void release_maps(unsigned char **base, size_t *len, size_t k) {
  const size_t page = (size_t)test_page_size();
  size_t bytes = (k + 1) / 2 * 2 * page;
  ASSERT_OK(munmap(*base, bytes));
  *base += bytes;
  *len -= bytes;
}

typedef struct map_limit {
  const char *path; /* a file of several windows */
  uint64_t size;
  long limit;
} map_limit;

static int with_no_mapping_left(void *arg) {
  const map_limit *ml = arg;
  const size_t page = (size_t)test_page_size();
  /* The first allocations (stdio, the library's) before the counts. */
  mmf_window *w = NULL;
  mmf_map *m = NULL;
  ASSERT_OK(mmf_window_open(&w, ml->path, NULL));
  ASSERT_OK(mmf_window_close(w));
  const int fds = count_open_fds();
  const int maps_before = count_mappings();
  /* The cursor is opened while mappings are left: opening maps nothing,
   * but its allocation may (musl's allocator maps a fresh region for it). */
  ASSERT_OK(mmf_window_open(&w, ml->path, NULL));

  unsigned char *base;
  size_t made = fill_map_count(ml->limit, &base);
  size_t len = (size_t)ml->limit * page;
  test_note("%zu mappings taken (vm.max_map_count %ld)", made, ml->limit);
  ASSERT_GT(made, 10000);

  /* None left: every call that maps fails with a code. */
  ASSERT_ERR(mmf_open(&m, ml->path, MMF_READ, NULL), MMF_ENOMEM);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_anon(&m, 64 * page, 0), MMF_ENOMEM);
  ASSERT_NULL(m);
  void *p;
  size_t n;
  ASSERT_ERR(mmf_window_next(w, &p, &n), MMF_ENOMEM);
  ASSERT_NULL(p);
  ASSERT_EQ_U(mmf_window_tell(w), 0); /* nothing consumed: retry later */

  /* A few back (the limit is a count, not address space): the cursor,
   * which holds one window at a time, walks the whole file. */
  release_maps(&base, &len, 8);
  uint64_t total = 0;
  int rc;
  while ((rc = mmf_window_next(w, &p, &n)) == 0 && n > 0)
    total += n;
  ASSERT_OK(rc);
  ASSERT_EQ_U(total, ml->size);
  ASSERT_OK(mmf_window_close(w));
  uint64_t count = 1;
  ASSERT_OK(mmf_count_byte_path(ml->path, NULL, 1, &count));
  ASSERT_EQ_U(count, 0);

  /* All back: nothing of the failed calls was left behind. */
  ASSERT_OK(munmap(base, len));
  release_extra();
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps_before);
  ASSERT_OK(mmf_open(&m, ml->path, MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  return 0;
}

#endif /* _WIN32 */

TEST(map_count_limit_reached) {
#ifdef _WIN32
  NOT_ON_WINDOWS("limit on the number of mappings (vm.max_map_count)");
#else
  map_limit ml;
  if (test_under_asan())
    SKIP("AddressSanitizer needs mappings of its own while the limit is "
         "reached");
  ml.limit = max_map_count();
  if (ml.limit < 0)
    SKIP("no /proc/sys/vm/max_map_count");
  if (ml.limit > 1000000)
    SKIP("vm.max_map_count is %ld: too many mappings to take in a test",
         ml.limit);
  ml.path = test_path("f");
  ml.size = 40 * MIB;
  write_file(ml.path, NULL, (size_t)0);
  test_truncate(ml.path, ml.size); /* sparse: no disk, zeros */
  int st = run_in_child(with_no_mapping_left, &ml);
  ASSERT_EXITED(st, 0);
#endif
}

/* ------------------------------------------------------------------------ */
/* Locked memory                                                             */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32

/* A process with CAP_IPC_LOCK (root, usually) may lock whatever the limit
 * says: give the capability up, in this child only. Linux; elsewhere the
 * test skips for a privileged user. */
static void drop_lock_privilege(void) {
#if defined(__linux__)
  /* The kernel's capget/capset structures, written out: musl's toolchain
   * has no kernel headers (<linux/capability.h>). Version 3 takes two
   * 32-bit words of each set; CAP_IPC_LOCK is capability 14. */
  enum { CAPABILITY_VERSION_3 = 0x20080522, IPC_LOCK = 14 };
  struct {
    uint32_t version;
    int pid;
  } head = {CAPABILITY_VERSION_3, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } caps[2];
  if (syscall(SYS_capget, &head, caps) != 0)
    return;
  caps[IPC_LOCK / 32].effective &= ~(1u << (IPC_LOCK % 32));
  caps[IPC_LOCK / 32].permitted &= ~(1u << (IPC_LOCK % 32));
  (void)syscall(SYS_capset, &head, caps);
#endif
}

static int with_no_lockable_memory(void *arg) {
  const char *path = arg;
  struct rlimit rl = {0, 0};
  mmf_map *m = SENTINEL;
  uint64_t resident;
  int rc;
  if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
    return CHILD_SKIP;
  drop_lock_privilege();
  const int fds = count_open_fds(), maps = count_mappings();

  /* A lock the limit refuses: a code, no map, nothing left behind. */
  rc = mmf_open(&m, path, MMF_READ, &(mmf_options){.flags = MMF_LOCKED});
  if (rc == 0) {
    ASSERT_OK(mmf_close(m));
    return CHILD_SKIP + 1; /* privileged: the limit does not bind */
  }
  ASSERT_TRUE(rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES);
  ASSERT_NULL(m);
  m = SENTINEL;
  rc = mmf_anon(&m, 16 * 4096, MMF_LOCKED | MMF_SHARED);
  ASSERT_TRUE(rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES);
  ASSERT_NULL(m);
  m = SENTINEL;
  rc = mmf_open(&m, test_path("new"), MMF_WRITE,
                &(mmf_options){.size = 8192, .flags = MMF_CREATE | MMF_LOCKED});
  ASSERT_TRUE(rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES);
  ASSERT_NULL(m);
  ASSERT_FALSE(test_exists(test_path("new")));
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps);

  /* A map without the flag opens; locking it is refused and leaves it
   * usable. */
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  rc = mmf_lock_memory(m, 0, 0);
  ASSERT_TRUE(rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES);
  ASSERT_OK(mmf_resident(m, 0, 0, &resident));
  ASSERT_PAT(mmf_data(m), 0, mmf_size(m));
  ASSERT_OK(mmf_close(m));
  return 0;
}

/* The same calls succeed with the limit the process had. */
static int with_lockable_memory(void *arg) {
  const char *path = arg;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_READ, &(mmf_options){.flags = MMF_LOCKED});
  if (rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES)
    return CHILD_SKIP;
  ASSERT_OK(rc);
  ASSERT_OK(mmf_close(m));
  return 0;
}

#endif /* _WIN32 */

TEST(memlock_limit_refuses_locked_cleanly) {
#ifdef _WIN32
  NOT_ON_WINDOWS("memory-lock limit (RLIMIT_MEMLOCK) to set");
#else
  if (test_under_asan())
    SKIP("AddressSanitizer turns mlock() into a no-op");
  write_pattern(test_path("f"), 8 * 4096 + 5);
  int st = run_in_child(with_no_lockable_memory, (void *)test_path("f"));
  skip_if_child_skipped(st, "setrlimit(RLIMIT_MEMLOCK) refused here");
  if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SKIP + 1)
    SKIP("this process may lock memory whatever the limit (CAP_IPC_LOCK)");
  ASSERT_EXITED(st, 0);
  /* The negative control: the refusal came from the limit. */
  st = run_in_child(with_lockable_memory, (void *)test_path("f"));
  skip_if_child_skipped(st, "the memory-lock limit here is below 40 KiB");
  ASSERT_EXITED(st, 0);
#endif
}
