/*
 * test_shm.c - named shared memory: create, open, unlink; the name rules;
 * MMF_EXCLUSIVE; exact sizes of existing regions on every OS; the two
 * lifetimes (POSIX: until unlinked; Windows: until the last map closes);
 * a region shrunk or unlinked under a map; wait/wake, the mutex and file
 * locks on a region shared by two processes (TEST_CHILDs, so under Wine
 * too); no descriptor left behind on any error.
 */
#include "share_helpers.h"

#include <limits.h>

#ifdef _WIN32
#define GETPID() ((unsigned long)GetCurrentProcessId())
#else
#include <unistd.h>
#define GETPID() ((unsigned long)getpid())
#endif

#define SEC ((int64_t)1000000000)

/* A name of this test run's own (tests run in parallel): the parent's
 * process id, so its children name the same region. */
static const char *shm_name(const char *tag) {
  static char buf[4][64];
  static int next;
  char *b = buf[next++ % 4];
  const char *pid = getenv("MMF_TEST_SHM_PID");
  snprintf(b, sizeof buf[0], "mmf-test-%lu-%s",
           pid ? strtoul(pid, NULL, 10) : GETPID(), tag);
  return b;
}

static void fresh(const char *name) { (void)mmf_shm_unlink(name); }

static mmf_map *create(const char *name, uint64_t size) {
  mmf_map *m = NULL;
  fresh(name);
  ASSERT_OK(mmf_shm_open(&m, name, MMF_WRITE,
                         &(mmf_options){.size = size, .flags = MMF_CREATE}));
  return m;
}

/* Children: argv[1] the name, argv[2] what.
 *   "size"        open READ, length 0; exit 0 if mmf_size == argv[3] and
 *                 the bytes are pat(), 2 if not, 3 if it does not open
 *                 (4: MMF_ENOENT).
 *   "wait"        open WRITE, raise word 64, wait on word 0 for a change
 *                 (exit 0), 3 on a timeout.
 *   "add N"       open WRITE, raise word 64, wait for word 68 to be 1,
 *                 then N times lock the mutex at 128 and add 1 to
 *                 the u64 at 256, unlock ("add N none": the same without
 *                 the lock, the negative control).
 */
TEST_CHILD(shm_child) {
  ASSERT_GE(argc, 3);
  mmf_map *m = NULL;
  const char *what = argv[2];
  if (strcmp(what, "size") == 0) {
    int rc = mmf_shm_open(&m, argv[1], MMF_READ, NULL);
    if (rc == MMF_ENOENT)
      return 4;
    if (rc)
      return 3;
    uint64_t want = strtoull(argv[3], NULL, 10);
    int ok = mmf_size(m) == want;
    if (!ok)
      fprintf(stderr, "shm_child: %s maps %zu bytes, not %" PRIu64 "\n",
              argv[1], mmf_size(m), want);
    for (size_t i = 0; ok && i < want; i++)
      ok = ((unsigned char *)mmf_data(m))[i] == pat(i);
    mmf_close(m);
    return ok ? 0 : 2;
  }
  ASSERT_OK(mmf_shm_open(&m, argv[1], MMF_WRITE, NULL));
  if (strcmp(what, "wait") == 0) {
    atomic_fetch_add(sh_word(m, 64), 1);
    while (atomic_load(sh_word(m, 0)) == 0)
      if (mmf_wait(m, 0, 0, 30 * SEC) != 0)
        return 3;
    return mmf_close(m) ? 1 : 0;
  }
  if (strcmp(what, "add") == 0) {
    long n = strtol(argv[3], NULL, 10);
    const bool lock = argc < 5;
    volatile uint64_t *c =
        (volatile uint64_t *)((unsigned char *)mmf_data(m) + 256);
    /* Ready (word 64), then start together (word 68). */
    atomic_fetch_add(sh_word(m, 64), 1);
    while (atomic_load(sh_word(m, 68)) == 0)
      test_sleep_ms(1);
    for (long i = 0; i < n; i++) {
      if (lock)
        ASSERT_OK(mmf_mutex_lock(m, 128, -1));
      sh_slow_increment(c);
      if (lock)
        ASSERT_OK(mmf_mutex_unlock(m, 128));
    }
    return mmf_close(m) ? 1 : 0;
  }
  FAIL("shm_child: unknown %s", what);
}

