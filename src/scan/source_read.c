/*
 * source_read.c - the read engine: pread() or read() into one reused
 * buffer (source.h).
 *
 * The buffer is 256 KiB: small enough to stay in the L2 cache between the
 * copy and the count, large enough that the system calls do not show
 * (64 KiB and 1 MiB buffers were both slower). It grows toward the budget
 * only while a line needs more than half of it.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "source.h"

/* 256 KiB. Tests and the fuzz targets lower it, so that inputs of a few
 * KiB cross its boundaries many times (a span is at most this much new
 * data); any size from 1 works. */
size_t mmf__scan_read_chunk = (size_t)256 << 10;
#define READ_CHUNK mmf__scan_read_chunk

int mmf__src_start_reading(mmf__src *s, int positioned, uint64_t range) {
  mmf__src_buffer *rd = &s->rd;
  size_t cap = READ_CHUNK;
  uint64_t skipped;
  int oserr = 0, rc;
  if (rd->buf != s->small)
    mmf__alloc.free(rd->buf);
  rd->buf = NULL;
  rd->fill = 0;
  rd->pending = 0;
  s->engine = &mmf__read_engine;
  rd->positioned = positioned;
  /* A small file comes in one span, read with one call. */
  if (s->at.sized && range < cap)
    cap = range > 0 ? (size_t)range : 1;
  else if (s->keep_max > cap / 2)
    cap = s->keep_max + READ_CHUNK; /* room for what is kept, and progress */
  rd->buf = mmf__alloc.malloc(cap);
  if (!rd->buf)
    return mmf__src_fail(s, MMF_ENOMEM, 0);
  rd->cap = cap;
  rd->origin = s->at.next;
  if (positioned || s->at.next == 0)
    return 0;
  /* A stream: its first bytes up to the offset are skipped, and count in
   * input offsets, so a find reports where the needle is in the stream. */
  rc = mmf__input_skip(s->file, s->at.next, rd->buf, cap, &skipped, &oserr);
  if (rc)
    return mmf__src_fail(s, rc, oserr);
  return skipped < s->at.next ? mmf__src_fail(s, MMF_ERANGE, 0) : 0;
}

int mmf__src_keep_reading(mmf__src *s, int positioned) {
  mmf__src_buffer *rd = &s->rd;
  size_t cap = READ_CHUNK;
  unsigned char *buf;
  if (s->keep_max > cap / 2)
    cap = s->keep_max + READ_CHUNK;
  /* A file of known size that fits comes in one span, in a buffer of its
   * size: a file of 12 KiB cost a block of 256 KiB, which malloc maps and
   * unmaps on every scan (above its mmap threshold). */
  if (s->at.sized && s->at.end < cap)
    cap = (size_t)s->at.end;
  /* The bytes read so far go in front, whatever the chunk. */
  if (cap < rd->fill)
    cap = rd->fill;
  buf = mmf__alloc.malloc(cap);
  if (!buf)
    return mmf__src_fail(s, MMF_ENOMEM, 0);
  memcpy(buf, s->small, rd->fill);
  rd->buf = buf;
  rd->cap = cap;
  rd->positioned = positioned;
  s->engine = &mmf__read_engine;
  return 0;
}

/* A positioned input without a size whose reading found nothing at the
 * start: MMF_ERANGE if the start lies past its end. */
static int check_start(mmf__src *s, uint64_t offset) {
  int before, oserr = 0, rc;
  rc = mmf__input_ends_before(s->file, offset, &before, &oserr);
  if (rc)
    return mmf__src_fail(s, rc, oserr);
  return before ? mmf__src_fail(s, MMF_ERANGE, 0) : 0;
}

/* Make room for more than `fill` bytes: double toward the budget. */
static int grow_buffer(mmf__src *s) {
  mmf__src_buffer *rd = &s->rd;
  size_t want = rd->cap > s->budget / 2 ? s->budget : rd->cap * 2;
  unsigned char *grown;
  if (want <= rd->cap)
    return mmf__src_fail(s, MMF_EFBIG, 0); /* cannot happen: keep <= limit */
  grown = rd->buf == s->small ? mmf__alloc.malloc(want)
                              : mmf__alloc.realloc(rd->buf, want);
  if (!grown)
    return mmf__src_fail(s, MMF_ENOMEM, 0);
  if (rd->buf == s->small)
    memcpy(grown, s->small, rd->fill);
  rd->buf = grown;
  rd->cap = want;
  return 0;
}

/* Reading found nothing more at at.next. */
static int reached_end(mmf__src *s) {
  mmf__src_at *at = &s->at;
  int rc;
  if (at->sized) {
    /* A file shorter than its size: cut meanwhile (the same answer a
     * mapping's fault gives), unless its size was a guess (/sys). */
    rc = mmf__input_ended_early(s->file);
    if (rc)
      return mmf__src_fail(s, rc, 0);
    at->sized = 0;
    at->exact = s->exact_length;
  }
  if (at->exact && at->next < at->end)
    return mmf__src_fail(s, MMF_ERANGE, 0);
  if (s->rd.positioned && at->next == s->rd.origin) {
    rc = check_start(s, at->next);
    if (rc)
      return rc;
  }
  at->ended = 1;
  return 0;
}

static int read_next(mmf__src *s, size_t keep, mmf__span *sp) {
  mmf__src_buffer *rd = &s->rd;
  mmf__src_at *at = &s->at;
  const uint64_t start = at->next - keep;
  int oserr = 0, rc;
  if (keep > 0 && keep < rd->fill)
    memmove(rd->buf, rd->buf + rd->fill - keep, keep);
  rd->fill = keep;
  /* A line that needs more than half the buffer: grow it, so that reads
   * stay large. */
  if (!at->ended && rd->cap < s->budget && keep > rd->cap / 2) {
    rc = grow_buffer(s);
    if (rc)
      return rc;
  }
  while (!at->ended && rd->fill < rd->cap) {
    size_t got, want = rd->cap - rd->fill;
    if (at->end != UINT64_MAX && want > at->end - at->next)
      want = (size_t)(at->end - at->next);
    if (want == 0) {
      at->ended = 1;
      break;
    }
    rc = mmf__os_read(s->file, rd->positioned ? (int64_t)at->next : -1,
                      rd->buf + rd->fill, want, &got, &oserr);
    if (rc)
      return mmf__src_fail(s, rc, oserr);
    if (got == 0) {
      rc = reached_end(s);
      if (rc)
        return rc;
      break;
    }
    rd->fill += got;
    at->next += got;
    if (at->end != UINT64_MAX && at->next == at->end)
      at->ended = 1;
    /* Streams hand out what one read() brought: a pipe's reader must not
     * wait for bytes the writer has not sent when it has a line. */
    if (!at->sized)
      break;
  }
  mmf__span_set(sp, rd->buf, rd->fill, start, keep, at->ended);
  return 0;
}

/* A buffer needs no guard: fn simply runs. */
static int read_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  (void)s;
  return fn(ctx);
}

static int read_close(mmf__src *s) {
  if (s->rd.buf != s->small)
    mmf__alloc.free(s->rd.buf);
  s->rd.buf = NULL;
  return 0;
}

const mmf__engine mmf__read_engine = {read_next, read_guard, read_close};
