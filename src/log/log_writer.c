/*
 * log_writer.c - appending, committing, rolling to the next segment, and
 * latched errors.
 *
 * Appends copy the frame into the mapped segment with its commit word left
 * 0, so neither a reader nor a later recovery can take it for a record.
 * A commit stores the commit words in order with release ordering (the
 * frame bytes are visible to any process that loads the word with acquire
 * ordering), bumps the segment's commit counter and wakes the readers
 * sleeping on it; for SYNC and FULL it then writes the appended bytes back
 * with msync(MS_SYNC) (docs/log.md has the measurement that chose msync
 * over pwrite + fdatasync).
 *
 * The writer keeps a short list of mapped segments: the one appended to,
 * and those rolled over that still need a publish or a sync. At most two
 * published rolled segments wait for a sync; the oldest is synced at the
 * next roll, so with a commit at least once per segment recovery has no
 * more than the last three segments to walk. Segments rolled over before
 * a commit cannot be synced and marked complete early (their frames are
 * not published yet): a single commit spanning many segments leaves them
 * all for recovery to walk and sync.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "log/log_internal.h"
#include "mmf_internal.h"
#include "os/guard.h"

/* Rolled segments that may wait for a sync (see above). */
#define MAX_UNSYNCED 2

int mmf__log_push(mmf_log *w, const mmf__log_seg *s) {
  if (w->nsegs == w->cap) {
    mmf__log_seg *p = mmf__grow(w->segs, &w->cap, sizeof *p, 4);
    if (!p)
      return MMF_ENOMEM;
    w->segs = p;
  }
  w->segs[w->nsegs++] = *s;
  return 0;
}

/* Drop segs[i] from the list, unmapping it. An unmap that fails loses
 * nothing (the data is in the file), so it is not reported. */
static void drop(mmf_log *w, size_t i) {
  (void)mmf__log_seg_unmap(&w->segs[i]);
  memmove(&w->segs[i], &w->segs[i + 1], (w->nsegs - i - 1) * sizeof *w->segs);
  w->nsegs--;
}

typedef struct publish_job {
  mmf__log_seg *s;
  int changed;
} publish_job;

static int publish_words(void *ctx) {
  publish_job *j = ctx;
  mmf__log_seg *s = j->s;
  uint64_t off = s->published;
  while (off < s->end) {
    unsigned char *p = s->base + off;
    uint32_t word =
        (uint32_t)mmf__log_frame_size(mmf__le32(p + MMF__LOG_F_LEN));
    atomic_store_explicit(mmf__log_word(p), word, memory_order_release);
    off += word;
    j->changed = 1;
  }
  s->published = off;
  if (s->rolled && !s->seal_published) {
    /* A writer always leaves room for the seal (MMF__LOG_TAIL). */
    atomic_store_explicit(mmf__log_word(s->base + s->end), MMF__LOG_SEAL,
                          memory_order_release);
    s->seal_published = 1;
    j->changed = 1;
  }
  if (j->changed)
    atomic_fetch_add_explicit(mmf__log_word(s->base + MMF__LOG_H_COMMITS), 1,
                              memory_order_release);
  return 0;
}

int mmf__log_publish(mmf_log *w, mmf__log_seg *s) {
  publish_job j = {s, 0};
  int rc = mmf_guard(s->map, publish_words, &j);
  if (rc)
    return mmf__log_fail(w, rc, mmf_last_os_error(s->map));
  if (j.changed)
    mmf__log_wake(s);
  return 0;
}

/* Write back what s holds beyond s->synced, the seal included. */
static int sync_seg(mmf_log *w, mmf__log_seg *s, int level) {
  uint64_t end = s->end + (s->seal_published ? MMF__LOG_TAIL : 0);
  int rc;
  if (end <= s->synced && level != MMF_FLUSH_FULL)
    return 0;
  rc = mmf_flush(s->map, s->synced, end - s->synced, level);
  if (rc)
    return mmf__log_fail(w, rc, mmf_last_os_error(s->map));
  s->synced = end;
  return 0;
}

int mmf__log_seg_finish(mmf_log *w, mmf__log_seg *s, int level) {
  int rc = sync_seg(w, s, level);
  if (rc)
    return rc;
  /* A hint for recovery, written only once the data is durable: if it
   * reaches the disk, the segment was whole before it did. */
  atomic_store_explicit(mmf__log_word(s->base + MMF__LOG_H_COMPLETE), 1,
                        memory_order_relaxed);
  return 0;
}

static int latch(mmf_log *w, int rc) {
  if (!w->latched)
    w->latched = rc;
  return rc;
}