static int child(const char *name, const char *what, const char *arg) {
  return test_run_child("shm_child", name, what, arg, NULL);
}

static void export_pid(void) {
  char pid[32];
  snprintf(pid, sizeof pid, "%lu", GETPID());
#ifdef _WIN32
  _putenv_s("MMF_TEST_SHM_PID", pid);
#else
  setenv("MMF_TEST_SHM_PID", pid, 1);
#endif
}

/* ------------------------------------------------------------------------ */
/* Create, open, sizes                                                       */
/* ------------------------------------------------------------------------ */

/* An existing region opened with length 0 maps all of it, and its size
 * is exact (not rounded to pages) on every OS. */
/* macOS keeps a region's size rounded to pages, and sets it only once. */
#ifdef __APPLE__
#define SH_APPLE_SIZES "macOS rounds shared-memory sizes to pages"
#endif

TEST(shm_existing_region_size_is_exact) {
#ifdef __APPLE__
  SKIP(SH_APPLE_SIZES);
#endif
  export_pid();
  const uint64_t sizes[] = {1, 100, 4095, 4097, 65537, 3 * 65536 + 7};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    test_context("size %" PRIu64, sizes[i]);
    const char *name = shm_name("size");
    mmf_map *m = create(name, sizes[i]);
    ASSERT_EQ_U(mmf_size(m), sizes[i]);
    ASSERT_STREQ(mmf_shm_name(m), name);
    ASSERT_TRUE(mmf_is_mapped(m));
    ASSERT_ZERO(mmf_data(m), sizes[i]);
    fill_pat(mmf_data(m), 0, (size_t)sizes[i]);
    ASSERT_EQ(child(name, "size", sh_num(sizes[i])), 0);
    ASSERT_OK(mmf_close(m));
    fresh(name);
  }
}

TEST(shm_offset_and_length_select_part) {
  const char *name = shm_name("part");
  const uint64_t g = mmf_granularity();
  mmf_map *m = create(name, 3 * g);
  fill_pat(mmf_data(m), 0, 3 * g);
  mmf_map *p = NULL;
  ASSERT_OK(mmf_shm_open(&p, name, MMF_READ,
                         &(mmf_options){.offset = g + 3, .length = 100}));
  ASSERT_EQ_U(mmf_size(p), 100);
  ASSERT_EQ_U(mmf_offset(p), g + 3);
  ASSERT_PAT(mmf_data(p), g + 3, 100);
  ASSERT_OK(mmf_close(p));
  ASSERT_OK(mmf_shm_open(&p, name, MMF_COPY, &(mmf_options){.offset = g}));
  ASSERT_EQ_U(mmf_size(p), 2 * g);
  ((unsigned char *)mmf_data(p))[0] ^= 0xff; /* private */
  ASSERT_PAT(mmf_data(m), 0, 3 * g);
  ASSERT_OK(mmf_close(p));
  /* Past the end. */
  ASSERT_ERR(
      mmf_shm_open(&p, name, MMF_READ, &(mmf_options){.offset = 3 * g + 1}),
      MMF_ERANGE);
  ASSERT_ERR(mmf_shm_open(&p, name, MMF_READ,
                          &(mmf_options){.offset = g, .length = 2 * g + 1}),
             MMF_ERANGE);
  ASSERT_NULL(p);
  ASSERT_OK(mmf_close(m));
  fresh(name);
}

TEST(shm_exclusive_create_twice_is_eexist) {
  const char *name = shm_name("excl");
  fresh(name);
  mmf_map *a = NULL, *b = NULL;
  const mmf_options o = {.size = 4096, .flags = MMF_CREATE | MMF_EXCLUSIVE};
  ASSERT_OK(mmf_shm_open(&a, name, MMF_WRITE, &o));
  ASSERT_ERR(mmf_shm_open(&b, name, MMF_WRITE, &o), MMF_EEXIST);
  ASSERT_NULL(b);
  /* Without MMF_EXCLUSIVE the existing region opens, with its own size. */
  ASSERT_OK(mmf_shm_open(&b, name, MMF_WRITE,
                         &(mmf_options){.size = 100, .flags = MMF_CREATE}));
  ASSERT_EQ_U(mmf_size(b), 4096);
  ASSERT_OK(mmf_close(b));
  ASSERT_OK(mmf_close(a));
  fresh(name);
}

