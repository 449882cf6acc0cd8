/*
 * test_mutex.c - the robust mutex: zero bytes are unlocked; no update is
 * lost between two processes (with the negative control that loses them
 * without the lock); an owner killed (also left a zombie, also at random
 * points) is reported to the next locker as MMF_EOWNERDEAD, never a hang;
 * a thread id reused by a live process is not taken for the dead owner;
 * MMF_ENOTRECOVERABLE, MMF_EDEADLK, MMF_EPERM, timeouts, a blocked locker
 * using no CPU, the argument checks and faults. Children are TEST_CHILDs
 * (they run under Wine too) unless a test needs fork().
 */
#include "share_helpers.h"

#include "os/os.h"

#include <limits.h>

#ifndef _WIN32
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define FSIZE 4096
#define MUTEX 0            /* the mutex */
#define MUTEX2 64          /* a second one */
#define COUNTER SH_COUNTER /* u64, protected by MUTEX */
#define CHECK 136          /* u64, always equal to COUNTER outside the lock */
#define GO SH_GO           /* u32: children start when it is 1 */
#define READY SH_READY     /* u32: children raise it when ready */
#define RELEASE 200        /* u32: a holder lets go when it is 1 */
#define HOLDING 204        /* u32: a holder raises it while it holds */

#define SEC ((int64_t)1000000000)
#define MS ((int64_t)1000000)

#ifdef _WIN32
/* Each lock and unlock is a few calls to the kernel (through wineserver
 * under Wine): fewer rounds there. */
#define ROUNDS 5000
#else
#define ROUNDS 1000000
#endif
/* The control without a lock is cheap: as many rounds everywhere. */
#define CONTROL_ROUNDS 1000000

static mmf_map *map_rw(const char *path) { return sh_map_rw(path, FSIZE); }

static _Atomic uint64_t *u64_at(mmf_map *m, uint64_t off) {
  return (_Atomic uint64_t *)((unsigned char *)mmf_data(m) + off);
}

static void wait_for(mmf_map *m, uint64_t off, uint32_t n) {
  sh_wait_for(m, off, n);
}

/* ------------------------------------------------------------------------ */
/* Children                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Child: argv[1] path, argv[2] what:
 *   "add N"    wait for GO, then N times: lock, COUNTER += 1 by a plain
 *              read and write, unlock;
 *   "none N"   the same without the lock (the negative control);
 *   "hold"     lock, raise READY, hold until RELEASE, unlock;
 *   "spin"     lock (0 or MMF_EOWNERDEAD), raise READY and HOLDING, then
 *              work on the data for ever (until killed);
 *   "loop"     lock, break the COUNTER == CHECK invariant, mend it,
 *              unlock, for ever (until killed at a random point);
 *   "lockrc"   lock once with timeout argv[3] ms and exit with a number
 *              for the result (0 OK, 10 EOWNERDEAD, 11 ENOTRECOVERABLE,
 *              12 ETIMEDOUT, 13 EPERM on unlock, 20 other).
 */
static int code_of(int rc) {
  switch (rc) {
  case 0:
    return 0;
  case MMF_EOWNERDEAD:
    return 10;
  case MMF_ENOTRECOVERABLE:
    return 11;
  case MMF_ETIMEDOUT:
    return 12;
  case MMF_EPERM:
    return 13;
  default:
    fprintf(stderr, "child: %s\n", mmf_errname(rc));
    return 20;
  }
}

TEST_CHILD(locker) {
  ASSERT_GE(argc, 3);
  mmf_map *m = map_rw(argv[1]);
  const char *what = argv[2];
  volatile uint64_t *counter = (volatile uint64_t *)u64_at(m, COUNTER);
  volatile uint64_t *check = (volatile uint64_t *)u64_at(m, CHECK);
  if (strcmp(what, "add") == 0 || strcmp(what, "none") == 0) {
    const long n = strtol(argv[3], NULL, 10);
    const bool lock = what[0] == 'a';
    atomic_fetch_add(sh_word(m, READY), 1);
    while (atomic_load(sh_word(m, GO)) == 0) {
    }
    for (long i = 0; i < n; i++) {
      if (lock)
        ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
      sh_slow_increment(counter);
      if (lock)
        ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
    }
    return 0;
  }
  if (strcmp(what, "hold") == 0) {
    ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
    atomic_fetch_add(sh_word(m, READY), 1);
    while (atomic_load(sh_word(m, RELEASE)) == 0)
      test_sleep_ms(1);
    ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
    return 0;
  }
  if (strcmp(what, "spin") == 0) {
    /* An earlier holder may have died: hold it all the same. */
    int rc = mmf_mutex_lock(m, MUTEX, -1);
    if (rc != MMF_EOWNERDEAD)
      ASSERT_OK(rc);
    atomic_fetch_add(sh_word(m, READY), 1);
    atomic_store(sh_word(m, HOLDING), 1);
    for (;;) {
      *counter = *counter + 1;
      *check = *counter;
    }
  }
  if (strcmp(what, "loop") == 0) {
    atomic_fetch_add(sh_word(m, READY), 1);
    for (;;) {
      int rc = mmf_mutex_lock(m, MUTEX, -1);
      if (rc == MMF_EOWNERDEAD) {
        *check = *counter;
        rc = mmf_mutex_consistent(m, MUTEX);
      }
      ASSERT_OK(rc);
      *counter = *counter + 1;
      for (int i = 0; i < 50; i++)
        *check = *check + (i == 49);
      ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
    }
  }
  if (strcmp(what, "lockrc") == 0) {
    int rc = mmf_mutex_lock(m, MUTEX, strtoll(argv[3], NULL, 10) * MS);
    if (rc == 0 || rc == MMF_EOWNERDEAD)
      (void)mmf_mutex_unlock(m, MUTEX);
    return code_of(rc);
  }
  if (strcmp(what, "unlock") == 0)
    return code_of(mmf_mutex_unlock(m, MUTEX));
  FAIL("locker: unknown %s", what);
}

