/*
 * test_wait.c - mmf_wait and mmf_wake: a wake crossing processes (the
 * children are TEST_CHILDs, so they run under Wine too), timeouts, a
 * blocked waiter using no CPU, the argument checks, words in a page cut
 * off the file, and the polling fallback of systems without a futex (made
 * to run here by clearing the futex entries of the call table).
 */
#include "share_helpers.h"

#include <limits.h>

#ifndef _WIN32
#include <unistd.h>

#include "os/posix/sys_posix.h"
#else
#include "os/win/sys_win.h"
#endif

#define FSIZE 8192
/* The word the tests wait on, and a counter children raise just before
 * they wait (so the parent knows when to act). */
#define WORD 0
#define READY 64

static mmf_map *map_rw(const char *path) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_WRITE,
                     &(mmf_options){.size = FSIZE, .flags = MMF_CREATE}));
  return m;
}

/* Make waits in this process poll instead of using the futex (what
 * systems without one do). */
static void use_polling(void) {
#ifdef _WIN32
  SKIP("the polling fallback is the POSIX backend's (no futex entries here)");
#else
  mmf__sys.futex_wait = NULL;
  mmf__sys.futex_wake = NULL;
#endif
}

/* Wait until the READY counter of m reaches n, then give the children a
 * moment to go to sleep. */
static void wait_ready(mmf_map *m, uint32_t n) {
  const int64_t start = sh_now_ns();
  while (atomic_load(sh_word(m, READY)) < n) {
    if (sh_now_ns() - start > 30 * (int64_t)1000000000)
      FAIL("children not ready after 30 s");
    test_sleep_ms(1);
  }
  test_sleep_ms(200);
}

/*
 * Child: map argv[1] (mode argv[5]: "r" read-only, "w" read-write;
 * "rp"/"wp": and poll instead of using the futex), raise READY, and wait
 * once on WORD for expected argv[2] with a timeout of argv[3] ms. Exit 0:
 * returned 0 and the word changed; 2: returned 0, word unchanged (a
 * spurious wake); 3: MMF_ETIMEDOUT; 4: another error.
 */
TEST_CHILD(waiter) {
  ASSERT_EQ(argc, 5);
  const uint32_t expected = (uint32_t)strtoul(argv[2], NULL, 10);
  const int64_t timeout_ms = strtoll(argv[3], NULL, 10);
  const char *mode = argv[4];
  if (mode[1] == 'p')
    use_polling();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, argv[1], mode[0] == 'r' ? MMF_READ : MMF_WRITE, NULL));
  mmf_map *counter = map_rw(argv[1]);
  atomic_fetch_add(sh_word(counter, READY), 1);
  int rc = mmf_wait(m, WORD, expected, timeout_ms * 1000000);
  const uint32_t now = atomic_load(sh_word(m, WORD));
  mmf_close(counter);
  mmf_close(m);
  if (rc == MMF_ETIMEDOUT)
    return 3;
  if (rc != 0) {
    fprintf(stderr, "waiter: %s\n", mmf_errname(rc));
    return 4;
  }
  return now != expected ? 0 : 2;
}

/* A waiter in another process sleeps until this one changes the word and
 * wakes it. */
static void cross_process_wake(const char *mode) {
  const char *path = test_path("w");
  mmf_map *m = map_rw(path);
  test_proc child =
      test_spawn("waiter", (const char *[]){path, "0", "30000", mode, NULL});
  wait_ready(m, 1);
  atomic_store(sh_word(m, WORD), 1);
  ASSERT_OK(mmf_wake(m, WORD, 1));
  ASSERT_EQ(test_wait(child), 0);
  ASSERT_OK(mmf_close(m));
}

TEST(wait_woken_by_other_process) { cross_process_wake("w"); }

/* The waiter's map may be read-only: the word is written elsewhere. */
TEST(wait_on_read_only_map) { cross_process_wake("r"); }

/* The negative control of the test above: a change with no wake is not
 * seen by a sleeping waiter, which times out (the wake is what wakes). */
TEST(change_without_wake_is_slept_through) {
  if (!sh_wake_is_needed())
    SKIP(SH_NO_WAKE);
  const char *path = test_path("w");
  mmf_map *m = map_rw(path);
  test_proc child =
      test_spawn("waiter", (const char *[]){path, "0", "1500", "w", NULL});
  wait_ready(m, 1);
  atomic_store(sh_word(m, WORD), 1);
  ASSERT_EQ(test_wait(child), 3);
  ASSERT_OK(mmf_close(m));
}

/* The polling fallback of systems without a futex: the waiter sees the
 * change by itself, within its 5 ms polling interval. */