TEST(shm_names_checked) {
  char long_name[202];
  memset(long_name, 'a', 201);
  long_name[201] = '\0';
  const char *bad[] = {"",     ".",   "..",     "a/b",      "/a",
                       "a\\b", "a b", "a:b",    "\xc3\xa9", "caf\xc3\xa9",
                       "a*",   "a\n", long_name};
  mmf_map *m = NULL;
  const mmf_options o = {.size = 4096, .flags = MMF_CREATE};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    test_context("name #%zu", i);
    ASSERT_ERR(mmf_shm_open(&m, bad[i], MMF_WRITE, &o), MMF_EINVAL);
    ASSERT_ERR(mmf_shm_unlink(bad[i]), MMF_EINVAL);
    ASSERT_NULL(m);
  }
  test_context_clear();
  ASSERT_ERR(mmf_shm_open(&m, NULL, MMF_WRITE, &o), MMF_EINVAL);
  ASSERT_ERR(mmf_shm_open(NULL, "x", MMF_WRITE, &o), MMF_EINVAL);
  ASSERT_ERR(mmf_shm_unlink(NULL), MMF_EINVAL);
  /* 200 bytes and the odd characters are fine (macOS allows only 31). */
#ifndef __APPLE__
  char name200[201];
  snprintf(name200, sizeof name200, "%s", shm_name("long"));
  size_t n = strlen(name200);
  memset(name200 + n, 'x', 200 - n);
  name200[200] = '\0';
  fresh(name200);
  ASSERT_OK(mmf_shm_open(&m, name200, MMF_WRITE, &o));
  ASSERT_OK(mmf_close(m));
  fresh(name200);
#endif
  const char *odd = shm_name("A.b_c-9...");
  fresh(odd);
  ASSERT_OK(mmf_shm_open(&m, odd, MMF_WRITE, &o));
  ASSERT_OK(mmf_close(m));
  fresh(odd);
}

TEST(shm_create_needs_write_and_size) {
  const char *name = shm_name("args");
  fresh(name);
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ,
                          &(mmf_options){.size = 10, .flags = MMF_CREATE}),
             MMF_EINVAL);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_COPY,
                          &(mmf_options){.size = 10, .flags = MMF_CREATE}),
             MMF_EINVAL);
  ASSERT_ERR(
      mmf_shm_open(&m, name, MMF_WRITE, &(mmf_options){.flags = MMF_CREATE}),
      MMF_EINVAL);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_WRITE,
                          &(mmf_options){.size = 10, .flags = MMF_EXCLUSIVE}),
             MMF_EINVAL);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_WRITE | MMF_READ,
                          &(mmf_options){.size = 10, .flags = MMF_CREATE}),
             MMF_EINVAL);
  ASSERT_ERR(mmf_shm_open(
                 &m, name, MMF_WRITE,
                 &(mmf_options){.size = 10, .flags = MMF_CREATE | MMF_SHARED}),
             MMF_EINVAL);
  /* length alone sizes a new region. */
  ASSERT_OK(mmf_shm_open(&m, name, MMF_WRITE,
                         &(mmf_options){.length = 10, .flags = MMF_CREATE}));
  ASSERT_EQ_U(mmf_size(m), 10);
  ASSERT_OK(mmf_close(m));
  fresh(name);
  /* Nothing was created by the refused calls. */
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ, NULL), MMF_ENOENT);
}