static test_proc spawn_locker(const char *path, const char *what,
                              const char *arg) {
  return test_spawn("locker", (const char *[]){path, what, arg, NULL});
}

/* ------------------------------------------------------------------------ */
/* No lost updates                                                           */
/* ------------------------------------------------------------------------ */

/* With the negative control in the same run: without the lock the same
 * children lose updates. */
TEST(two_processes_lose_no_update) {
  ASSERT_EQ_U(sh_two_adders("locker", test_path("m"), "add", ROUNDS),
              2 * (uint64_t)ROUNDS);
  sh_expect_lost_updates("locker", test_path("m"), CONTROL_ROUNDS);
}

/* Threads of one process contend too. */

typedef struct adder {
  mmf_map *m;
  int n;
  bool lock;
} adder;

static void *add_in_thread(void *arg) {
  adder *a = arg;
  volatile uint64_t *counter = (volatile uint64_t *)u64_at(a->m, COUNTER);
  for (int i = 0; i < a->n; i++) {
    if (a->lock && mmf_mutex_lock(a->m, MUTEX, -1) != 0)
      FAIL("lock in thread");
    sh_slow_increment(counter);
    if (a->lock && mmf_mutex_unlock(a->m, MUTEX) != 0)
      FAIL("unlock in thread");
  }
  return NULL;
}

/* Four threads add n each, with the lock or without; returns the total. */
static uint64_t four_threads_add(int n, bool lock) {
  test_unlink(test_path("m"));
  adder a = {map_rw(test_path("m")), n, lock};
  test_thread t[4];
  for (int i = 0; i < 4; i++)
    t[i] = test_thread_start(add_in_thread, &a);
  for (int i = 0; i < 4; i++)
    test_thread_join(t[i]);
  uint64_t total = atomic_load(u64_at(a.m, COUNTER));
  test_note("4 threads x %d, %s: total %" PRIu64 " (%" PRIu64 " lost)", n,
            lock ? "locked" : "no lock", total, 4 * (uint64_t)n - total);
  ASSERT_OK(mmf_close(a.m));
  return total;
}

/* With the negative control: the same threads without the lock lose
 * updates. */
TEST(threads_lose_no_update) {
  ASSERT_EQ_U(four_threads_add(ROUNDS / 10, true), 4 * (uint64_t)(ROUNDS / 10));
#if defined(TEST_TSAN)
  /* The control is a data race on purpose, which ThreadSanitizer reports
   * as it should: the other legs run it. */
  test_note("the unlocked control is left out under ThreadSanitizer");
  return;
#endif
  for (int run = 0; run < 5; run++)
    if (four_threads_add(CONTROL_ROUNDS, false) < 4 * (uint64_t)CONTROL_ROUNDS)
      return;
  FAIL("five runs without the lock lost no update");
}

/* ------------------------------------------------------------------------ */
/* States                                                                    */
/* ------------------------------------------------------------------------ */

TEST(zero_bytes_are_an_unlocked_mutex) {
  mmf_map *m = map_rw(test_path("m"));
  static const unsigned char zero[MMF_MUTEX_SIZE];
  ASSERT_MEMEQ(mmf_data(m), zero, MMF_MUTEX_SIZE);
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, 0));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  /* Unlocked again, the lock word and tag are zero again; the process
   * fields keep naming the last owner (this process), the rest is zero. */
  const unsigned char *b = mmf_data(m);
  uint32_t pid;
  ASSERT_MEMEQ(b, zero, 8);
  memcpy(&pid, b + 8, 4);
#ifdef _WIN32
  ASSERT_EQ_U(pid, (uint32_t)GetCurrentProcessId());
#else
  ASSERT_EQ_U(pid, (uint32_t)getpid());
#endif
  ASSERT_MEMEQ(b + 16, zero, MMF_MUTEX_SIZE - 16);
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
  ASSERT_OK(mmf_mutex_lock(m, MUTEX2, -1));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX2));
  ASSERT_OK(mmf_close(m));
}

TEST(relock_by_owner_is_edeadlk) {
  mmf_map *m = map_rw(test_path("m"));
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, -1), MMF_EDEADLK);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 0), MMF_EDEADLK);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * MS), MMF_EDEADLK);
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_close(m));
}

static void *unlock_in_thread(void *arg) {
  mmf_map *m = arg;
  int rc = mmf_mutex_unlock(m, MUTEX);
  if (rc != MMF_EPERM)
    FAIL("unlock by another thread: %s", mmf_errname(rc));
  rc = mmf_mutex_consistent(m, MUTEX);
  if (rc != MMF_EPERM)
    FAIL("consistent by another thread: %s", mmf_errname(rc));
  return NULL;
}

