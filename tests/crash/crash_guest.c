/*
 * crash_guest.c - the program of the power-loss harness
 * (scripts/check-crash.sh). It runs twice per round:
 *
 *   crash_guest write DIR sync|async
 *       inside the virtual machine: append records to the log in DIR and
 *       commit them (1 to 8 per commit) at the level given; after each
 *       commit returns, print "ACK <last record>" on standard output (the
 *       serial console), until the machine is killed
 *
 *   crash_guest check DIR LAST
 *       on the host, over the log copied out of the disk image: open the
 *       writer (recovery), read every record and check each against what
 *       was written; LAST is the last acknowledged record (-1: none).
 *       Prints "records N wrong W lost L" and exits 0 when W and L are 0,
 *       1 when records were lost or wrong, 2 on an error
 *
 * Records are made from their sequence number, so the check needs nothing
 * but the log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmf.h"

/* Record seq: 8 bytes of its number, then 0-199 bytes derived from it. */
static size_t make(uint64_t seq, unsigned char *buf) {
  size_t n = (size_t)((seq * 7919u) % 200u), i;
  uint64_t x = seq * 0x9E3779B97F4A7C15u + 1;
  memcpy(buf, &seq, 8);
  for (i = 0; i < n; i++) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9u;
    buf[8 + i] = (unsigned char)(x >> 56);
  }
  return 8 + n;
}

static int do_write(const char *dir, int level) {
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *w;
  unsigned char buf[256];
  uint64_t next = 0, seq = 0;
  unsigned rs = 1;
  int rc;
  o.flags = MMF_CREATE;
  o.segment_size = 1 << 20; /* rolls over every few thousand records */
  rc = mmf_log_open(&w, dir, MMF_WRITE, &o);
  if (!rc)
    rc = mmf_log_info(w, NULL, &next, NULL);
  while (!rc) {
    int batch;
    rs = rs * 1103515245u + 12345u;
    batch = (int)((rs >> 16) % 8) + 1;
    for (int i = 0; i < batch && !rc; i++, next++)
      rc = mmf_log_append(w, buf, make(next, buf), &seq);
    if (!rc)
      rc = mmf_log_commit(w, level);
    if (!rc) {
      printf("ACK %" PRIu64 "\n", seq);
      fflush(stdout);
    }
  }
  printf("ERROR %s\n", mmf_errname(rc));
  fflush(stdout);
  return 2;
}

static int do_check(const char *dir, long long last) {
  mmf_log *w, *r;
  const void *rec;
  size_t len;
  uint64_t seq, n = 0, wrong = 0;
  unsigned char buf[256];
  int rc = mmf_log_open(&w, dir, MMF_WRITE, NULL);
  if (rc) {
    printf("ERROR opening the writer: %s\n", mmf_errname(rc));
    return 2;
  }
  rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  while (!rc && (rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0) {
    size_t want = make(seq, buf);
    if (seq != n || len != want || memcmp(rec, buf, want) != 0)
      wrong++;
    n++;
  }
  mmf_log_close(r);
  mmf_log_close(w);
  if (rc != MMF_EAGAIN) {
    printf("ERROR reading: %s\n", mmf_errname(rc));
    return 2;
  }
  uint64_t lost = last >= 0 && (uint64_t)last >= n ? (uint64_t)last - n + 1 : 0;
  printf("records %" PRIu64 " wrong %" PRIu64 " lost %" PRIu64 "\n", n, wrong,
         lost);
  return wrong || lost ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "write") == 0)
    return do_write(argv[2], strcmp(argv[3], "async") == 0 ? MMF_FLUSH_ASYNC
                                                           : MMF_FLUSH_SYNC);
  if (argc == 4 && strcmp(argv[1], "check") == 0)
    return do_check(argv[2], strtoll(argv[3], NULL, 10));
  fprintf(stderr, "usage: crash_guest write DIR sync|async | check DIR LAST\n");
  return 2;
}
