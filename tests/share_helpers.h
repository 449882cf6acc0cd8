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

/* The most CPU time a thread that sleeps for a second may be charged:
 * 10 ms. Windows (and Wine) count process time in 10 ms ticks, so one
 * tick may land on a sleeper; POSIX counts finely and the bound is
 * strict. */
static inline void sh_assert_sleeper_cpu(int64_t cpu_ns) {
#ifdef _WIN32
  ASSERT_LE(cpu_ns, 10 * (int64_t)1000000);
#else
  ASSERT_LT(cpu_ns, 10 * (int64_t)1000000);
#endif
}

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

#endif /* MMF_SHARE_HELPERS_H */
