/*
 * log_reader.c - reading records in order: next, seek.
 *
 * A reader holds one segment mapped read-only and an offset in it. The
 * commit word at the offset is loaded with acquire ordering, so once it is
 * non-zero the frame bytes the writer stored before it are visible; the
 * frame is then checked whole (length, sequence number, salt, CRC) before
 * it is handed out. A reader never writes to the log.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "log/log_internal.h"
#include "mmf_internal.h"

typedef struct look_job {
  mmf__log_seg *s;
  uint64_t off, seq;
  uint32_t counter; /* the commit counter, loaded before the word */
  int state;
  uint64_t fsize, len;
} look_job;

static int look(void *ctx) {
  look_job *j = ctx;
  mmf__log_seg *s = j->s;
  uint32_t word = 0;
  j->counter = atomic_load_explicit(mmf__log_word(s->base + MMF__LOG_H_COMMITS),
                                    memory_order_acquire);
  if (s->size - j->off >= MMF__LOG_TAIL)
    word = atomic_load_explicit(mmf__log_word(s->base + j->off),
                                memory_order_acquire);
  j->state = mmf__log_frame_check(s->base, s->size, j->off, word, j->seq,
                                  s->salt, &j->fsize, &j->len);
  return 0;
}

/* Look at the frame at the reader's position (guarded: a segment cut
 * under the reader is an error code, not a SIGBUS). */
static int look_here(mmf_log *r, look_job *j) {
  int rc;
  memset(j, 0, sizeof *j);
  j->s = &r->cur;
  j->off = r->pos;
  j->seq = r->seq;
  rc = mmf_guard(r->cur.map, look, j);
  if (rc)
    return mmf__log_fail(r, rc, mmf_last_os_error(r->cur.map));
  return j->state;
}

/* Replace the reader's segment by segment base, positioned at its first
 * frame. follows: the reader got there from the end of its segment, which
 * the new one must continue. A missing segment is damage: the writer makes
 * a segment before it seals the one before it. */
static int open_segment(mmf_log *r, uint64_t base, int follows) {
  mmf__log_head h;
  mmf__log_seg s;
  int rc, oserr = 0;
  rc = mmf__log_seg_read_head(r->dir, base, &h, &oserr);
  if (rc == MMF_ENOENT)
    rc = MMF_ECORRUPT;
  /* It must continue this segment where it ended. */
  if (!rc &&
      (h.segment_size != r->segment_size || (follows && h.prev_end != r->pos)))
    rc = MMF_ECORRUPT;
  if (!rc)
    rc = mmf__log_seg_map(r->dir, base, &h, MMF_READ, &s, &oserr);
  if (rc)
    return mmf__log_fail(r, rc, oserr);
  (void)mmf__log_seg_unmap(&r->cur);
  r->cur = s;
  r->pos = MMF__LOG_HEADER;
  r->seq = base;
  return 0;
}

static int check_reader(mmf_log *r) {
  if (!r)
    return MMF_EINVAL;
  return r->mode == MMF_READ ? 0 : MMF_EACCES;
}

int mmf_log_next(mmf_log *r, const void **rec, size_t *len, uint64_t *seq,
                 int64_t timeout_ns) {
  look_job j;
  uint64_t deadline = 0;
  int rc;
  if (rec)
    *rec = NULL;
  if (len)
    *len = 0;
  if (seq)
    *seq = 0;
  rc = check_reader(r);
  if (rc)
    return rc;
  if (!rec || !len)
    return MMF_EINVAL;
  if (timeout_ns > 0)
    deadline = mmf__os_now_ns() + (uint64_t)timeout_ns;
  for (;;) {
    int64_t left = -1;
    rc = look_here(r, &j);
    if (rc == MMF__FRAME_OK)
      break;
    if (rc == MMF__FRAME_SEALED) {
      rc = open_segment(r, r->seq, 1);
      if (rc)
        return rc;
      continue;
    }
    if (rc != MMF__FRAME_EMPTY)
      return rc;
    if (timeout_ns > 0) {
      uint64_t now = mmf__os_now_ns();
      left = now < deadline ? (int64_t)(deadline - now) : 0;
    }
    if (timeout_ns == 0 || left == 0)
      return MMF_EAGAIN;
    /* Sleeps only while the counter still holds what look() loaded
     * before the word: a commit in between does not get lost. After a
     * wake, a timeout or a spurious return, look again. */
    rc = mmf__log_wait(&r->cur, j.counter, left);
    if (rc && rc != MMF_EAGAIN)
      return mmf__log_fail(r, rc, 0);
  }
  *rec = r->cur.base + r->pos + MMF__LOG_FRAME;
  *len = (size_t)j.len;
  if (seq)
    *seq = r->seq;
  r->pos += j.fsize;
  r->seq++;
  return 0;
}

/* Walk from the start of the reader's segment to record seq, or to the end
 * when seq is MMF_LOG_END. */
static int walk_to(mmf_log *r, uint64_t seq) {
  look_job j;
  uint64_t pos = MMF__LOG_HEADER, at = r->cur.first;
  int rc;
  for (;;) {
    if (at == seq)
      break;
    memset(&j, 0, sizeof j);
    j.s = &r->cur;
    j.off = pos;
    j.seq = at;
    rc = mmf_guard(r->cur.map, look, &j);
    if (rc)
      return mmf__log_fail(r, rc, mmf_last_os_error(r->cur.map));
    if (j.state == MMF_ECORRUPT)
      return MMF_ECORRUPT;
    if (j.state != MMF__FRAME_OK) {
      /* The end of the records (here, or this segment is sealed and the
       * next one, whose base would be seq, does not exist yet). */
      if (seq != MMF_LOG_END)
        return MMF_ERANGE;
      break;
    }
    pos += j.fsize;
    at++;
  }
  r->pos = pos;
  r->seq = at;
  return 0;
}

int mmf_log_seek(mmf_log *r, uint64_t seq) {
  uint64_t *bases, base;
  size_t n, i;
  int rc = check_reader(r), oserr = 0;
  if (rc)
    return rc;
  rc = mmf__log_list(r->dir, &bases, &n, NULL, &oserr);
  if (rc)
    return mmf__log_fail(r, rc, oserr);
  if (n == 0 || seq < bases[0]) {
    mmf__alloc.free(bases);
    return MMF_ERANGE;
  }
  /* The last segment whose first record is at or before seq. */
  for (i = n; i > 1 && bases[i - 1] > seq; i--)
    ;
  base = bases[i - 1];
  mmf__alloc.free(bases);
  if (base != r->cur.first || !r->cur.map) {
    rc = open_segment(r, base, 0);
    if (rc)
      return rc;
  }
  return walk_to(r, seq);
}