TEST(unlock_by_non_owner_is_eperm) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  ASSERT_ERR(mmf_mutex_unlock(m, MUTEX), MMF_EPERM);
  ASSERT_ERR(mmf_mutex_consistent(m, MUTEX), MMF_EPERM);
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
  /* Not in the owner-died state. */
  ASSERT_ERR(mmf_mutex_consistent(m, MUTEX), MMF_EINVAL);
  test_thread_join(test_thread_start(unlock_in_thread, m));
  /* Another process. */
  ASSERT_EQ(test_wait(spawn_locker(path, "unlock", NULL)), 13);
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_ERR(mmf_mutex_unlock(m, MUTEX), MMF_EPERM);
  ASSERT_OK(mmf_close(m));
}

TEST(lock_held_elsewhere_times_out) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  test_proc holder = spawn_locker(path, "hold", NULL);
  wait_for(m, READY, 1);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 0), MMF_ETIMEDOUT);
  int64_t t0 = sh_now_ns();
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 100 * MS), MMF_ETIMEDOUT);
  int64_t waited = sh_now_ns() - t0;
  test_note("a 100 ms timeout returned after %.1f ms", waited / 1e6);
  ASSERT_GE(waited, 80 * MS);
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, 30 * SEC));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_EQ(test_wait(holder), 0);
  ASSERT_OK(mmf_close(m));
}

static void lock_for_a_second(void *m) {
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 1 * SEC), MMF_ETIMEDOUT);
}

/* A locker blocked behind a live owner for a second sleeps: under 10 ms
 * of CPU where CPU time is counted finely (sh_sleeper_cpu_bound_ns; it
 * wakes to look at the owner about 63 times a second). */
TEST(blocked_locker_uses_no_cpu) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  test_proc holder = spawn_locker(path, "hold", NULL);
  wait_for(m, READY, 1);
  sh_assert_blocked_cpu(lock_for_a_second, m, sh_sleeper_cpu_bound_ns());
  /* The negative control: a locker that spins shows up in the same
   * measurement. */
  sh_assert_spinner_charged(sh_word(m, MUTEX));
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_EQ(test_wait(holder), 0);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Owner death                                                               */
/* ------------------------------------------------------------------------ */

/* A child locks MUTEX (0 or MMF_EOWNERDEAD) and is killed holding it. */
static void kill_a_holder(const char *path, mmf_map *m) {
  atomic_store(sh_word(m, HOLDING), 0);
  test_proc p = spawn_locker(path, "spin", NULL);
  wait_for(m, HOLDING, 1);
  test_kill(p);
}

TEST(killed_owner_is_eownerdead_then_not_recoverable) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  kill_a_holder(path, m);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * SEC), MMF_EOWNERDEAD);
  /* We hold it; unlocking without repair makes it not recoverable. */
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, -1), MMF_ENOTRECOVERABLE);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 0), MMF_ENOTRECOVERABLE);
  ASSERT_ERR(mmf_mutex_unlock(m, MUTEX), MMF_EPERM);
  /* For every process. */
  ASSERT_EQ(test_wait(spawn_locker(path, "lockrc", "1000")), 11);
  ASSERT_OK(mmf_close(m));
}

TEST(killed_owner_repaired_is_consistent_again) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  kill_a_holder(path, m);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * SEC), MMF_EOWNERDEAD);
  atomic_store(u64_at(m, CHECK), atomic_load(u64_at(m, COUNTER)));
  ASSERT_OK(mmf_mutex_consistent(m, MUTEX));
  ASSERT_ERR(mmf_mutex_consistent(m, MUTEX), MMF_EINVAL);
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_EQ(test_wait(spawn_locker(path, "lockrc", "1000")), 0);
  ASSERT_OK(mmf_mutex_lock(m, MUTEX, 0));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_close(m));
}

/* The successor dies too, before repairing: the next one is told again. */
TEST(owner_dying_twice_is_told_twice) {
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  for (int i = 0; i < 2; i++)
    kill_a_holder(path, m);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * SEC), MMF_EOWNERDEAD);
  ASSERT_OK(mmf_mutex_consistent(m, MUTEX));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_close(m));
}

/* A dead owner that its parent has not reaped yet (a zombie) has exited:
 * the next locker is told at once, not after the reaping. */
#if defined(__linux__)
static int lock_and_exit(void *arg) {
  mmf_map *m = arg;
  return mmf_mutex_lock(m, MUTEX, -1) == 0 ? 0 : 3;
}
#endif

TEST(zombie_owner_is_dead) {
#ifdef _WIN32
  SKIP("Windows has no zombies (and no fork())");
#elif !SH_OWNER_IS_THREAD
  SKIP(SH_OWNER_IS_PROCESS);
#else
  mmf_map *m = map_rw(test_path("m"));
  pid_t pid = start_child(lock_and_exit, m);
  /* Wait until it is a zombie, without reaping it. */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
  ASSERT_EQ(si.si_status, 0);
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  read_at(path, 0, buf, 1);
  int64_t t0 = sh_now_ns();
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * SEC), MMF_EOWNERDEAD);
  test_note("a zombie owner was found dead in %.2f ms",
            (sh_now_ns() - t0) / 1e6);
  ASSERT_EXITED(wait_child(pid), 0);
  ASSERT_OK(mmf_mutex_consistent(m, MUTEX));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_close(m));
#endif
}

/* A thread that exits holding the mutex (its process lives on) is a dead
 * owner too. */
static void *lock_and_leave(void *arg) {
  if (mmf_mutex_lock(arg, MUTEX, -1) != 0)
    FAIL("lock in thread");
  return NULL;
}

