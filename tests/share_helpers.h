/*
 * share_helpers.h - clocks and small helpers for the tests of sharing
 * between processes (test_wait.c, test_mutex.c, test_lock.c, test_shm.c).
 */
#ifndef MMF_SHARE_HELPERS_H
#define MMF_SHARE_HELPERS_H

#include "test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/resource.h>
#include <time.h>

#include "os/posix/sys_posix.h"
#endif

/* A monotonic clock in nanoseconds. */
static inline int64_t sh_now_ns(void) {
#ifdef _WIN32
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (int64_t)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

/* CPU time (user + system) this process has used, in nanoseconds. */
static inline int64_t sh_cpu_ns(void) {
#ifdef _WIN32
  FILETIME c, e, k, u;
  if (!GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u))
    FAIL("GetProcessTimes: %lu", (unsigned long)GetLastError());
  ULARGE_INTEGER kk = {.LowPart = k.dwLowDateTime,
                       .HighPart = k.dwHighDateTime};
  ULARGE_INTEGER uu = {.LowPart = u.dwLowDateTime,
                       .HighPart = u.dwHighDateTime};
  return (int64_t)(kk.QuadPart + uu.QuadPart) * 100;
#else
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    FAIL("getrusage failed");
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
#endif
}

/* What a spinner must be charged in the negative control of a "blocked
 * uses no CPU" test: 100 ms on Windows, whose bound for a sleeper is
 * coarse (below), 50 ms elsewhere. */
#ifdef _WIN32
#define SH_SPINNER_CHARGE_NS (100 * (int64_t)1000000)
#else
#define SH_SPINNER_CHARGE_NS (50 * (int64_t)1000000)
#endif

/* The most CPU time a thread that sleeps for a second may be charged.
 * Windows counts process time in whole ticks (15.6 ms; Wine reports
 * 10 ms units), kernel and user time each rounded on its own, so a
 * sleeper whose few system calls cross both boundaries reads as two
 * ticks (20 ms was seen under Wine on a loaded machine, 0 on a quiet
 * one): the bound there is two Windows ticks, 31.25 ms, under a third
 * of the spinner's charge. POSIX counts finely and the bound is 10 ms.
 * Under an emulator (qemu-user, found by the /proc files it writes
 * itself) each of the sleeper's few system calls costs many times more:
 * 50 ms there, still a twentieth of what a spinner uses. Under a
 * sanitizer each of the mutex waiter's wake-ups to look at its owner
 * costs two or three times more: 25 ms there, half what the spinner of
 * the negative control is charged. */
static inline int64_t sh_sleeper_cpu_bound_ns(void) {
#ifdef _WIN32
  return 31250000;
#else
  if (test_proc_copied("/proc/self/maps") != NULL) {
    test_note("under an emulator: the bound is 50 ms");
    return 50 * (int64_t)1000000;
  }
#if defined(TEST_ASAN) || defined(TEST_TSAN)
  test_note("under a sanitizer: the bound is 25 ms");
  return 25 * (int64_t)1000000;
#endif
  return 10 * (int64_t)1000000;
#endif
}

/* Runs block(arg), one call that stays blocked for about a second, and
 * checks that it used at most bound_ns of CPU; up to three tries, of
 * which the least is checked. CPU time also counts what the kernel does
 * while the thread happens to run: interrupts, and on a virtual machine
 * time the host took the CPU away. On a loaded machine (the first tests
 * of a leg read 5 GiB while a fuzzer ran) one second of a polling waiter
 * was charged more than its 25 ms once in 20 runs of a leg; it is
 * charged 3 to 8 ms otherwise. A waiter that spins, or polls far too
 * often, is over the bound on every try. */
static inline void sh_assert_blocked_cpu(void (*block)(void *), void *arg,
                                         int64_t bound_ns) {
  int64_t least = INT64_MAX;
  for (int k = 0; k < 3 && least > bound_ns; k++) {
    int64_t cpu0 = sh_cpu_ns(), t0 = sh_now_ns();
    block(arg);
    int64_t cpu = sh_cpu_ns() - cpu0, wall = sh_now_ns() - t0;
    test_note("blocked %.0f ms, used %.3f ms of CPU (bound %.2f ms)",
              wall / 1e6, cpu / 1e6, bound_ns / 1e6);
    ASSERT_GE(wall, 900 * (int64_t)1000000);
    if (cpu < least)
      least = cpu;
  }
  ASSERT_LE(least, bound_ns);
}

/* The negative control of a "blocked uses no CPU" test: the same
 * measurement charges a spinner. Spins on the word w (stopping early if
 * it changes) until it has used SH_SPINNER_CHARGE_NS of CPU (on a busy
 * machine that takes longer in wall time), for at most 60 s. */
static inline void sh_assert_spinner_charged(_Atomic uint32_t *w) {
  const uint32_t v = atomic_load(w);
  int64_t cpu0 = sh_cpu_ns(), t0 = sh_now_ns();
  while (sh_cpu_ns() - cpu0 < SH_SPINNER_CHARGE_NS &&
         sh_now_ns() - t0 < 60000 * (int64_t)1000000)
    if (atomic_load(w) != v)
      break;
  int64_t cpu = sh_cpu_ns() - cpu0, wall = sh_now_ns() - t0;
  test_note("spinning for %.0f ms used %.1f ms of CPU", wall / 1e6, cpu / 1e6);
  ASSERT_GE(cpu, SH_SPINNER_CHARGE_NS);
}