TEST(shm_preallocated_region) {
  const char *name = shm_name("prealloc");
  fresh(name);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_shm_open(
      &m, name, MMF_WRITE,
      &(mmf_options){.size = 1 << 20,
                     .flags = MMF_CREATE | MMF_PREALLOCATE | MMF_POPULATE}));
  ASSERT_EQ_U(mmf_size(m), 1 << 20);
  ASSERT_OK(mmf_write(m, (1 << 20) - 4, "tail", 4));
  ASSERT_OK(mmf_close(m));
  fresh(name);
}

/* ------------------------------------------------------------------------ */
/* Lifetimes                                                                 */
/* ------------------------------------------------------------------------ */

/* POSIX: a region outlives every map until it is unlinked. Windows: it
 * ends with its last map. */
TEST(shm_lifetime_differs_by_os) {
  export_pid();
  const char *name = shm_name("life");
  mmf_map *m = create(name, 4096);
  fill_pat(mmf_data(m), 0, 4096);
  ASSERT_OK(mmf_close(m));
#ifdef _WIN32
  ASSERT_EQ(child(name, "size", "4096"), 4);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ, NULL), MMF_ENOENT);
  ASSERT_ERR(mmf_shm_unlink(name), MMF_ENOENT);
  test_note("Windows: the region ended with its last map");
#else
  ASSERT_EQ(child(name, "size", "4096"), 0);
  ASSERT_OK(mmf_shm_unlink(name));
  ASSERT_EQ(child(name, "size", "4096"), 4);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ, NULL), MMF_ENOENT);
  ASSERT_ERR(mmf_shm_unlink(name), MMF_ENOENT);
  test_note("POSIX: the region outlived its maps until it was unlinked");
#endif
}

/* Unlinked while mapped: the maps keep working; the name is gone
 * (POSIX), or lives on with the maps (Windows). */
TEST(shm_unlinked_under_a_map_keeps_working) {
  const char *name = shm_name("unlinked");
  mmf_map *m = create(name, 8192);
  ASSERT_OK(mmf_shm_unlink(name));
  ASSERT_OK(mmf_write(m, 8000, "still", 5));
  char buf[5];
  ASSERT_OK(mmf_read(m, 8000, buf, 5));
  ASSERT_MEMEQ(buf, "still", 5);
  mmf_map *again = NULL;
#ifdef _WIN32
  ASSERT_OK(mmf_shm_open(&again, name, MMF_READ, NULL));
  ASSERT_OK(mmf_close(again));
#else
  ASSERT_ERR(mmf_shm_open(&again, name, MMF_READ, NULL), MMF_ENOENT);
#endif
  ASSERT_OK(mmf_close(m));
  fresh(name);
}

/* A region shrunk under a map: touching the lost part is an error code,
 * never SIGBUS. Windows regions cannot shrink. */
TEST(shm_shrunk_under_a_map_faults_into_a_code) {
#ifdef _WIN32
  SKIP("a Windows section cannot shrink (or grow)");
#elif defined(__APPLE__)
  SKIP("%s and cannot resize them", SH_APPLE_SIZES);
#else
  const char *name = shm_name("shrunk");
  const uint64_t ps = mmf_page_size();
  mmf_map *m = create(name, 4 * ps);
  mmf_map *other = NULL;
  ASSERT_OK(mmf_shm_open(&other, name, MMF_WRITE, NULL));
  ASSERT_OK(mmf_resize(other, ps));
  char buf[8];
  ASSERT_ERR(mmf_read(m, 3 * ps, buf, 8), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(m), ps);
  ASSERT_ERR(mmf_wait(m, 2 * ps, 0, 0), MMF_ERANGE);
  ASSERT_OK(mmf_read(m, 0, buf, 8));
  ASSERT_OK(mmf_close(other));
  ASSERT_OK(mmf_close(m));
  fresh(name);
#endif
}

/* A region is an ordinary map: POSIX regions grow and take file locks,
 * Windows sections do neither. */
TEST(shm_resize_and_file_locks_by_os) {
  const char *name = shm_name("ordinary");
  mmf_map *m = create(name, 4096);
#ifdef _WIN32
  ASSERT_ERR(mmf_resize(m, 8192), MMF_ENOTSUP);
  ASSERT_ERR(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE), MMF_ENOTSUP);
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
#elif defined(__APPLE__)
  SKIP("%s and cannot resize them", SH_APPLE_SIZES);
