/*
 * time_posix.c - the monotonic clock behind timeouts.
 */
#define _GNU_SOURCE
#include <time.h>

#include "os/os.h"

uint64_t mmf__os_now_ns(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC does not jump when the wall clock is set. It cannot
   * fail with a valid clock id and pointer. */
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