TEST(owner_thread_exit_is_dead) {
  if (!SH_OWNER_IS_THREAD)
    SKIP(SH_OWNER_IS_PROCESS);
  mmf_map *m = map_rw(test_path("m"));
  test_thread_join(test_thread_start(lock_and_leave, m));
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 10 * SEC), MMF_EOWNERDEAD);
  ASSERT_OK(mmf_mutex_consistent(m, MUTEX));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  ASSERT_OK(mmf_close(m));
}

/*
 * A thread id the OS hands out again is not the dead owner. A live child
 * locks MUTEX (which records its id and tag); MUTEX2 is made to name the
 * same id with another tag: an earlier thread with that id, now dead.
 * Locking MUTEX2 reports EOWNERDEAD although a thread with that id runs;
 * locking MUTEX, whose owner runs, times out.
 */
TEST(reused_thread_id_is_not_the_owner) {
#ifdef _WIN32
  SKIP("Windows mutexes are kernel objects: the kernel knows the owner");
#elif !SH_OWNER_IS_THREAD
  SKIP(SH_OWNER_IS_PROCESS);
#else
  const char *path = test_path("m");
  mmf_map *m = map_rw(path);
  test_proc holder = spawn_locker(path, "hold", NULL);
  wait_for(m, READY, 1);
  uint64_t w = atomic_load(u64_at(m, MUTEX));
  uint64_t info = atomic_load(u64_at(m, MUTEX + 8));
  ASSERT_NE_U((uint32_t)w, 0);
  atomic_store(u64_at(m, MUTEX2), w ^ ((uint64_t)1 << 32));
  atomic_store(u64_at(m, MUTEX2 + 8), info);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX, 300 * MS), MMF_ETIMEDOUT);
  ASSERT_ERR(mmf_mutex_lock(m, MUTEX2, 10 * SEC), MMF_EOWNERDEAD);
  ASSERT_OK(mmf_mutex_consistent(m, MUTEX2));
  ASSERT_OK(mmf_mutex_unlock(m, MUTEX2));
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_EQ(test_wait(holder), 0);
  ASSERT_OK(mmf_close(m));
#endif
}

/* ------------------------------------------------------------------------ */
/* Kill the holder 100 times                                                 */
/* ------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

typedef struct blocked {
  mmf_map *m;
  _Atomic int64_t returned_at;
  _Atomic int rc;
  _Atomic int started;
} blocked;

/* The lock belongs to this thread: it repairs and unlocks too. */
static void *lock_blocked(void *arg) {
  blocked *b = arg;
  atomic_store(&b->started, 1);
  int rc = mmf_mutex_lock(b->m, MUTEX, 30 * SEC);
  atomic_store(&b->returned_at, sh_now_ns());
  atomic_store(&b->rc, rc);
  if (rc == MMF_EOWNERDEAD && (mmf_mutex_consistent(b->m, MUTEX) != 0 ||
                               mmf_mutex_unlock(b->m, MUTEX) != 0))
    atomic_store(&b->rc, 1);
  return NULL;
}

#if defined(__linux__)
/* A process-shared pthread mutex without robustness, in memory shared
 * with a fork()ed child that locks it and is killed: what a timed lock
 * then returns. */
static int hold_plain(void *arg) {
  pthread_mutex_t *mu = arg;
  if (pthread_mutex_lock(mu) != 0)
    return 3;
  atomic_store((_Atomic uint32_t *)(mu + 1), 1);
  for (;;)
    pause();
}
static int plain_mutex_after_holder_killed(void) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 4096, MMF_SHARED));
  pthread_mutex_t *mu = mmf_data(m);
  pthread_mutexattr_t a;
  ASSERT_EQ(pthread_mutexattr_init(&a), 0);
  ASSERT_EQ(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  ASSERT_EQ(pthread_mutex_init(mu, &a), 0);
  pthread_mutexattr_destroy(&a);
  pid_t pid = start_child(hold_plain, mu);
  while (atomic_load((_Atomic uint32_t *)(mu + 1)) == 0)
    test_sleep_ms(1);
  kill(pid, SIGKILL);
  (void)wait_child(pid);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 200000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  int rc = pthread_mutex_timedlock(mu, &ts);
  if (rc == 0)
    pthread_mutex_unlock(mu);
  ASSERT_OK(mmf_close(m));
  return rc;
}
#endif

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/*
 * The holder is killed at a random moment while another thread of ours is
 * blocked in mmf_mutex_lock; that lock must return MMF_EOWNERDEAD every
 * time. The time from the kill to the return is the detection time (the
 * dead process is reaped only afterwards: it is a zombie meanwhile).
 */
TEST(kill_holder_100_times) {
  const char *path = test_path("m");
  int64_t t[100];
  uint32_t seed = 12345;
  for (int i = 0; i < 100; i++) {
    test_context("round %d", i);
    test_unlink(path);
    mmf_map *m = map_rw(path);
    test_proc p = spawn_locker(path, "spin", NULL);
    wait_for(m, HOLDING, 1);
    blocked b = {m, 0, 1, 0};
    test_thread th = test_thread_start(lock_blocked, &b);
    while (!atomic_load(&b.started))
      test_sleep_ms(1);
    test_sleep_ms(rnd(&seed) % 30);
    int64_t killed_at = sh_now_ns();
#if defined(__linux__)
    /* Not reaped until the waiter returns: a zombie meanwhile. */
    kill((pid_t)p.id, SIGKILL);
    test_thread_join(th);
    int st;
    waitpid((pid_t)p.id, &st, 0);
#else
    /* Windows: the kernel object; elsewhere the owner is dead once
     * reaped. */
    test_kill(p);
    test_thread_join(th);
#endif
    ASSERT_ERR(atomic_load(&b.rc), MMF_EOWNERDEAD);
    t[i] = atomic_load(&b.returned_at) - killed_at;
    ASSERT_OK(mmf_mutex_lock(m, MUTEX, 0));
    ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
    ASSERT_OK(mmf_close(m));
  }
  test_context_clear();
  qsort(t, 100, sizeof t[0], cmp_i64);
  test_note("100 kills: EOWNERDEAD 100 times; detection median %.2f ms, "
            "worst %.2f ms",
            t[49] / 1e6, t[99] / 1e6);
#if defined(__linux__)
  /* The negative control: an ordinary process-shared mutex whose holder
   * is killed stays locked for ever (a timed lock times out). */
  ASSERT_EQ(plain_mutex_after_holder_killed(), ETIMEDOUT);
  test_note("control: a plain process-shared pthread mutex of a killed "
            "holder still times out after 200 ms");
#endif
}

