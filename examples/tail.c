/*
 * tail.c - follow a log from another process: print each record as the
 * writer commits it, sleeping in between (mmf_log_next with a timeout
 * sleeps in the kernel until a commit wakes it; it never spins).
 *
 *   tail DIR [COUNT]   print records from the first one still in the log;
 *                      stop after COUNT records (default: never), or after
 *                      10 s without a new record
 *
 * Start it before, during or after a writer (examples/journal.c, or
 * `mmf log append`): a reader keeps going across the writer's death and
 * the next writer's recovery.
 */
#include <mmf.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "example_util.h"

#define IDLE_NS (10 * 1000000000ll)

int main(int argc, char **argv) {
  mmf_log *r;
  const void *rec;
  size_t len;
  uint64_t seq, count = 0, limit;
  int rc;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: tail DIR [COUNT]\n");
    return 2;
  }
  limit = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
  rc = mmf_log_open(&r, argv[1], MMF_READ, NULL);
  if (rc)
    return ex_fail("mmf_log_open", rc);
  while (limit == 0 || count < limit) {
    rc = mmf_log_next(r, &rec, &len, &seq, IDLE_NS);
    if (rc == MMF_EAGAIN) {
      printf("no new record for 10 s\n");
      break;
    }
    if (rc) {
      mmf_log_close(r);
      return ex_fail("mmf_log_next", rc);
    }
    /* rec points into the log's mapping until the next call. */
    printf("%" PRIu64 ": %.*s\n", seq, (int)len, (const char *)rec);
    fflush(stdout);
    count++;
  }
  printf("followed %" PRIu64 " records\n", count);
  mmf_log_close(r);
  return 0;
}