/*
 * What the OS under test offers (docs/sharing.md): tests of behaviour a
 * platform documents otherwise skip there with the reason.
 */

/* A sleeper in mmf_wait wakes only on mmf_wake (Linux futex, Windows
 * objects), not by itself when the word changes (other POSIX systems
 * poll). */
static inline bool sh_wake_is_needed(void) {
#ifdef _WIN32
  return true;
#else
  return mmf__sys_real.futex_wait != NULL;
#endif
}
#define SH_NO_WAKE "waiters poll here (no futex): a change needs no wake"

/* File locks cover byte ranges (OFD locks, LockFileEx), not whole files
 * (flock() elsewhere). */
static inline bool sh_range_locks(void) {
#ifdef _WIN32
  return true;
#else
  return mmf__sys_real.fcntl_lock != NULL;
#endif
}
#define SH_NO_RANGES "flock() locks whole files here (no OFD locks)"

/* A mutex owner is a thread, dead when it exits, also as a zombie (Linux:
 * /proc; Windows: the kernel object); elsewhere the owner is a process,
 * dead once reaped. */
#if defined(_WIN32) || defined(__linux__)
#define SH_OWNER_IS_THREAD 1
#else
#define SH_OWNER_IS_THREAD 0
#endif
#define SH_OWNER_IS_PROCESS                                                    \
  "the owner here is a process, dead once reaped (no /proc)"

/* The 32-bit word at off of m, as an atomic. */
static inline _Atomic uint32_t *sh_word(mmf_map *m, uint64_t off) {
  return (_Atomic uint32_t *)((unsigned char *)mmf_data(m) + off);
}

/* Decimal text of v in a static buffer (8 in turn), for child arguments. */
static inline const char *sh_num(uint64_t v) {
  static char buf[8][24];
  static int next;
  char *b = buf[next++ % 8];
  snprintf(b, sizeof buf[0], "%" PRIu64, v);
  return b;
}

/* Add 1 to *counter the way a careless program does: read, do a little
 * work, write. Unprotected, two processes doing this lose updates even
 * when they run on one core (a preemption between the read and the
 * write loses the other's increments); protected, none is lost. */
static inline void sh_slow_increment(volatile uint64_t *counter) {
  uint64_t v = *counter;
  for (volatile int k = 0; k < 20; k++) {
  }
  *counter = v + 1;
}

/* A file of size bytes at path mapped MMF_WRITE (created if missing). */
static inline mmf_map *sh_map_rw(const char *path, uint64_t size) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_WRITE,
                     &(mmf_options){.size = size, .flags = MMF_CREATE}));
  return m;
}

/* Wait (up to 60 s) until the word at off of m reaches n. */
static inline void sh_wait_for(mmf_map *m, uint64_t off, uint32_t n) {
  const int64_t start = sh_now_ns();
  while (atomic_load(sh_word(m, off)) < n) {
    if (sh_now_ns() - start > 60 * (int64_t)1000000000)
      FAIL("waited 60 s for word %" PRIu64 " to reach %u", off, n);
    test_sleep_ms(1);
  }
}

/*
 * The counting runs of test_mutex.c and test_lock.c. Their files hold a
 * u64 counter at SH_COUNTER; children raise SH_READY, wait for SH_GO, and
 * add with sh_slow_increment.
 */
#define SH_COUNTER 128
#define SH_GO 192
#define SH_READY 196

/* Two children `child` (arguments: path, how, rounds) add rounds each to
 * the counter of a fresh 4 KiB file at path, starting together. Returns
 * the total. */
static inline uint64_t sh_two_adders(const char *child, const char *path,
                                     const char *how, int rounds) {
  test_unlink(path);
  mmf_map *m = sh_map_rw(path, 4096);
  test_proc a =
      test_spawn(child, (const char *[]){path, how, sh_num(rounds), NULL});
  test_proc b =
      test_spawn(child, (const char *[]){path, how, sh_num(rounds), NULL});
  sh_wait_for(m, SH_READY, 2);
  int64_t t0 = sh_now_ns();
  atomic_store(sh_word(m, SH_GO), 1);
  ASSERT_EQ(test_wait(a), 0);
  ASSERT_EQ(test_wait(b), 0);
  int64_t t = sh_now_ns() - t0;
  uint64_t total = atomic_load(
      (_Atomic uint64_t *)((unsigned char *)mmf_data(m) + SH_COUNTER));
  test_note("%s: 2 x %d increments in %.0f ms: total %" PRIu64 " (%" PRIu64
            " lost)",
            how, rounds, t / 1e6, total, 2 * (uint64_t)rounds - total);
  ASSERT_OK(mmf_close(m));
  return total;
}

/* The negative control of a "no update lost" test: the same run without
 * the lock ("none") loses updates (a few runs are allowed, in case the
 * two children never overlapped). */
static inline void sh_expect_lost_updates(const char *child, const char *path,
                                          int rounds) {
  for (int run = 0; run < 5; run++)
    if (sh_two_adders(child, path, "none", rounds) < 2 * (uint64_t)rounds)
      return;
  FAIL("five runs without a lock lost no update");
}

#endif /* MMF_SHARE_HELPERS_H */
