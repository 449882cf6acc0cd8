/*
 * log_recover.c - what a writer does when it opens a log: find where the
 * records end, cut off whatever comes after, and get ready to append.
 *
 * Segments whose header carries the "complete" mark were synced whole
 * before the mark was written, so only the segments after the last
 * complete one are walked (normally the last one to three; log_writer.c
 * says when more). Walking a segment checks every frame; the walk stops at
 * the first frame that is not whole (commit word 0, or a frame that fails
 * a check). That is the cut:
 *  - the bytes from the cut to the last non-zero byte of the segment are
 *    zeroed and synced, so no stale frame of an earlier run can follow
 *    the new records and pass for one of them (the frames carry the same
 *    salt and may carry the same sequence numbers);
 *  - the segments after the cut are removed.
 * A segment that ends without its seal but whose successor starts at the
 * next sequence number is whole (the seal was lost, not the records): the
 * seal is written again.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "log/log_internal.h"

/* Walk the frames of s from its header on: *off and *seq end at the first
 * place that holds no whole frame, *state says what is there. */
typedef struct walk_job {
  mmf__log_seg *s;
  uint64_t off, seq;
  int state;
} walk_job;

static int walk_frames(void *ctx) {
  walk_job *j = ctx;
  mmf__log_seg *s = j->s;
  uint64_t fsize, len;
  for (;;) {
    uint32_t word =
        j->s->size - j->off < MMF__LOG_TAIL ? 0 : mmf__le32(s->base + j->off);
    j->state = mmf__log_frame_check(s->base, s->size, j->off, word, j->seq,
                                    s->salt, &fsize, &len);
    if (j->state != MMF__FRAME_OK)
      return 0;
    j->off += fsize;
    j->seq++;
  }
}

/* The offset just past the last non-zero byte of s at or after from. */
typedef struct zero_job {
  mmf__log_seg *s;
  uint64_t from, last;
} zero_job;

static int find_last_nonzero(void *ctx) {
  zero_job *j = ctx;
  const unsigned char *b = j->s->base;
  /* The unwritten tail is most of a new segment. Where the file system
   * knows it reads as zero it is skipped unread: touching it through the
   * map faults in every page of it (64 MiB took about 0.25 s). What may
   * hold data is read page by page from its end, counting zero bytes with
   * the scan kernels. */
  uint64_t at = mmf__os_data_end(j->s->map->file, j->from, j->s->size);
  while (at > j->from) {
    uint64_t lo = at - j->from > 4096 ? at - 4096 : j->from, zeros = 0, i;
    (void)mmf_count_byte_mem(b + lo, (size_t)(at - lo), 0, &zeros);
    if (zeros != at - lo) {
      for (i = at; i > lo; i--)
        if (b[i - 1]) {
          j->last = i;
          return 0;
        }
    }
    at = lo;
  }
  j->last = j->from;
  return 0;
}

static int zero_range(void *ctx) {
  zero_job *j = ctx;
  memset(j->s->base + j->from, 0, (size_t)(j->last - j->from));
  return 0;
}

/* Zero s from off to its last non-zero byte and make that durable. */
static int cut_segment(mmf_log *w, mmf__log_seg *s, uint64_t off) {
  zero_job z = {s, off, off};
  int rc = mmf_guard(s->map, find_last_nonzero, &z);
  if (!rc && z.last > off) {
    rc = mmf_guard(s->map, zero_range, &z);
    if (!rc)
      rc = mmf_flush(s->map, off, z.last - off, MMF_FLUSH_SYNC);
  }
  return rc ? mmf__log_fail(w, rc, mmf_last_os_error(s->map)) : 0;
}

/* Remove segments bases[from..n) and sync the directory. */
static int remove_after(mmf_log *w, const uint64_t *bases, size_t from,
                        size_t n) {
  int rc = 0, oserr = 0;
  size_t i;
  if (from >= n)
    return 0;
  /* Newest first: a crash half way leaves a log that still ends at the
   * cut, never one with a hole. */
  for (i = n; i > from && !rc; i--) {
    char *path = mmf__log_seg_path(w->dir, bases[i - 1]);
    if (!path)
      return MMF_ENOMEM;
    rc = mmf__os_remove(path, &oserr);
    mmf__alloc.free(path);
  }
  if (!rc)
    rc = mmf__os_sync_dir(w->dir, &oserr);
  return rc ? mmf__log_fail(w, rc, oserr) : 0;
}

/* A log without segments gets its first one. */
static int create_first(mmf_log *w, const mmf_log_options *o) {
  mmf__log_seg s;
  int rc, oserr = 0;
  if (!(o->flags & MMF_CREATE))
    return MMF_ENOENT;
  w->segment_size =
      o->segment_size ? o->segment_size : MMF__LOG_DEFAULT_SEGMENT;
  rc = mmf__log_seg_create(w->dir, 0, w->segment_size, 0, &s, &oserr);
  if (!rc) {
    rc = mmf__log_push(w, &s);
    if (rc)
      (void)mmf__log_seg_unmap(&s);
  }
  w->next_seq = 0;
  return rc ? mmf__log_fail(w, rc, oserr) : 0;
}