/*
 * The holder loops lock / work / unlock and is killed at random points,
 * inside the lock or the unlock too. The next lock returns 0 (it died
 * between) or MMF_EOWNERDEAD (it died holding), within seconds, never a
 * hang; after a 0 the protected data is intact.
 */
TEST(kill_at_random_points_100_times) {
  const char *path = test_path("m");
  uint32_t seed = 777;
  int dead = 0;
  for (int i = 0; i < 100; i++) {
    test_context("round %d", i);
    test_unlink(path);
    mmf_map *m = map_rw(path);
    test_proc p = spawn_locker(path, "loop", NULL);
    wait_for(m, READY, 1);
    test_sleep_ms(1 + rnd(&seed) % 20);
    test_kill(p);
    int rc = mmf_mutex_lock(m, MUTEX, 5 * SEC);
    if (rc == MMF_EOWNERDEAD) {
      dead++;
      atomic_store(u64_at(m, CHECK), atomic_load(u64_at(m, COUNTER)));
      ASSERT_OK(mmf_mutex_consistent(m, MUTEX));
    } else {
      ASSERT_OK(rc);
      ASSERT_EQ_U(atomic_load(u64_at(m, CHECK)),
                  atomic_load(u64_at(m, COUNTER)));
    }
    ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
    ASSERT_OK(mmf_close(m));
  }
  test_context_clear();
  test_note("100 kills at random points: %d while holding (EOWNERDEAD), %d "
            "between (0)",
            dead, 100 - dead);
}

/* ------------------------------------------------------------------------ */
/* Arguments and faults                                                      */
/* ------------------------------------------------------------------------ */

TEST(mutex_alignment_on_region_offset) {
  mmf_map *m = map_rw(test_path("m"));
  const uint64_t bad[] = {1, 4, 8, 32, 63, 65};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    test_context("offset %" PRIu64, bad[i]);
    ASSERT_ERR(mmf_mutex_lock(m, bad[i], -1), MMF_EINVAL);
    ASSERT_ERR(mmf_mutex_unlock(m, bad[i]), MMF_EINVAL);
    ASSERT_ERR(mmf_mutex_consistent(m, bad[i]), MMF_EINVAL);
  }
  test_context_clear();
  ASSERT_OK(mmf_close(m));
  /* A map from file offset 32: its byte 32 is file offset 64. */
  ASSERT_OK(mmf_open(&m, test_path("m"), MMF_WRITE,
                     &(mmf_options){.offset = 32, .length = 1024}));
  ASSERT_ERR(mmf_mutex_lock(m, 0, -1), MMF_EINVAL);
  ASSERT_OK(mmf_mutex_lock(m, 32, -1));
  ASSERT_OK(mmf_mutex_unlock(m, 32));
  ASSERT_OK(mmf_close(m));
}

TEST(mutex_outside_map_and_bad_arguments) {
  mmf_map *m = map_rw(test_path("m"));
  const uint64_t bad[] = {FSIZE, FSIZE - 32, FSIZE + 64, UINT64_MAX - 63};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    test_context("offset %" PRIu64, bad[i]);
    ASSERT_ERR(mmf_mutex_lock(m, bad[i], -1), MMF_ERANGE);
    ASSERT_ERR(mmf_mutex_unlock(m, bad[i]), MMF_ERANGE);
    ASSERT_ERR(mmf_mutex_consistent(m, bad[i]), MMF_ERANGE);
  }
  test_context_clear();
  ASSERT_OK(mmf_mutex_lock(m, FSIZE - 64, -1));
  ASSERT_OK(mmf_mutex_unlock(m, FSIZE - 64));
  ASSERT_OK(mmf_close(m));
  ASSERT_ERR(mmf_mutex_lock(NULL, 0, -1), MMF_EINVAL);
  ASSERT_ERR(mmf_mutex_unlock(NULL, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_mutex_consistent(NULL, 0), MMF_EINVAL);
  /* A read-only map cannot be locked. */
  ASSERT_OK(mmf_open(&m, test_path("m"), MMF_READ, NULL));
  ASSERT_ERR(mmf_mutex_lock(m, 0, -1), MMF_EACCES);
  ASSERT_ERR(mmf_mutex_unlock(m, 0), MMF_EACCES);
  ASSERT_OK(mmf_close(m));
}

/* MMF_SHARED anonymous memory: parent and fork()ed child contend. */
#ifndef _WIN32
/* Both raise READY and start when both have (a fork takes long enough
 * for the parent to finish alone). */
