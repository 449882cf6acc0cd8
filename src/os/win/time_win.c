/*
 * time_win.c - the monotonic clock behind timeouts.
 */
#include <stdatomic.h>

#include "os/win/util_win.h"

uint64_t mmf__os_now_ns(void) {
  /* Racing first callers store the same value. */
  static _Atomic long long freq;
  long long hz = atomic_load_explicit(&freq, memory_order_relaxed);
  LARGE_INTEGER now;
  if (hz == 0) {
    LARGE_INTEGER q;
    QueryPerformanceFrequency(&q);
    hz = q.QuadPart;
    atomic_store_explicit(&freq, hz, memory_order_relaxed);
  }
  QueryPerformanceCounter(&now);
  /* Split so that counts * 1e9 cannot overflow 64 bits. */
  return (uint64_t)(now.QuadPart / hz) * 1000000000u +
         (uint64_t)(now.QuadPart % hz) * 1000000000u / (uint64_t)hz;
}