TEST(wait_polling_fallback_sees_change) {
#ifdef _WIN32
  SKIP("the polling fallback is the POSIX backend's");
#else
  cross_process_wake("wp");
#endif
}

/* One wake with INT_MAX wakes every waiter of every process. */
TEST(wake_all_wakes_every_process) {
  const char *path = test_path("w");
  mmf_map *m = map_rw(path);
  test_proc c[3];
  for (int i = 0; i < 3; i++)
    c[i] =
        test_spawn("waiter", (const char *[]){path, "0", "30000", "w", NULL});
  wait_ready(m, 3);
  atomic_store(sh_word(m, WORD), 7);
  ASSERT_OK(mmf_wake(m, WORD, INT_MAX));
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(test_wait(c[i]), 0);
  ASSERT_OK(mmf_close(m));
}

/* wake(1) with two sleepers wakes exactly one; the other sleeps on. */
typedef struct sleeper {
  mmf_map *m;
  _Atomic int woken;
  _Atomic int ready;
} sleeper;

static void *sleep_on_word(void *arg) {
  sleeper *s = arg;
  atomic_fetch_add(&s->ready, 1);
  int rc = mmf_wait(s->m, WORD, 0, 30 * (int64_t)1000000000);
  if (rc != 0)
    FAIL("waiting thread: %s", mmf_errname(rc));
  atomic_fetch_add(&s->woken, 1);
  return NULL;
}

TEST(wake_one_wakes_one) {
  if (!sh_wake_is_needed())
    SKIP("%s: wake counts nothing", SH_NO_WAKE);
  sleeper s = {map_rw(test_path("w")), 0, 0};
  test_thread t[2];
  for (int i = 0; i < 2; i++)
    t[i] = test_thread_start(sleep_on_word, &s);
  while (atomic_load(&s.ready) < 2)
    test_sleep_ms(1);
  test_sleep_ms(200);
  /* The word stays 0, so only a wake ends a wait. A thread that was not
   * asleep yet would miss a wake: wake again until one wakes. */
  for (int tries = 0; atomic_load(&s.woken) == 0; tries++) {
    ASSERT_LT(tries, 100);
    ASSERT_OK(mmf_wake(s.m, WORD, 1));
    test_sleep_ms(100);
  }
  test_sleep_ms(300);
  ASSERT_EQ(atomic_load(&s.woken), 1);
  ASSERT_OK(mmf_wake(s.m, WORD, INT_MAX));
  for (int i = 0; i < 2; i++)
    test_thread_join(t[i]);
  ASSERT_EQ(atomic_load(&s.woken), 2);
  ASSERT_OK(mmf_close(s.m));
}

#ifdef _WIN32
/* ReleaseSemaphore of a waker killed after it took its waiters off the
 * count, before it sent their tokens. */
static BOOL WINAPI die_before_release(HANDLE h, LONG n, LPLONG previous) {
  (void)h, (void)n, (void)previous;
  ExitProcess(7);
}

typedef struct timed_sleeper {
  mmf_map *m;
  _Atomic int ready, done, rc;
} timed_sleeper;

/* Three seconds: long enough that the waker, a new process (slow to
 * start under Wine on a loaded machine), reaches the waiter before its
 * timeout; a waker that came too late would find nobody to wake, exit 0
 * and fail the test for the wrong reason. */
static void *sleep_three_seconds(void *arg) {
  timed_sleeper *s = arg;
  atomic_store(&s->ready, 1);
  atomic_store(&s->rc, mmf_wait(s->m, WORD, 0, 3000 * 1000000ll));
  atomic_store(&s->done, 1);
  return NULL;
}

/* Child: map argv[1] and wake one waiter on WORD, dying (exit 7) between
 * taking the waiter off the count and sending its token. */
TEST_CHILD(waker_dies_mid_wake) {
  ASSERT_EQ(argc, 2);
  mmf__sys.ReleaseSemaphore = die_before_release;
  mmf_map *m = map_rw(argv[1]);
  (void)mmf_wake(m, WORD, 1);
  return 0;
}
#endif

/* Windows: a waker killed between taking a waiter off the count and
 * sending its token must not keep that waiter past its timeout (it looks
 * for the token for 100 ms, then returns as woken). */
