/*
 * log_wait.c - how readers sleep until a commit, and how commits wake
 * them.
 *
 * The wait word is the segment header's commit counter, which every
 * commit that publishes something in the segment bumps (the seal too, so
 * readers sleeping at the end of a finished segment move on). A reader
 * loads the counter, looks at its frame again, and sleeps (mmf_wait) only
 * while the counter still holds the value it loaded: a commit between the
 * look and the sleep changes the counter and the sleep returns at once.
 * Readers map segments read-only, so they cannot announce themselves: a
 * commit always wakes, which costs one system call (futex wake) per
 * commit, not per record.
 */
#include <limits.h>

#include "log/log_internal.h"

void mmf__log_wake(mmf__log_seg *s) {
  /* A failed wake loses nothing: sleepers also wake at their timeout,
   * and the records are committed either way. */
  (void)mmf_wake(s->map, MMF__LOG_H_COMMITS, INT_MAX);
}

int mmf__log_wait(mmf__log_seg *s, uint32_t seen, int64_t timeout_ns) {
  int rc = mmf_wait(s->map, MMF__LOG_H_COMMITS, seen, timeout_ns);
  return rc == MMF_ETIMEDOUT ? MMF_EAGAIN : rc;
}
