/*
 * log_view.c - how a reader sees a segment: its header page, and a window
 * over its frames.
 *
 * A reader never maps a whole segment. It maps the header page, which
 * holds the commit counter it sleeps on, for as long as it reads the
 * segment, and the frames through a window placed by the input layer
 * (mmf__window_span, mmf__window_map): at most the walk budget, the whole
 * segment where the budget allows it. Where the address space is short (a
 * 32-bit process, RLIMIT_AS) the window comes out smaller, down to what
 * the frame at hand needs, so a segment of 1 GiB is read in a process
 * that cannot map 1 GiB at once. Both maps are internal mmf_maps of one
 * open file, so the fault guard classifies a fault in either (a segment
 * cut under the reader is MMF_ETRUNCATED, not a SIGBUS).
 */
#include <string.h>

#include "input.h"
#include "log/log_internal.h"

/* An internal map of f with nothing mapped yet. */
static void blank(mmf_map *m, mmf__file f) {
  memset(m, 0, sizeof *m);
  m->file = f;
  m->kind = MMF__FILE_MAP;
  m->mode = MMF_READ;
}

void mmf__log_view_close(mmf_log *r) {
  mmf__file f = r->head.file;
  if (!r->cur.map)
    return;
  mmf__window_drop(&r->win);
  mmf__window_drop(&r->head);
  mmf__os_close(&f);
  blank(&r->head, f);
  blank(&r->win, f);
  memset(&r->cur, 0, sizeof r->cur);
}

int mmf__log_view_open(mmf_log *r, uint64_t base, const mmf__log_head *h,
                       int *oserr) {
  mmf__file f;
  mmf_map head;
  int rc = mmf__log_seg_open(r->dir, base, h, MMF_READ, &f, oserr);
  if (rc)
    return rc;
  blank(&head, f);
  rc = mmf__window_map(&head, MMF__MAP_READ, 0, MMF__LOG_HEADER,
                       MMF__LOG_HEADER, 0, oserr);
  if (rc) {
    mmf__os_close(&f);
    return rc; /* the segment read so far stays */
  }
  mmf__log_view_close(r);
  r->head = head;
  blank(&r->win, f);
  r->cur.map = &r->head;
  r->cur.base = r->head.data;
  r->cur.size = h->segment_size;
  r->cur.first = h->base;
  r->cur.salt = h->salt;
  return 0;
}

int mmf__log_view_reach(mmf_log *r, uint64_t lo, uint64_t hi, int *oserr) {
  mmf_map *w = &r->win;
  uint64_t start;
  size_t len;
  if (w->base && lo >= w->offset && hi <= w->offset + w->size)
    return 0;
  mmf__window_span(lo, hi, r->cur.size, r->cur.size, r->budget, 1, &start,
                   &len);
  /* A frame longer than the budget gets a window of its own length. */
  if (start + len < hi)
    len = (size_t)(hi - start);
  return mmf__window_map(w, MMF__MAP_READ, start, len, (size_t)(hi - start), 0,
                         oserr);
}