TEST(waiter_returns_when_waker_dies_mid_wake) {
#ifndef _WIN32
  SKIP("waking is one futex call here: no step for a waker to die between");
#else
  timed_sleeper s = {.m = map_rw(test_path("w"))};
  test_thread t = test_thread_start(sleep_three_seconds, &s);
  while (!atomic_load(&s.ready))
    test_sleep_ms(1);
  test_sleep_ms(200); /* asleep and counted */
  const int64_t t0 = sh_now_ns();
  test_proc waker =
      test_spawn("waker_dies_mid_wake", (const char *[]){test_path("w"), NULL});
  ASSERT_EQ(test_wait(waker), 7);
  while (!atomic_load(&s.done)) {
    if (sh_now_ns() - t0 > 10 * (int64_t)1000000000)
      FAIL("the waiter did not return 10 s after its waker died");
    test_sleep_ms(5);
  }
  test_note("the waiter returned %s %.0f ms after the waker started",
            mmf_errname(atomic_load(&s.rc)), (sh_now_ns() - t0) / 1e6);
  /* The waker died in ReleaseSemaphore (exit 7), so it had taken the
   * waiter off the count: the waiter returns as woken. */
  ASSERT_OK(atomic_load(&s.rc));
  test_thread_join(t);
  /* The objects still work: a later wait times out. */
  ASSERT_ERR(mmf_wait(s.m, WORD, 0, 50 * 1000000), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_close(s.m));
#endif
}

/* ------------------------------------------------------------------------ */
/* Timeouts and CPU time                                                     */
/* ------------------------------------------------------------------------ */

TEST(wait_times_out) {
  mmf_map *m = map_rw(test_path("w"));
  atomic_store(sh_word(m, 8), 5);
  /* 0: do not sleep. */
  ASSERT_ERR(mmf_wait(m, 8, 5, 0), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_wait(m, 8, 6, 0));
  /* A word that differs returns at once, whatever the timeout. */
  ASSERT_OK(mmf_wait(m, 8, 6, -1));
  int64_t t0 = sh_now_ns();
  ASSERT_ERR(mmf_wait(m, 8, 5, 100 * 1000000), MMF_ETIMEDOUT);
  int64_t waited = sh_now_ns() - t0;
  test_note("a 100 ms timeout returned after %.1f ms", waited / 1e6);
  /* Windows timers tick every 15.6 ms and may end a wait within a tick
   * early; the waiting itself is what is checked. */
  ASSERT_GE(waited, 80 * 1000000);
  ASSERT_OK(mmf_close(m));
}

static void wait_a_second(void *m) {
  ASSERT_ERR(mmf_wait(m, WORD, 0, 1000 * 1000000), MMF_ETIMEDOUT);
}

/* A waiter blocked for 1 s sleeps in the kernel: under 10 ms of CPU where
 * CPU time is counted finely (sh_sleeper_cpu_bound_ns). The polling
 * fallback wakes about 200 times a second to look (naps of up to 5 ms):
 * a few ms of CPU, 25 ms at most, still a fortieth of what a spinner
 * uses. */
static void blocked_waiter_cpu(bool poll) {
  if (poll)
    use_polling();
  mmf_map *m = map_rw(test_path("w"));
  int64_t bound = sh_sleeper_cpu_bound_ns();
#ifndef _WIN32
  if (poll && test_proc_copied("/proc/self/maps") == NULL)
    bound = 25 * (int64_t)1000000;
#endif
  sh_assert_blocked_cpu(wait_a_second, m, bound);

  /* The negative control: a waiter that spins on the word shows up in the
   * same measurement. */
  sh_assert_spinner_charged(sh_word(m, WORD));
  ASSERT_OK(mmf_close(m));
}

TEST(blocked_waiter_uses_no_cpu) { blocked_waiter_cpu(false); }

