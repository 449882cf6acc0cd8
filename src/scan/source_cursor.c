/*
 * source_cursor.c - the cursor engine: the public window cursor in
 * records mode, for line iterators over mapped files (source.h).
 *
 * Its spans end just after a '\n' (or at the end of the input) and hold no
 * line longer than the limit, which the cursor splits (MMF_SCAN_SPLIT_LONG)
 * or refuses (MMF_EFBIG) itself; so lines across windows and long lines
 * come out exactly as the cursor's records.
 */
#include <string.h>

#include "source.h"

int mmf__src_start_cursor(mmf__src *s, const char *path, int fd) {
  mmf_window_options wo = MMF_WINDOW_OPTIONS_INIT;
  int rc;
  wo.budget = s->budget;
  wo.delimiter = '\n';
  wo.flags = MMF_WINDOW_RECORDS | (s->flags & MMF_NO_FALLBACK);
  if (s->flags & MMF_SCAN_SPLIT_LONG)
    wo.flags |= MMF_WINDOW_SPLIT_LONG;
  /* The cursor keeps its own descriptor: by path it opens the file again
   * (the portable core has no way to give it ours), by descriptor it
   * duplicates the caller's. */
  rc = path ? mmf_window_open(&s->cursor, path, &wo)
            : mmf_window_open_fd(&s->cursor, fd, &wo);
  if (rc)
    return mmf__src_fail(s, rc, mmf_window_last_os_error(NULL));
  mmf__os_close(&s->file);
  s->map.file.h = MMF__NO_FILE;
  s->engine = &mmf__cursor_engine;
  rc = mmf_window_seek(s->cursor, s->at.next);
  if (rc)
    return mmf__src_fail(s, rc, mmf_window_last_os_error(s->cursor));
  return 0;
}

static int cursor_next(mmf__src *s, size_t keep, mmf__span *sp) {
  mmf__src_at *at = &s->at;
  void *p = NULL;
  size_t n = 0;
  uint64_t pos = mmf_window_tell(s->cursor);
  int rc, piece = 0;
  (void)keep; /* spans end at line ends: nothing is ever kept */
  memset(sp, 0, sizeof *sp);
  sp->at = pos;
  sp->final = 1;
  sp->records = 1;
  if (at->ended || pos >= at->end) {
    at->ended = 1;
    return 0;
  }
  rc = mmf_window_next(s->cursor, &p, &n);
  if (rc == MMF_EFBIG && at->end - pos <= mmf_window_limit(s->cursor)) {
    /* A line too long for the cursor, but the range ends before the
     * limit: the range's last line, which is short enough. */
    n = (size_t)(at->end - pos);
    rc = mmf_window_at(s->cursor, pos, n, &p);
  } else if (rc == 0) {
    piece = mmf_window_partial(s->cursor);
  }
  if (rc)
    return mmf__src_fail(s, rc, mmf_window_last_os_error(s->cursor));
  if (n >= at->end - pos) {
    /* The range ends in this span or just at its end: what it holds is
     * the range's last line, whole, even when the cursor cut a piece of
     * a longer line there. */
    n = (size_t)(at->end - pos);
    piece = 0;
  }
  if (n == 0 || pos + n >= at->end)
    at->ended = 1;
  at->next = pos + n;
  sp->p = p;
  sp->n = n;
  sp->final = at->ended;
  sp->piece = piece;
  return 0;
}

static int cursor_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  return mmf_window_guard(s->cursor, fn, ctx);
}

static int cursor_close(mmf__src *s) {
  int rc = mmf_window_close(s->cursor);
  s->cursor = NULL;
  return rc;
}

const mmf__engine mmf__cursor_engine = {cursor_next, cursor_guard,
                                        cursor_close};