static void start_together(mmf_map *m) {
  atomic_fetch_add(sh_word(m, READY), 1);
  while (atomic_load(sh_word(m, READY)) < 2) {
  }
}
static int add_forked(void *arg) {
  adder a = *(adder *)arg;
  start_together(a.m);
  add_in_thread(&a);
  return 0;
}

/* Parent and child add n each, with the lock or without; the total. */
static uint64_t fork_add(int n, bool lock) {
  adder a = {NULL, n, lock};
  ASSERT_OK(mmf_anon(&a.m, FSIZE, MMF_SHARED));
  pid_t pid = start_child(add_forked, &a);
  start_together(a.m);
  add_in_thread(&a);
  ASSERT_EXITED(wait_child(pid), 0);
  uint64_t total = atomic_load(u64_at(a.m, COUNTER));
  test_note("parent and child x %d, %s: total %" PRIu64 " (%" PRIu64 " lost)",
            n, lock ? "locked" : "no lock", total, 2 * (uint64_t)n - total);
  ASSERT_OK(mmf_close(a.m));
  return total;
}
#endif

/* With the negative control: without the lock they lose updates. */
TEST(mutex_in_shared_anonymous_memory_across_fork) {
#ifdef _WIN32
  SKIP("Windows has no fork()");
#else
  ASSERT_EQ_U(fork_add(ROUNDS / 10, true), 2 * (uint64_t)(ROUNDS / 10));
  for (int run = 0; run < 5; run++)
    if (fork_add(CONTROL_ROUNDS, false) < 2 * (uint64_t)CONTROL_ROUNDS)
      return;
  FAIL("five runs without the lock lost no update");
#endif
}

/* A new file map of two allocation granules, for cutting the second. */
static mmf_map *two_granules(const char *path) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(
      &m, path, MMF_WRITE,
      &(mmf_options){.size = 2 * mmf_granularity(), .flags = MMF_CREATE}));
  return m;
}

/* A mutex in a page cut off the file: an error code, never SIGBUS. */
TEST(mutex_in_truncated_page) {
  test_need_truncate_mapped();
  const uint64_t g = mmf_granularity();
  const char *path = test_path("m");
  mmf_map *m = two_granules(path);
  test_truncate_mapped(path, g);
  ASSERT_ERR(mmf_mutex_lock(m, g + 64, -1), MMF_ETRUNCATED);
  ASSERT_ERR(mmf_mutex_lock(m, g + 64, -1), MMF_ERANGE);
  ASSERT_OK(mmf_mutex_lock(m, 64, -1));
  ASSERT_OK(mmf_mutex_unlock(m, 64));
  ASSERT_OK(mmf_close(m));
}

#ifndef _WIN32
/* Touch the mutex's lock word at arg without any guard: the control that
 * shows the page really faults. */
static int touch_word(void *arg) {
  return (int)(atomic_load((_Atomic uint64_t *)arg) & 1);
}
#endif

/*
 * The uncontended lock and unlock of a thread that has locked before take
 * the fast way (on most builds tiny assembly routines whose faults the
 * handler recognises by their address; in ThreadSanitizer builds and with
 * MMF_FRAME_GUARD a frame): a page cut under them is MMF_ETRUNCATED there
 * too, for the lock and for the unlock, and the control shows that the
 * same bytes read without the guard kill with SIGBUS.
 */
TEST(uncontended_lock_and_unlock_in_truncated_page) {
  test_need_truncate_mapped();
  const uint64_t g = mmf_granularity();
  const char *path = test_path("m");
  mmf_map *m = two_granules(path);
  /* Learn the thread's owner id and ready the guard: the fast way. */
  ASSERT_OK(mmf_mutex_lock(m, 64, -1));
  ASSERT_OK(mmf_mutex_unlock(m, 64));
  test_truncate_mapped(path, g);
  ASSERT_ERR(mmf_mutex_lock(m, g + 64, -1), MMF_ETRUNCATED);
  ASSERT_OK(mmf_mutex_lock(m, 64, -1));
  ASSERT_OK(mmf_mutex_unlock(m, 64));
  ASSERT_OK(mmf_close(m));

  /* Held when the page goes: the unlock. */
  const char *path2 = test_path("m2");
  m = two_granules(path2);
  ASSERT_OK(mmf_mutex_lock(m, g + 64, -1));
  test_truncate_mapped(path2, g);
  ASSERT_ERR(mmf_mutex_unlock(m, g + 64), MMF_ETRUNCATED);
#ifndef _WIN32
  ASSERT_SIGNALED(run_crashing_child(touch_word, (char *)mmf_data(m) + g + 64),
                  SIGBUS);
#endif
  ASSERT_OK(mmf_close(m));
}

/* The handler claims a fault only at a listed instruction and only at the
 * 16 bytes the routine was given: the same instruction faulting anywhere
 * else, or another instruction at those bytes, is not ours. */
TEST(fault_atomics_claim_only_their_bytes) {
#if !MMF__FAULT_ATOMICS
  SKIP("this build guards the mutex with frames (no routines to list)");
#else
  const uintptr_t base = (uintptr_t)1 << 20;
  uintptr_t site;
  int n;
  for (n = 0; (site = mmf__fault_atomic_site(n)) != 0; n++) {
    ASSERT_NE_U(mmf__fault_atomic_fixup(site, base, base), 0);
    ASSERT_NE_U(mmf__fault_atomic_fixup(site, base + 15, base), 0);
    ASSERT_EQ_U(mmf__fault_atomic_fixup(site, base + 16, base), 0);
    ASSERT_EQ_U(mmf__fault_atomic_fixup(site, base - 1, base), 0);
    ASSERT_EQ_U(mmf__fault_atomic_fixup(site, base + 4096, base), 0);
    ASSERT_EQ_U(mmf__fault_atomic_fixup(site + 1, base, base), 0);
  }
  test_note("%d listed instructions", n);
  /* At least the lock's swap and store and the unlock's swap. */
  ASSERT_GE(n, 3);
  ASSERT_EQ_U(mmf__fault_atomic_site(-1), 0);
#endif
}