TEST(blocked_polling_waiter_uses_little_cpu) {
#ifdef _WIN32
  SKIP("the polling fallback is the POSIX backend's");
#else
  blocked_waiter_cpu(true);
#endif
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

TEST(wait_wake_alignment_on_region_offset) {
  mmf_map *m = map_rw(test_path("w"));
  for (uint64_t off = 1; off < 4; off++) {
    ASSERT_ERR(mmf_wait(m, off, 0, 0), MMF_EINVAL);
    ASSERT_ERR(mmf_wake(m, off, 1), MMF_EINVAL);
  }
  ASSERT_ERR(mmf_wait(m, 4, 0, 0), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_wake(m, 4, 1));
  ASSERT_OK(mmf_close(m));

  /* A map starting at file offset 2: its byte 2 is file offset 4, which
   * is aligned; its byte 0 is not. */
  ASSERT_OK(mmf_open(&m, test_path("w"), MMF_WRITE,
                     &(mmf_options){.offset = 2, .length = 100}));
  ASSERT_ERR(mmf_wait(m, 0, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_wait(m, 2, 0, 0), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_wake(m, 2, INT_MAX));
  ASSERT_OK(mmf_close(m));
}

TEST(wait_wake_outside_map) {
  mmf_map *m = map_rw(test_path("w"));
  const uint64_t bad[] = {FSIZE, FSIZE - 2, FSIZE + 4, UINT64_MAX - 3,
                          UINT64_MAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    test_context("offset %" PRIu64, bad[i]);
    ASSERT_ERR(mmf_wait(m, bad[i], 0, 0), MMF_ERANGE);
    ASSERT_ERR(mmf_wake(m, bad[i], 1), MMF_ERANGE);
  }
  test_context_clear();
  ASSERT_ERR(mmf_wait(m, FSIZE - 4, 0, 0), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_close(m));

  /* An empty map has no word at all. */
  write_file(test_path("empty"), NULL, 0);
  ASSERT_OK(mmf_open(&m, test_path("empty"), MMF_READ, NULL));
  ASSERT_ERR(mmf_wait(m, 0, 0, 0), MMF_ERANGE);
  ASSERT_ERR(mmf_wake(m, 0, 1), MMF_ERANGE);
  ASSERT_OK(mmf_close(m));
}

TEST(wait_wake_bad_arguments) {
  ASSERT_ERR(mmf_wait(NULL, 0, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_wake(NULL, 0, 1), MMF_EINVAL);
  mmf_map *m = map_rw(test_path("w"));
  ASSERT_ERR(mmf_wake(m, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_wake(m, 0, -1), MMF_EINVAL);
  ASSERT_ERR(mmf_wake(m, 0, INT_MIN), MMF_EINVAL);
  ASSERT_OK(mmf_close(m));
}

/* Wait and wake between the threads of one process on private memory. */
static void *wake_later(void *arg) {
  mmf_map *m = arg;
  test_sleep_ms(100);
  atomic_store(sh_word(m, 12), 1);
  if (mmf_wake(m, 12, 1) != 0)
    FAIL("wake on private memory");
  return NULL;
}

TEST(wait_on_private_memory_between_threads) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 4096, 0));
  test_thread t = test_thread_start(wake_later, m);
  while (atomic_load(sh_word(m, 12)) == 0)
    ASSERT_OK(mmf_wait(m, 12, 0, 30 * (int64_t)1000000000));
  test_thread_join(t);
  ASSERT_OK(mmf_close(m));
}

/* MMF_SHARED anonymous memory: parent and fork()ed child. */
#ifndef _WIN32
static int fork_waiter(void *arg) {
  mmf_map *m = arg;
  atomic_fetch_add(sh_word(m, READY), 1);
  while (atomic_load(sh_word(m, WORD)) == 0)
    if (mmf_wait(m, WORD, 0, 30 * (int64_t)1000000000) != 0)
      return 3;
  return 0;
}
#endif

TEST(wait_on_shared_anonymous_memory_across_fork) {
#ifdef _WIN32
  SKIP("Windows has no fork()");
#else
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 4096, MMF_SHARED));
  pid_t pid = start_child(fork_waiter, m);
  wait_ready(m, 1);
  atomic_store(sh_word(m, WORD), 1);
  ASSERT_OK(mmf_wake(m, WORD, 1));
  ASSERT_EXITED(wait_child(pid), 0);
  ASSERT_OK(mmf_close(m));
#endif
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                    */
/* ------------------------------------------------------------------------ */

/* A word in a page the file no longer has is MMF_ETRUNCATED, never
 * SIGBUS. */
TEST(wait_wake_in_truncated_page) {
  test_need_truncate_mapped();
  const uint64_t g = mmf_granularity();
  const char *path = test_path("w");
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_WRITE,
                     &(mmf_options){.size = 2 * g, .flags = MMF_CREATE}));
  test_truncate_mapped(path, g);
  ASSERT_ERR(mmf_wait(m, g + 8, 0, -1), MMF_ETRUNCATED);
  /* The map now ends where the file does. */
  ASSERT_ERR(mmf_wait(m, g + 8, 0, -1), MMF_ERANGE);
  ASSERT_ERR(mmf_wait(m, 8, 0, 0), MMF_ETIMEDOUT);
  ASSERT_OK(mmf_close(m));

  ASSERT_OK(mmf_open(&m, path, MMF_WRITE,
                     &(mmf_options){.size = 2 * g, .flags = MMF_CREATE}));
  test_truncate_mapped(path, g);
#ifndef _WIN32
  if (sh_wake_is_needed()) {
    /* The futex reaches for the page: the guard says why it could not. */
    ASSERT_ERR(mmf_wake(m, g + 8, 1), MMF_ETRUNCATED);
    ASSERT_OK(mmf_close(m));
    return;
  }
#endif
  /* Windows wakes through named objects, pollers need no wake: neither
   * touches the word. */
  int rc = mmf_wake(m, g + 8, 1);
  ASSERT_TRUE(rc == 0 || rc == MMF_ETRUNCATED);
  ASSERT_OK(mmf_close(m));
}