/* Read every header: all whole, all of one segment size. *start is the
 * first segment recovery must walk. */
static int read_heads(mmf_log *w, const uint64_t *bases, size_t n,
                      mmf__log_head *heads, size_t *start) {
  size_t i;
  int rc, oserr = 0;
  for (i = 0; i < n; i++) {
    rc = mmf__log_seg_read_head(w->dir, bases[i], &heads[i], &oserr);
    if (rc)
      return mmf__log_fail(w, rc, oserr);
    if (heads[i].segment_size != heads[0].segment_size)
      return MMF_ECORRUPT;
  }
  w->segment_size = heads[0].segment_size;
  *start = n - 1;
  while (*start > 0 && !heads[*start - 1].complete)
    (*start)--;
  return 0;
}

/* The complete segment before the first one walked must end where that
 * one says (a seal, or no room left there): a cheap check that the two
 * follow each other, without walking the complete one. */
static int check_link(mmf_log *w, const uint64_t *bases,
                      const mmf__log_head *heads, size_t start) {
  uint64_t at = heads[start].prev_end;
  uint32_t word = MMF__LOG_SEAL;
  int rc, oserr = 0;
  if (start == 0)
    return 0;
  if (at < MMF__LOG_HEADER)
    return MMF_ECORRUPT;
  if (at + MMF__LOG_TAIL <= w->segment_size) {
    rc = mmf__log_seg_read_word(w->dir, bases[start - 1], at, &word, &oserr);
    if (rc)
      return mmf__log_fail(w, rc, oserr);
  }
  return word == MMF__LOG_SEAL ? 0 : MMF_ECORRUPT;
}

/* Walk segments bases[start..n); leaves the one to append to in w. */
static int walk_tail(mmf_log *w, const uint64_t *bases,
                     const mmf__log_head *heads, size_t start, size_t n) {
  size_t k;
  int rc, oserr = 0;
  for (k = start; k < n; k++) {
    mmf__log_seg s;
    walk_job j;
    int last = k + 1 == n, next_follows;
    rc = mmf__log_seg_map(w->dir, bases[k], &heads[k], MMF_WRITE, &s, &oserr);
    if (rc)
      return mmf__log_fail(w, rc, oserr);
    j.s = &s;
    j.off = MMF__LOG_HEADER;
    j.seq = s.first;
    j.state = 0;
    rc = mmf_guard(s.map, walk_frames, &j);
    if (rc) {
      rc = mmf__log_fail(w, rc, mmf_last_os_error(s.map));
      (void)mmf__log_seg_unmap(&s);
      return rc;
    }
    /* Nothing is known durable: a process crash leaves the frames in the
     * page cache only. */
    s.end = s.published = j.off;
    s.next_seq = j.seq;
    next_follows = !last && bases[k + 1] == j.seq &&
                   heads[k + 1].prev_end == j.off && j.state != MMF_ECORRUPT;
    if (next_follows) {
      /* Whole: seal it again if the seal was lost, make it durable (a
       * process crash leaves it in the page cache only), mark it. */
      s.rolled = 1;
      s.seal_published = j.state == MMF__FRAME_SEALED;
      rc = mmf__log_publish(w, &s);
      if (!rc)
        rc = mmf__log_seg_finish(w, &s, MMF_FLUSH_SYNC);
      (void)mmf__log_seg_unmap(&s);
      if (rc)
        return rc;
      continue;
    }
    /* The end of the log: cut here, drop what follows. */
    if (j.state == MMF__FRAME_SEALED) {
      s.rolled = s.seal_published = 1; /* the next append rolls */
    } else {
      rc = cut_segment(w, &s, j.off);
    }
    if (!rc)
      rc = remove_after(w, bases, k + 1, n);
    if (!rc)
      rc = mmf__log_push(w, &s);
    if (rc) {
      (void)mmf__log_seg_unmap(&s);
      return rc;
    }
    w->next_seq = j.seq;
    /* Readers sleeping at the old end look again. */
    mmf__log_wake(&s);
    return 0;
  }
  return MMF_ECORRUPT; /* not reached: the last segment always ends it */
}

int mmf__log_recover(mmf_log *w, const mmf_log_options *o) {
  uint64_t *bases;
  mmf__log_head *heads;
  size_t n, start = 0;
  int rc, oserr = 0;
  rc = mmf__log_remove_tmps(w->dir, &oserr);
  if (!rc)
    rc = mmf__log_list(w->dir, &bases, &n, NULL, &oserr);
  if (rc)
    return mmf__log_fail(w, rc, oserr);
  if (n == 0) {
    mmf__alloc.free(bases);
    return create_first(w, o);
  }
  heads = mmf__alloc.calloc(n, sizeof *heads);
  if (!heads) {
    mmf__alloc.free(bases);
    return MMF_ENOMEM;
  }
  rc = read_heads(w, bases, n, heads, &start);
  if (!rc)
    rc = check_link(w, bases, heads, start);
  if (!rc)
    rc = walk_tail(w, bases, heads, start, n);
  mmf__alloc.free(heads);
  mmf__alloc.free(bases);
  return rc;
}