#if MMF__FAULT_ATOMICS

/* Called directly on a page the process may not touch, each routine
 * returns "faulted" with the record filled, and the bytes stay as they
 * were. */
static int atomics_on_protected_page(void *arg) {
  (void)arg;
  mmf_map *m = NULL;
  if (mmf_anon(&m, 2 * mmf_granularity(), MMF_SHARED) != 0)
    return 10;
  if (mmf_mutex_lock(m, 0, -1) || mmf_mutex_unlock(m, 0))
    return 11; /* readies the guard */
  _Atomic uint64_t *word = (_Atomic uint64_t *)mmf_data(m);
  if (mmf_protect(m, 0, mmf_granularity(), MMF_PROT_NONE) != 0)
    return 12;
  mmf__fault f = {0, 0, 0, NULL};
  if (mmf__fault_acquire(&f, word, 5, 6) != MMF__FAULT_ATOMIC_FAULTED)
    return 13;
  if (f.kind != MMF__FAULT_ACCESS && f.kind != MMF__FAULT_PAGE)
    return 14;
  if (f.addr != (void *)word)
    return 15;
  f.kind = MMF__FAULT_NONE;
  if (mmf__fault_release(&f, word, 5) != MMF__FAULT_ATOMIC_FAULTED)
    return 16;
  if (f.kind == MMF__FAULT_NONE || f.addr != (void *)word)
    return 17;
  if (mmf_protect(m, 0, mmf_granularity(), MMF_PROT_WRITE) != 0)
    return 18;
  if (atomic_load(word) != 0)
    return 19;
  /* And on the bytes as they are now: the routines' plain results. */
  if (mmf__fault_acquire(&f, word, 5, 6) != 1 || word[1] != 6)
    return 20;
  if (mmf__fault_acquire(&f, word, 7, 8) != 0 || atomic_load(word) != 5)
    return 21;
  if (mmf__fault_release(&f, word, 7) != 0 || word[1] != 6)
    return 22;
  /* The release leaves the process fields to name the last owner. */
  if (mmf__fault_release(&f, word, 5) != 1 || word[0] != 0 || word[1] != 6)
    return 23;
  return mmf_close(m) == 0 ? 0 : 24;
}

#endif

TEST(fault_atomics_return_faulted_on_a_protected_page) {
#if !MMF__FAULT_ATOMICS
  SKIP("this build guards the mutex with frames (no routines to call)");
#else
  ASSERT_EXITED(run_in_child(atomics_on_protected_page, NULL), 0);
#endif
}

#if MMF__FAULT_ATOMICS && defined(__linux__) &&                                \
    (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
#define FAKE_CONTEXT 1
#include <ucontext.h>
#if defined(__x86_64__)
#define UC_PC(c) ((c)->uc_mcontext.gregs[REG_RIP])
#define UC_RECORD(c) ((c)->uc_mcontext.gregs[REG_RDI])
#define UC_BYTES(c) ((c)->uc_mcontext.gregs[REG_RSI])
#elif defined(__i386__)
#define UC_PC(c) ((c)->uc_mcontext.gregs[REG_EIP])
#define UC_RECORD(c) ((c)->uc_mcontext.gregs[REG_EDI])
#define UC_BYTES(c) ((c)->uc_mcontext.gregs[REG_ESI])
#else
#define UC_PC(c) ((c)->uc_mcontext.pc)
#define UC_RECORD(c) ((c)->uc_mcontext.regs[0])
#define UC_BYTES(c) ((c)->uc_mcontext.regs[1])
#endif
#define UC_SET(field, v) ((field) = (__typeof__(field))(uintptr_t)(v))

static volatile sig_atomic_t program_saw;

static void program_handler(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)si;
  (void)uc;
  program_saw++;
}

/* Hand mmf's handler faults "at" a listed instruction through a made-up
 * context, the program's own handler installed before mmf's: a fault at
 * another address, or a signal sent at the right one, reaches the
 * program's handler with the context untouched; only the fault at the
 * bytes the routine was given is claimed. */
