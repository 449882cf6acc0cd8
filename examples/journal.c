/*
 * journal.c - a crash-safe journal with mmf_log: append entries, commit
 * each durably, and prove after any crash that nothing committed was lost.
 *
 *   journal write DIR [N]    append N entries (0: until killed), committing
 *                            each with MMF_FLUSH_SYNC; after each commit
 *                            print "committed SEQ" (stdout, flushed)
 *   journal verify DIR [SEQ] read every entry back, check each, and check
 *                            that entry SEQ (the last "committed" line a
 *                            killed writer printed) is there
 *   journal                  a demonstration in a temporary directory: a
 *                            writer "crashes" with entries appended but not
 *                            committed; the next open recovers the log
 *
 * Kill the writer at any moment (kill -9, power cut): every entry whose
 * "committed" line was printed is in the log afterwards, whole. Entries
 * describe themselves ("entry 41 of journal: ..."), so verify needs no copy
 * of what was written.
 */
#include <mmf.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_util.h"

/* Entry seq: a text that names its number and varies in length. */
static size_t make_entry(uint64_t seq, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "entry %" PRIu64 " of journal: %.*s", seq,
                   (int)(seq % 40), "0123456789abcdefghijklmnopqrstuvwxyz!?#$");
  return n < 0 ? 0 : (size_t)n;
}

static int write_entries(const char *dir, uint64_t n) {
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *w;
  char buf[128];
  uint64_t seq, next;
  int rc;
  o.flags = MMF_CREATE;
  rc = mmf_log_open(&w, dir, MMF_WRITE, &o);
  if (rc)
    return ex_fail("mmf_log_open", rc);
  /* The writer's open recovered the log: the next entry's number. */
  rc = mmf_log_info(w, NULL, &next, NULL);
  for (uint64_t i = 0; !rc && (n == 0 || i < n); i++, next++) {
    rc = mmf_log_append(w, buf, make_entry(next, buf, sizeof buf), &seq);
    if (!rc)
      rc = mmf_log_commit(w, MMF_FLUSH_SYNC);
    if (!rc) {
      /* Only now is the entry promised: say so. */
      printf("committed %" PRIu64 "\n", seq);
      fflush(stdout);
    }
  }
  if (rc) {
    mmf_log_close(w);
    return ex_fail("append and commit", rc);
  }
  rc = mmf_log_close(w);
  return rc ? ex_fail("mmf_log_close", rc) : 0;
}

static int verify(const char *dir, int have_last, uint64_t last) {
  mmf_log *r;
  const void *rec;
  size_t len;
  char want[128];
  uint64_t seq, count = 0, first = 0, wrong = 0;
  int rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  if (rc)
    return ex_fail("mmf_log_open", rc);
  mmf_log_info(r, &first, NULL, NULL);
  while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0) {
    size_t n = make_entry(seq, want, sizeof want);
    if (len != n || memcmp(rec, want, n) != 0)
      wrong++;
    count++;
  }
  mmf_log_close(r);
  if (rc != MMF_EAGAIN)
    return ex_fail("mmf_log_next", rc);
  printf("%" PRIu64 " entries (%" PRIu64 " to %" PRIu64 "), %" PRIu64
         " wrong\n",
         count, first, first + count - (count > 0), wrong);
  if (have_last) {
    int lost = last >= first + count;
    printf("last committed entry %" PRIu64 ": %s\n", last,
           lost ? "LOST" : "present, 0 lost");
    if (lost)
      return 1;
  }
  return wrong ? 1 : 0;
}

/* The default run: commit 5 entries, append 3 more without committing,
 * "crash" (close), and let the next open recover. */
static int demonstrate(void) {
  char dir[512];
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *w;
  char buf[128];
  uint64_t next = 0;
  int rc;
  snprintf(dir, sizeof dir, "%s/mmf-journal-demo", ex_temp_dir());
  o.flags = MMF_CREATE;
  o.segment_size = 64 << 10;
  rc = mmf_log_open(&w, dir, MMF_WRITE, &o);
  if (rc)
    return ex_fail("mmf_log_open", rc);
  mmf_log_info(w, NULL, &next, NULL);
  for (int i = 0; i < 8 && !rc; i++, next++) {
    rc = mmf_log_append(w, buf, make_entry(next, buf, sizeof buf), NULL);
    if (!rc && i == 4)
      rc = mmf_log_commit(w, MMF_FLUSH_SYNC);
  }
  printf("appended 8 entries, committed the first 5, then crashed\n");
  mmf_log_close(w); /* the 3 uncommitted entries are dropped */
  rc = mmf_log_open(&w, dir, MMF_WRITE, &o);
  if (rc)
    return ex_fail("mmf_log_open (recovery)", rc);
  mmf_log_info(w, NULL, &next, NULL);
  printf("after recovery the next entry is %" PRIu64 "\n", next);
  mmf_log_close(w);
  rc = verify(dir, 1, next - 1);
  /* Clean up: the segment, the writer's lock file, the directory. */
  {
    char path[600];
    snprintf(path, sizeof path, "%s/0000000000000000.seg", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/lock", dir);
    remove(path);
    ex_remove_dir(dir);
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 1)
    return demonstrate();
  if (argc >= 3 && strcmp(argv[1], "write") == 0)
    return write_entries(argv[2],
                         argc > 3 ? strtoull(argv[3], NULL, 10) : 1000);
  if (argc >= 3 && strcmp(argv[1], "verify") == 0)
    return verify(argv[2], argc > 3,
                  argc > 3 ? strtoull(argv[3], NULL, 10) : 0);
  fprintf(stderr, "usage: journal [write DIR [N] | verify DIR [SEQ]]\n");
  return 2;
}