/* Sync and drop the oldest rolled segment when too many wait. */
static int bound_unsynced(mmf_log *w) {
  size_t waiting = 0, i;
  int rc;
  for (i = 0; i + 1 < w->nsegs; i++)
    if (w->segs[i].seal_published)
      waiting++;
  if (waiting < MAX_UNSYNCED || !w->segs[0].seal_published)
    return 0;
  rc = mmf__log_seg_finish(w, &w->segs[0], MMF_FLUSH_SYNC);
  if (rc)
    return latch(w, rc);
  drop(w, 0);
  return 0;
}

/* Start the next segment: it gets the next sequence number as its base. */
static int roll(mmf_log *w) {
  mmf__log_seg s;
  int rc, oserr = 0;
  rc = bound_unsynced(w);
  if (rc)
    return rc;
  rc = mmf__log_seg_create(w->dir, w->next_seq, w->segment_size,
                           mmf__log_tail(w)->end, &s, &oserr);
  if (rc)
    return mmf__log_fail(w, rc, oserr);
  rc = mmf__log_push(w, &s);
  if (rc) {
    (void)mmf__log_seg_unmap(&s);
    return mmf__log_fail(w, rc, 0);
  }
  /* The seal goes in at the next publish, after the frames before it. */
  w->segs[w->nsegs - 2].rolled = 1;
  return 0;
}

/* Copy a frame's header and record to the end of t, with the fault guard
 * armed once for both (an append is a few dozen nanoseconds: two guarded
 * copies would be a good part of it). */
static int put_frame(mmf__log_seg *t, const unsigned char *head,
                     const void *rec, size_t len) {
  mmf__guard_frame fr;
  mmf__fault fault;
  mmf_map *m = t->map;
  unsigned char *p = t->base + t->end;
  if (m->poisoned)
    return m->poisoned;
  if (mmf__guard_prepare(&fr, &fault, m->base, m->map_len) != 0)
    return MMF_ENOMEM;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    memcpy(p, head, MMF__LOG_FRAME);
    if (len)
      memcpy(p + MMF__LOG_FRAME, rec, len);
    mmf__guard_leave(&fr);
    return 0;
  }
  mmf__guard_leave(&fr);
  return mmf__fault_code(m, &fault, 1);
}

static int check_writer(mmf_log *w) {
  if (!w)
    return MMF_EINVAL;
  if (w->mode != MMF_WRITE)
    return MMF_EACCES;
  return w->latched;
}

int mmf_log_append(mmf_log *w, const void *rec, size_t len, uint64_t *seq) {
  unsigned char head[MMF__LOG_FRAME];
  mmf__log_seg *t;
  uint64_t fsize;
  int rc;
  if (seq)
    *seq = 0;
  rc = check_writer(w);
  if (rc)
    return rc;
  if (!rec && len)
    return MMF_EINVAL;
  if ((uint64_t)len > mmf__log_max_record(w->segment_size))
    return MMF_EFBIG;
  fsize = mmf__log_frame_size(len);
  t = mmf__log_tail(w);
  if (t->rolled || t->end + fsize + MMF__LOG_TAIL > t->size) {
    rc = roll(w);
    if (rc)
      return rc;
    t = mmf__log_tail(w);
  }
  (void)mmf__log_frame_fill(head, rec, len, w->next_seq, t->salt);
  /* The bytes past the end are zero (preallocated, or zeroed by
   * recovery), so the padding needs no store. */
  rc = put_frame(t, head, rec, len);
  if (rc)
    return mmf__log_fail(w, rc, mmf_last_os_error(t->map));
  t->end += fsize;
  if (seq)
    *seq = w->next_seq;
  w->next_seq++;
  t->next_seq = w->next_seq;
  return 0;
}

int mmf_log_commit(mmf_log *w, int level) {
  size_t i;
  int rc = check_writer(w);
  if (rc)
    return rc;
  if (level != MMF_FLUSH_ASYNC && level != MMF_FLUSH_SYNC &&
      level != MMF_FLUSH_FULL)
    return MMF_EINVAL;
  for (i = 0; i < w->nsegs; i++) {
    rc = mmf__log_publish(w, &w->segs[i]);
    if (rc)
      return latch(w, rc);
  }
  if (level == MMF_FLUSH_ASYNC)
    return 0;
  /* Oldest first; every rolled segment is then whole on disk and leaves
   * the list. */
  while (w->nsegs > 1) {
    rc = mmf__log_seg_finish(w, &w->segs[0], level);
    if (rc)
      return latch(w, rc);
    drop(w, 0);
  }
  rc = sync_seg(w, mmf__log_tail(w), level);
  return rc ? latch(w, rc) : 0;
}
