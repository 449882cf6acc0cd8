/*
 * log_reader.c - reading records in order: next, seek.
 *
 * A reader holds one segment open read-only, seen through a window
 * (log_view.c), and an offset in it. The commit word at the offset is
 * loaded with acquire ordering, so once it is non-zero the frame bytes the
 * writer stored before it are visible; the window is widened to hold the
 * whole frame if it does not, and the frame is then checked whole
 * (length, sequence number, salt, CRC) before it is handed out. A reader
 * never writes to the log.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "log/log_internal.h"
#include "mmf_internal.h"

/* A frame that reaches past the window: look again with a wider one. */
#define FRAME_FURTHER 3

typedef struct look_job {
  const unsigned char *p; /* the frame's bytes in the window */
  uint64_t room;          /* segment bytes from the frame on */
  uint64_t avail;         /* window bytes from the frame on */
  uint64_t seq;
  uint32_t salt;
  int state;
  uint64_t fsize, len;
} look_job;

static int look(void *ctx) {
  look_job *j = ctx;
  uint32_t word = 0;
  if (j->room >= MMF__LOG_TAIL)
    word = atomic_load_explicit(mmf__log_word((unsigned char *)j->p),
                                memory_order_acquire);
  /* A frame size the segment has room for, beyond the window: the window
   * must hold the whole frame before the check reads it. */
  if (word > j->avail && word <= j->room - MMF__LOG_TAIL) {
    j->state = FRAME_FURTHER;
    j->fsize = word;
    return 0;
  }
  j->state = mmf__log_frame_check(j->p, j->room, 0, word, j->seq, j->salt,
                                  &j->fsize, &j->len);
  return 0;
}

/* Look at the frame of record seq at offset off of the reader's segment,
 * moving the window as the frame needs (guarded: a segment cut under the
 * reader is an error code, not a SIGBUS). Returns an mmf__frame_state or
 * an error code; for MMF__FRAME_OK, j->p points at the frame. */
static int look_at(mmf_log *r, uint64_t off, uint64_t seq, look_job *j) {
  uint64_t need = MMF__LOG_TAIL;
  int rc, tries, oserr = 0;
  memset(j, 0, sizeof *j);
  j->room = r->cur.size - off;
  j->seq = seq;
  j->salt = r->cur.salt;
  if (j->room < MMF__LOG_TAIL)
    return MMF__FRAME_SEALED; /* no room for a frame: nothing to read */
  /* Twice at most: the second window holds the frame the first one saw
   * begin; a size that changed meanwhile is no log's doing. */
  for (tries = 0; tries < 2; tries++) {
    rc = mmf__log_view_reach(r, off, off + need, &oserr);
    if (rc)
      return mmf__log_fail(r, rc, oserr);
    j->p = r->win.data + (size_t)(off - r->win.offset);
    j->avail = r->win.offset + r->win.size - off;
    rc = r->win.poisoned ? r->win.poisoned
                         : mmf__guarded_follow(&r->win, 0, look, j);
    if (rc)
      return mmf__log_fail(r, rc, r->win.os_error);
    if (j->state != FRAME_FURTHER)
      return j->state;
    need = j->fsize;
  }
  return mmf__log_fail(r, MMF_ECORRUPT, 0);
}

/* Load the commit counter of the reader's segment (guarded, as the header
 * page is a map of a file that could be cut). */
typedef struct counter_job {
  const unsigned char *p;
  uint32_t value;
} counter_job;

static int load_counter(void *ctx) {
  counter_job *j = ctx;
  j->value = atomic_load_explicit(
      mmf__log_word((unsigned char *)j->p + MMF__LOG_H_COMMITS),
      memory_order_acquire);
  return 0;
}

/* Replace the reader's segment by segment base, positioned at its first
 * frame. follows: the reader got there from the end of its segment, which
 * the new one must continue. A missing segment is damage: the writer makes
 * a segment before it seals the one before it. */
static int open_segment(mmf_log *r, uint64_t base, int follows) {
  mmf__log_head h;
  int rc, oserr = 0;
  rc = mmf__log_seg_read_head(r->dir, base, &h, &oserr);
  if (rc == MMF_ENOENT)
    rc = MMF_ECORRUPT;
  /* It must continue this segment where it ended. */
  if (!rc &&
      (h.segment_size != r->segment_size || (follows && h.prev_end != r->pos)))
    rc = MMF_ECORRUPT;
  if (!rc)
    rc = mmf__log_view_open(r, base, &h, &oserr);
  if (rc)
    return mmf__log_fail(r, rc, oserr);
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
    counter_job c;
    int64_t left = -1;
    rc = look_at(r, r->pos, r->seq, &j);
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
    /* The counter first, then the word again, then sleep only while the
     * counter still holds what was loaded: a commit after the load bumps
     * it, and the sleep returns at once. After a wake, a timeout or a
     * spurious return, look again. */
    c.p = r->cur.base;
    rc = r->head.poisoned ? r->head.poisoned
                          : mmf__guarded_follow(&r->head, 0, load_counter, &c);
    if (rc)
      return mmf__log_fail(r, rc, r->head.os_error);
    rc = look_at(r, r->pos, r->seq, &j);
    if (rc != MMF__FRAME_EMPTY)
      continue;
    rc = mmf__log_wait(&r->cur, c.value, left);
    if (rc && rc != MMF_EAGAIN)
      return mmf__log_fail(r, rc, 0);
  }
  *rec = j.p + MMF__LOG_FRAME;
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
    rc = look_at(r, pos, at, &j);
    if (rc < 0)
      return rc;
    if (rc != MMF__FRAME_OK) {
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