static int faults_at_a_site(void *arg) {
  struct sigaction sa, installed;
  mmf_map *m = NULL;
  ucontext_t uc;
  siginfo_t si;
  mmf__fault rec;
  uint64_t bytes[2] = {0, 0};
  const uintptr_t site = mmf__fault_atomic_site((int)(intptr_t)arg);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = program_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0)
    return 10;
  /* The first lock of the thread installs mmf's handler. */
  if (mmf_anon(&m, mmf_granularity(), MMF_SHARED) != 0 ||
      mmf_mutex_lock(m, 0, -1) != 0 || mmf_mutex_unlock(m, 0) != 0)
    return 11;
  if (sigaction(SIGSEGV, NULL, &installed) != 0 ||
      !(installed.sa_flags & SA_SIGINFO) ||
      installed.sa_sigaction == program_handler)
    return 12;
  /* What the handler reads of it: the registers set below (and, on x86,
   * the page-fault error code, here 0: a read). */
  memset(&uc, 0, sizeof uc);
  memset(&rec, 0, sizeof rec);
  memset(&si, 0, sizeof si);
  si.si_signo = SIGSEGV;
  si.si_code = SEGV_MAPERR;
  UC_SET(UC_PC(&uc), site);
  UC_SET(UC_RECORD(&uc), &rec);
  UC_SET(UC_BYTES(&uc), bytes);

  /* The same instruction, elsewhere. */
  si.si_addr = (void *)((uintptr_t)bytes + 4096);
  installed.sa_sigaction(SIGSEGV, &si, &uc);
  if (program_saw != 1 || (uintptr_t)UC_PC(&uc) != site || rec.kind != 0)
    return 20;
  si.si_addr = bytes;
  si.si_code = SI_USER; /* sent, not raised by the access */
  installed.sa_sigaction(SIGSEGV, &si, &uc);
  if (program_saw != 2 || (uintptr_t)UC_PC(&uc) != site || rec.kind != 0)
    return 21;
  si.si_code = SEGV_ACCERR; /* the access to the bytes given: ours */
  installed.sa_sigaction(SIGSEGV, &si, &uc);
  if (program_saw != 2 || (uintptr_t)UC_PC(&uc) == site ||
      rec.kind != MMF__FAULT_ACCESS || rec.addr != (void *)bytes)
    return 22;
  return mmf_close(m) == 0 ? 0 : 23;
}

#endif

TEST(fault_at_a_listed_instruction_elsewhere_is_not_claimed) {
#if !defined(FAKE_CONTEXT)
  SKIP("the made-up context is written for Linux on x86_64, i386 and "
       "aarch64, in builds with the routines");
#else
  int n;
  for (n = 0; mmf__fault_atomic_site(n) != 0; n++)
    ASSERT_EXITED(run_in_child(faults_at_a_site, (void *)(intptr_t)n), 0);
  ASSERT_GE(n, 3);
#endif
}

/* ------------------------------------------------------------------------ */
/* A 32-bit and a 64-bit process                                             */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* Run the partner program with args; returns its pid. */
static pid_t start_partner(const char *prog, const char *const *args) {
  char *argv[8];
  int n = 0;
  argv[n++] = (char *)prog;
  for (; *args && n < 7; args++)
    argv[n++] = (char *)*args;
  argv[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execv(prog, argv);
    _exit(127);
  }
  return pid;
}

/* This process and the partner add ROUNDS each; returns the total. */
static uint64_t add_with_partner(const char *prog, const char *how) {
  const char *path = test_path("m");
  test_unlink(path);
  mmf_map *m = map_rw(path);
  pid_t pid = start_partner(
      prog, (const char *[]){"add", path, sh_num(ROUNDS), how, NULL});
  wait_for(m, READY, 1);
  atomic_store(sh_word(m, GO), 1);
  volatile uint64_t *counter = (volatile uint64_t *)u64_at(m, COUNTER);
  const bool lock = strcmp(how, "none") != 0;
  for (int i = 0; i < ROUNDS; i++) {
    if (lock)
      ASSERT_OK(mmf_mutex_lock(m, MUTEX, -1));
    sh_slow_increment(counter);
    if (lock)
      ASSERT_OK(mmf_mutex_unlock(m, MUTEX));
  }
  ASSERT_EXITED(wait_child(pid), 0);
  uint64_t total = atomic_load(u64_at(m, COUNTER));
  test_note("%d-bit with %s partner, %s: total %" PRIu64 " (%" PRIu64 " lost)",
            (int)(sizeof(void *) * 8), prog, how, total,
            2 * (uint64_t)ROUNDS - total);
  ASSERT_OK(mmf_close(m));
  return total;
}
#endif

/*
 * The same bytes mean the same to a 32-bit and a 64-bit process: they
 * share one mutex and lose no update (and, the control, lose updates
 * without it). The partner of the other word size comes from
 * MMF_SHARE_PARTNER, which scripts/check-m32.sh sets for the 32-bit run.
 */
TEST(mutex_shared_by_32_and_64_bit_processes) {
#ifdef _WIN32
  SKIP("the partner is started with fork() and exec()");
#else
  const char *prog = getenv("MMF_SHARE_PARTNER");
  if (!prog || !*prog)
    SKIP("MMF_SHARE_PARTNER is not set (scripts/check-m32.sh sets it to "
         "the 64-bit build's share_partner)");
  if (access(prog, X_OK) != 0)
    SKIP("MMF_SHARE_PARTNER=%s is not an executable (build the 64-bit tree "
         "first)",
         prog);
  /* Its word size must differ from ours. */
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  fflush(stdout);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    execl(prog, prog, "bits", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char bits[16] = {0};
  ASSERT_GT(read(fds[0], bits, sizeof bits - 1), 0);
  close(fds[0]);
  ASSERT_EXITED(wait_child(pid), 0);
  test_note("this test is %d-bit, the partner %d-bit",
            (int)(sizeof(void *) * 8), atoi(bits));
  ASSERT_NE(atoi(bits), (int)(sizeof(void *) * 8));
  ASSERT_EQ_U(add_with_partner(prog, "lock"), 2 * (uint64_t)ROUNDS);
  for (int run = 0; run < 5; run++)
    if (add_with_partner(prog, "none") < 2 * (uint64_t)ROUNDS)
      return;
  FAIL("five runs without the lock lost no update");
#endif
}