#else
  ASSERT_OK(mmf_resize(m, 8192));
  ASSERT_EQ_U(mmf_size(m), 8192);
  mmf_map *other = NULL;
  ASSERT_OK(mmf_shm_open(&other, name, MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(other), 8192);
  ASSERT_OK(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE));
  ASSERT_ERR(mmf_lock_file(other, 0, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_OK(mmf_unlock_file(m, 0, 0));
  ASSERT_OK(mmf_close(other));
#endif
  ASSERT_OK(mmf_close(m));
  fresh(name);
}

/* ------------------------------------------------------------------------ */
/* Two processes                                                             */
/* ------------------------------------------------------------------------ */

TEST(shm_wait_wake_between_processes) {
  export_pid();
  const char *name = shm_name("wake");
  mmf_map *m = create(name, 4096);
  test_proc c = test_spawn("shm_child", (const char *[]){name, "wait", NULL});
  int64_t t0 = sh_now_ns();
  while (atomic_load(sh_word(m, 64)) == 0) {
    ASSERT_LT(sh_now_ns() - t0, 30 * SEC);
    test_sleep_ms(1);
  }
  test_sleep_ms(100);
  atomic_store(sh_word(m, 0), 1);
  ASSERT_OK(mmf_wake(m, 0, INT_MAX));
  ASSERT_EQ(test_wait(c), 0);
  ASSERT_OK(mmf_close(m));
  fresh(name);
}

/* Two processes add n each to a counter in a fresh region, under its
 * mutex or (how "none") without; returns the total. */
static uint64_t shm_two_adders(int n, const char *how) {
  const char *name = shm_name("mutex");
  mmf_map *m = create(name, 4096);
  const char *lock[] = {name, "add", sh_num(n), NULL};
  const char *none[] = {name, "add", sh_num(n), "none", NULL};
  const bool locked = strcmp(how, "none") != 0;
  test_proc a = test_spawn("shm_child", locked ? lock : none);
  test_proc b = test_spawn("shm_child", locked ? lock : none);
  sh_wait_for(m, 64, 2);
  atomic_store(sh_word(m, 68), 1);
  ASSERT_EQ(test_wait(a), 0);
  ASSERT_EQ(test_wait(b), 0);
  uint64_t total = *(uint64_t *)((unsigned char *)mmf_data(m) + 256);
  test_note("2 x %d over shared memory, %s: total %" PRIu64 " (%" PRIu64
            " lost)",
            n, how, total, 2 * (uint64_t)n - total);
  ASSERT_OK(mmf_close(m));
  fresh(name);
  return total;
}

/* With the negative control in the same run: without the mutex the same
 * children lose updates. */
TEST(shm_mutex_between_processes) {
  export_pid();
#ifdef _WIN32
  const int n = 2000;
#else
  const int n = 200000;
#endif
  ASSERT_EQ_U(shm_two_adders(n, "mutex"), 2 * (uint64_t)n);
  for (int run = 0; run < 5; run++)
    if (shm_two_adders(1000000, "none") < 2000000)
      return;
  FAIL("five runs without the mutex lost no update");
}

/* ------------------------------------------------------------------------ */
/* Nothing leaks                                                             */
/* ------------------------------------------------------------------------ */

TEST(shm_failures_leak_nothing) {
  const char *name = shm_name("leak");
  fresh(name);
  mmf_map *m = NULL;
  int fds = count_open_fds();
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ, NULL), MMF_ENOENT);
  mmf_map *held = create(name, 4096);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_WRITE,
                          &(mmf_options){.size = 1,
                                         .flags = MMF_CREATE | MMF_EXCLUSIVE}),
             MMF_EEXIST);
  ASSERT_NULL(m);
  ASSERT_ERR(mmf_shm_open(&m, name, MMF_READ, &(mmf_options){.offset = 5000}),
             MMF_ERANGE);
  ASSERT_NULL(m);
  ASSERT_OK(mmf_close(held));
  fresh(name);
  ASSERT_EQ(count_open_fds(), fds);
}
