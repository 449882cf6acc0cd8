/*
 * source_windows.c - the windows engine: a file's range mapped whole, or
 * in windows of at most the budget (source.h).
 *
 * The window is an internal mmf_map (s->map), placed by the input layer
 * (mmf__window_span, mmf__window_map), so a fault in it is classified by
 * fault.c like one in any map.
 */
#include "source.h"

/* The window could not be had: a file the OS refuses to map (/sys
 * attributes: MMF_ENODEV) is read to its real end instead, unless the
 * caller said not to; an address space too short even for a small window
 * (MMF_ENOMEM) is read with a buffer, from the first byte wanted. */
static int map_refused(mmf__src *s, int rc, uint64_t from, size_t keep,
                       mmf__span *sp) {
  mmf__src_at *at = &s->at;
  if (rc == MMF_ENODEV && mmf__input_unmappable(s->flags, 0))
    return rc;
  if (rc != MMF_ENODEV && rc != MMF_ENOMEM)
    return rc;
  if (rc == MMF_ENODEV) {
    at->sized = 0;
    at->exact = s->exact_length;
    if (!at->exact)
      at->end = UINT64_MAX;
  }
  mmf__window_drop(&s->map);
  at->next = from; /* the kept bytes are read again */
  at->ended = 0;
  rc = mmf__src_start_reading(s, 1, 0);
  if (rc)
    return rc;
  rc = s->engine->next(s, 0, sp);
  sp->kept = keep;
  return rc;
}

static int windows_next(mmf__src *s, size_t keep, mmf__span *sp) {
  mmf__src_at *at = &s->at;
  const uint64_t from = at->next - keep;
  uint64_t start, wend;
  size_t len;
  int oserr = 0, rc;
  if (!at->ended && at->next < at->end) {
    mmf__window_span(from, from + 1, at->end, at->size, s->budget, 1, &start,
                     &len);
    /* Shrunk by a short address space, a window must still hold what is
     * kept and move on by at least a granularity unit. */
    rc = mmf__window_map(&s->map, MMF__MAP_READ, start, len,
                         (size_t)(at->next - start) + mmf__os_granularity(), 0,
                         &oserr);
    /* The window lay inside the file's size: a map refused as past the
     * end (Windows does not map past it; POSIX does, and the scan's guard
     * then says MMF_ETRUNCATED) means the file was cut since. */
    if (rc == MMF_ERANGE)
      return mmf__src_fail(s, MMF_ETRUNCATED, oserr);
    if (rc) {
      s->map.os_error = oserr;
      return map_refused(s, rc, from, keep, sp);
    }
    wend = s->map.offset + s->map.size;
    at->next = wend < at->end ? wend : at->end;
    at->ended = at->next == at->end;
  } else {
    at->ended = 1; /* nothing new: the kept bytes, in the old window */
  }
  mmf__span_set(
      sp, s->map.data ? s->map.data + (size_t)(from - s->map.offset) : NULL,
      (size_t)(at->next - from), from, keep, at->ended);
  return 0;
}

static int windows_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  return s->map.base ? mmf__guarded(&s->map, 0, fn, ctx) : fn(ctx);
}

static int windows_close(mmf__src *s) {
  int oserr = 0, rc = 0;
  if (s->map.base)
    rc = mmf__os_unmap(s->map.base, s->map.map_len, &oserr);
  s->map.base = NULL;
  return rc;
}

const mmf__engine mmf__windows_engine = {windows_next, windows_guard,
                                         windows_close};
