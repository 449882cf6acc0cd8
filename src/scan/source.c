/*
 * source.c - choosing between read() and mmap per input, and handing
 * the input out in spans (see source.h).
 *
 * The break-even. Mapping costs a fixed price per call (mmap, the page-
 * table entries, munmap: about 8 us here) and then reads at memory
 * speed; read() costs little per call but copies every byte through the
 * cache. Measured on the project's Linux 6.18 machine (bench_files
 * breakeven: hot cache, open + count + close per file; docs/BENCHMARKS.md
 * has the table): read() wins up to 1.5 MiB (4 KiB: 2.7 us against
 * 10.4 us; 1.5 MiB: 41 us against 55 us), mmap from 2 MiB on, where the
 * page cache holds the file in 2 MiB folios that one page-table entry
 * maps each (2 MiB: 36 us against 53 us; 64 MiB: 2.3 ms against 3.1 ms).
 * Hence 2 MiB.
 *
 * The read buffer is 256 KiB: small enough to stay in the L2 cache
 * between the copy and the count, large enough that the system calls do
 * not show (64 KiB and 1 MiB buffers were both slower).
 */
/* This file defines calls of mmf.h's "Tuning" section. */
#define MMF_TUNING 1
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define BREAK_EVEN ((uint64_t)2 << 20)
#define READ_CHUNK ((size_t)256 << 10)
#define HUGE_ALIGN ((uint64_t)2 << 20)
/* Budgets from here on start windows at 2 MiB boundaries, as the window
 * cursor does (window.c): every folio of the window is then whole. */
#define HUGE_MIN_BUDGET ((uint64_t)16 << 20)
#define SCAN_FLAGS ((unsigned)MMF_NO_FALLBACK | (unsigned)MMF_SCAN_SPLIT_LONG)

uint64_t mmf_scan_break_even(void) { return BREAK_EVEN; }

static int fail(mmf__src *s, int code, int oserr) {
  return mmf__fail(&s->map, code, oserr);
}

int mmf__src_os_error(const mmf__src *s) {
  if (s->engine == MMF__SRC_CURSOR && s->win)
    return mmf_window_last_os_error(s->win);
  return s->map.os_error;
}

static int check_options(const mmf_scan_options *o, size_t *budget) {
  uint64_t gran = mmf__os_granularity(), b = o->budget;
  if (o->flags & ~SCAN_FLAGS)
    return MMF_EINVAL;
  if (o->io != MMF_SCAN_AUTO && o->io != MMF_SCAN_READ && o->io != MMF_SCAN_MAP)
    return MMF_EINVAL;
  if (o->length && o->offset + o->length < o->offset)
    return MMF_EOVERFLOW;
  if (b == 0)
    b = sizeof(void *) >= 8 ? (uint64_t)1 << 30 : (uint64_t)64 << 20;
  if (b > mmf__address_space_limit())
    return MMF_EOVERFLOW;
  b -= b % gran;
  if (b < 2 * gran)
    return MMF_EINVAL;
  *budget = (size_t)b;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Read engine                                                               */
/* ------------------------------------------------------------------------ */

/* Read from here: the buffer, and for streams the skipped offset. */
static int start_reading(mmf__src *s, int positioned, uint64_t offset,
                         uint64_t range, size_t keep_max) {
  size_t cap = READ_CHUNK;
  int oserr = 0, rc;
  s->engine = MMF__SRC_READ;
  s->positioned = positioned;
  /* A small file comes in one span, read with one call. */
  if (s->sized && range < cap)
    cap = range > 0 ? (size_t)range : 1;
  else if (keep_max > cap / 2)
    cap = keep_max + READ_CHUNK; /* room for what is kept, and progress */
  s->buf = malloc(cap);
  if (!s->buf)
    return fail(s, MMF_ENOMEM, 0);
  s->cap = cap;
  s->next = offset;
  s->origin = offset;
  if (positioned || offset == 0)
    return 0;
  /* A stream: its first `offset` bytes are skipped, and count in input
   * offsets, so a find reports where the needle is in the stream. */
  for (uint64_t left = offset; left > 0;) {
    size_t got, n = left < cap ? (size_t)left : cap;
    rc = mmf__os_read(s->file, -1, s->buf, n, &got, &oserr);
    if (rc)
      return fail(s, rc, oserr);
    if (got == 0)
      return fail(s, MMF_ERANGE, 0);
    left -= got;
  }
  return 0;
}

/* Whether a positioned input without a size ends before offset. */
static int ends_before(mmf__src *s, uint64_t offset) {
  unsigned char probe;
  size_t got = 0;
  int oserr = 0, rc;
  if (offset == 0)
    return 0;
  rc = mmf__os_read(s->file, (int64_t)(offset - 1), &probe, 1, &got, &oserr);
  if (rc)
    return fail(s, rc, oserr);
  return got == 0 ? fail(s, MMF_ERANGE, 0) : 0;
}

/* Make room for more than `fill` bytes: double toward the budget. */
static int grow_buffer(mmf__src *s) {
  size_t want = s->cap > s->budget / 2 ? s->budget : s->cap * 2;
  unsigned char *grown;
  if (want <= s->cap)
    return fail(s, MMF_EFBIG, 0); /* cannot happen: keep <= limit */
  grown = s->buf == s->small ? malloc(want) : realloc(s->buf, want);
  if (!grown)
    return fail(s, MMF_ENOMEM, 0);
  if (s->buf == s->small)
    memcpy(grown, s->small, s->fill);
  s->buf = grown;
  s->cap = want;
  return 0;
}

static int read_next(mmf__src *s, size_t keep, mmf__span *sp) {
  const uint64_t start = s->next - keep;
  int oserr = 0, rc;
  if (keep > 0 && keep < s->fill)
    memmove(s->buf, s->buf + s->fill - keep, keep);
  s->fill = keep;
  /* A line that needs more than half the buffer: grow it, so that reads
   * stay large. */
  if (!s->ended && s->cap < s->budget && keep > s->cap / 2) {
    rc = grow_buffer(s);
    if (rc)
      return rc;
  }
  while (!s->ended && s->fill < s->cap) {
    size_t got, want = s->cap - s->fill;
    if (s->end != UINT64_MAX && want > s->end - s->next)
      want = (size_t)(s->end - s->next);
    if (want == 0) {
      s->ended = 1;
      break;
    }
    rc = mmf__os_read(s->file, s->positioned ? (int64_t)s->next : -1,
                      s->buf + s->fill, want, &got, &oserr);
    if (rc)
      return fail(s, rc, oserr);
    if (got == 0) {
      /* A file shorter than its size at open was cut meanwhile: the
       * same answer a mapping's fault gives. */
      if (s->sized)
        return fail(s, MMF_ETRUNCATED, 0);
      if (s->exact && s->next < s->end)
        return fail(s, MMF_ERANGE, 0);
      if (s->positioned && s->next == s->origin) {
        rc = ends_before(s, s->next);
        if (rc)
          return rc;
      }
      s->ended = 1;
      break;
    }
    s->fill += got;
    s->next += got;
    if (s->end != UINT64_MAX && s->next == s->end)
      s->ended = 1;
    /* Streams hand out what one read() brought: a pipe's reader must not
     * wait for bytes the writer has not sent when it has a line. */
    if (!s->sized)
      break;
  }
  sp->p = s->buf;
  sp->n = s->fill;
  sp->at = start;
  sp->kept = keep;
  sp->final = s->ended;
  sp->piece = 0;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Windows engine                                                            */
/* ------------------------------------------------------------------------ */

static void drop_window(mmf__src *s) {
  if (s->map.base)
    (void)mmf__os_unmap(s->map.base, s->map.map_len, NULL);
  s->map.base = NULL;
  s->map.data = NULL;
  s->map.map_len = 0;
  s->map.size = 0;
}

/*
 * Map the window that starts the span at `from` (a file offset): from the
 * 2 MiB boundary below it when the budget allows, so that every 2 MiB
 * folio of the file in the window is whole and gets one page-table entry
 * (the backend places the address congruent to the offset), up to the
 * budget, the end of the range rounded up to 2 MiB, or the end of the
 * file, whichever comes first. The window is an internal mmf_map, so a
 * fault in it is classified by fault.c like one in any map.
 */
static int place_window(mmf__src *s, uint64_t from) {
  uint64_t gran = mmf__os_granularity(), start = from - from % gran, stop;
  void *base;
  int oserr = 0, rc;
  if (s->budget >= HUGE_MIN_BUDGET)
    start = from - from % HUGE_ALIGN;
  stop = s->end % HUGE_ALIGN == 0 ? s->end
                                  : s->end - s->end % HUGE_ALIGN + HUGE_ALIGN;
  if (stop > s->size)
    stop = s->size;
  if (stop - start > s->budget)
    stop = start + s->budget;
  drop_window(s);
  rc = mmf__os_map_file(s->file, MMF__MAP_READ, start, (size_t)(stop - start),
                        0, &base, &oserr);
  /* The window lay inside the file's size: a map refused as past the end
   * (Windows does not map past it; POSIX does, and the scan's guard then
   * says MMF_ETRUNCATED) means the file was cut since. */
  if (rc == MMF_ERANGE)
    return fail(s, MMF_ETRUNCATED, oserr);
  if (rc)
    return fail(s, rc, oserr);
  s->map.base = base;
  s->map.data = base;
  s->map.map_len = (size_t)(stop - start);
  s->map.size = s->map.map_len;
  s->map.offset = start;
  return 0;
}

/* Some files have a size but refuse to be mapped (/sys attributes): read
 * them to their real end instead, unless the caller said not to. */
static int map_refused(mmf__src *s, int rc) {
  if (rc != MMF_ENODEV || (s->flags & MMF_NO_FALLBACK) || s->cur.n > 0)
    return rc;
  s->sized = 0;
  s->exact = s->exact_length;
  if (!s->exact)
    s->end = UINT64_MAX;
  return start_reading(s, 1, s->next, 0, s->keep_max);
}

static int windows_next(mmf__src *s, size_t keep, mmf__span *sp) {
  const uint64_t from = s->next - keep;
  uint64_t wend;
  int rc;
  if (!s->ended && s->next < s->end) {
    rc = place_window(s, from);
    if (rc) {
      rc = map_refused(s, rc);
      return rc ? rc : read_next(s, 0, sp);
    }
    wend = s->map.offset + s->map.size;
    s->next = wend < s->end ? wend : s->end;
    s->ended = s->next == s->end;
  } else {
    s->ended = 1; /* nothing new: the kept bytes, in the old window */
  }
  sp->p = s->map.data ? s->map.data + (size_t)(from - s->map.offset) : NULL;
  sp->n = (size_t)(s->next - from);
  sp->at = from;
  sp->kept = keep;
  sp->final = s->ended;
  sp->piece = 0;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Cursor engine                                                             */
/* ------------------------------------------------------------------------ */

static int start_cursor(mmf__src *s, const char *path, int fd,
                        uint64_t offset) {
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
  rc = path ? mmf_window_open(&s->win, path, &wo)
            : mmf_window_open_fd(&s->win, fd, &wo);
  if (rc)
    return fail(s, rc, mmf_window_last_os_error(NULL));
  mmf__os_close(&s->file);
  s->map.file.h = MMF__NO_FILE;
  s->engine = MMF__SRC_CURSOR;
  rc = mmf_window_seek(s->win, offset);
  if (rc)
    return fail(s, rc, mmf_window_last_os_error(s->win));
  s->next = offset;
  return 0;
}

static int cursor_next(mmf__src *s, mmf__span *sp) {
  void *p = NULL;
  size_t n = 0;
  uint64_t at = mmf_window_tell(s->win);
  int rc, piece = 0;
  memset(sp, 0, sizeof *sp);
  sp->at = at;
  sp->final = 1;
  if (s->ended || at >= s->end) {
    s->ended = 1;
    return 0;
  }
  rc = mmf_window_next(s->win, &p, &n);
  if (rc == MMF_EFBIG && s->end - at <= mmf_window_limit(s->win)) {
    /* A line too long for the cursor, but the range ends before the
     * limit: the range's last line, which is short enough. */
    n = (size_t)(s->end - at);
    rc = mmf_window_at(s->win, at, n, &p);
  } else if (rc == 0) {
    piece = mmf_window_partial(s->win);
  }
  if (rc)
    return rc;
  if (n > s->end - at) {
    n = (size_t)(s->end - at); /* the range ends inside this span */
    piece = 0;
  }
  if (n == 0 || at + n >= s->end)
    s->ended = 1;
  s->next = at + n;
  sp->p = p;
  sp->n = n;
  sp->final = s->ended;
  sp->piece = piece;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Opening, walking, closing                                                 */
/* ------------------------------------------------------------------------ */

/* Whether a size-0 input still produces bytes (/proc files do). */
static int holds_bytes(mmf__src *s, int *yes) {
  unsigned char probe;
  size_t got = 0;
  int oserr = 0, rc = mmf__os_read(s->file, 0, &probe, 1, &got, &oserr);
  *yes = got > 0;
  return rc ? fail(s, rc, oserr) : 0;
}

/*
 * Small files. A stat costs more than the read() that finds the end of a
 * small file (fstat goes through the path code, with an empty path), and
 * at 4 KiB it is a tenth of open + read + close. So a whole-input scan by
 * path reads first, as a read() loop does: a file that ends within one
 * buffer never needs a stat. Only an input that fills the buffer is
 * looked at, and then read on, mapped from there, or read as a stream.
 */
/*
 * Readahead state lives in the open file description, and page faults in
 * a mapping of it use it too. After the reads above it says "a reader
 * ramping up from offset 0", and faults then bring a cold file in through
 * small asynchronous readaheads: 1.5x slower than faults on a description
 * of its own, which read around each fault in large pieces. So the rest
 * of the file is mapped through a new descriptor, if the path still names
 * the same file (same size and change time); else through the old one.
 */
static void fresh_description(mmf__src *s, const char *path) {
  mmf__file f;
  mmf__stamp a, b;
  int created, oserr;
  if (mmf__os_open(path, 0, 0, &f, &created, &oserr) != 0)
    return;
  if (mmf__os_change_stamp(s->file, &a, &oserr) == 0 &&
      mmf__os_change_stamp(f, &b, &oserr) == 0 &&
      a.change_time == b.change_time && a.size == b.size) {
    mmf__os_close(&s->file);
    s->file = f;
    s->map.file = f;
    return;
  }
  mmf__os_close(&f);
}

static int open_by_reading(mmf__src *s, const char *path,
                           const mmf_scan_options *o) {
  size_t cap = READ_CHUNK, got;
  uint64_t size;
  int kind, oserr = 0, rc;
  s->engine = MMF__SRC_READ;
  /* The first bytes go to the small buffer inside s: a file that ends in
   * it costs no allocation. */
  s->buf = s->small;
  s->cap = sizeof s->small;
  s->pending = 1;
  while (s->fill < s->cap) {
    rc = mmf__os_read(s->file, -1, s->buf + s->fill, s->cap - s->fill, &got,
                      &oserr);
    if (rc)
      return fail(s, rc, oserr); /* a directory: MMF_EISDIR here */
    if (got == 0) {
      s->ended = 1;
      s->next = s->fill;
      return 0;
    }
    s->fill += got;
  }
  s->next = s->fill;
  /* More than the small buffer: now the size decides, before any more
   * read() (which would start readahead for a reader). */
  rc = mmf__os_stat(s->file, &kind, &size, &oserr);
  if (rc)
    return fail(s, rc, oserr);
  if (kind != MMF__KIND_STREAM && size != 0) {
    if (size < s->fill)
      return fail(s, MMF_ETRUNCATED, 0); /* cut since we read */
    s->size = size;
    s->end = size;
    s->sized = 1;
    s->exact = 1;
    s->positioned = 1;
    s->ended = s->next == s->end;
    if (o->io == MMF_SCAN_AUTO && size >= BREAK_EVEN &&
        s->keep_max <= s->limit / 2) {
      s->engine = MMF__SRC_WINDOWS; /* the rest is mapped */
      fresh_description(s, path);
      return 0;
    }
  }
  /* Read on (a file below the break-even, a stream, a /proc file): into
   * a buffer of the usual size, the first bytes in front. */
  if (s->keep_max > cap / 2)
    cap = s->keep_max + READ_CHUNK;
  s->buf = malloc(cap);
  if (!s->buf)
    return fail(s, MMF_ENOMEM, 0);
  memcpy(s->buf, s->small, s->fill);
  s->cap = cap;
  return 0;
}

/* A regular file of `size` bytes: check the range and pick the engine. */
static int start_file(mmf__src *s, const char *path, int fd,
                      const mmf_scan_options *o, uint64_t size, int want) {
  uint64_t range;
  int use_map;
  if (o->offset > size || (o->length && o->length > size - o->offset))
    return fail(s, MMF_ERANGE, 0);
  s->size = size;
  s->end = o->length ? o->offset + o->length : size;
  s->sized = 1;
  s->exact = 1;
  s->next = o->offset;
  range = s->end - o->offset;
  use_map =
      o->io == MMF_SCAN_MAP || (o->io == MMF_SCAN_AUTO && range >= BREAK_EVEN);
  /* Windows must advance past what is kept: a needle longer than half a
   * window is searched in a buffer instead. */
  if (s->keep_max > s->limit / 2)
    use_map = 0;
  if (range == 0 || !use_map)
    return start_reading(s, 1, o->offset, range, s->keep_max);
  if (want == MMF__SRC_LINES)
    return start_cursor(s, path, fd, o->offset);
  s->engine = MMF__SRC_WINDOWS;
  return 0;
}

int mmf__src_open(mmf__src *s, const char *path, int fd,
                  const mmf_scan_options *opts, int want, size_t keep_max) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t size;
  int kind, created, bytes = 1, oserr = 0, rc;
  memset(s, 0, offsetof(mmf__src, small)); /* not the buffer */
  s->file.h = MMF__NO_FILE;
  s->map.file.h = MMF__NO_FILE;
  s->map.kind = MMF__FILE_MAP;
  s->map.mode = MMF_READ;
  s->end = UINT64_MAX;
  s->keep_max = keep_max;
  mmf__set_thread_os_error(0);
  if (opts)
    o = *opts;
  rc = check_options(&o, &s->budget);
  if (rc)
    return rc;
  if (!path && fd < 0)
    return MMF_EINVAL;
  s->limit = s->budget - mmf__os_granularity();
  s->flags = o.flags;
  s->exact_length = o.length != 0;
  rc = path ? mmf__os_open(path, 0, 0, &s->file, &created, &oserr)
            : mmf__os_dup(fd, 0, &s->file, &oserr);
  if (rc) {
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  s->map.file = s->file;
  if (path && o.offset == 0 && o.length == 0 && o.io != MMF_SCAN_MAP &&
      want == MMF__SRC_BYTES && !(o.flags & MMF_NO_FALLBACK)) {
    rc = open_by_reading(s, path, &o);
    if (rc) {
      mmf__set_thread_os_error(mmf__src_os_error(s));
      (void)mmf__src_close(s);
    }
    return rc;
  }
  rc = mmf__os_stat(s->file, &kind, &size, &oserr);
  if (rc)
    rc = fail(s, rc, oserr);
  else if (kind == MMF__KIND_DIRECTORY)
    rc = fail(s, MMF_EISDIR, 0);
  else if (kind != MMF__KIND_STREAM && size == 0)
    rc = holds_bytes(s, &bytes);
  if (rc == 0 && bytes && (kind == MMF__KIND_STREAM || size == 0)) {
    /* Streams and /proc files: read, from where they are. */
    if (o.flags & MMF_NO_FALLBACK) {
      rc = fail(s, MMF_ENODEV, 0);
    } else {
      if (o.length)
        s->end = o.offset + o.length;
      s->exact = o.length != 0;
      rc = start_reading(s, kind != MMF__KIND_STREAM, o.offset, 0, keep_max);
    }
  } else if (rc == 0) {
    rc = start_file(s, path, fd, &o, size, want);
  }
  if (rc) {
    mmf__set_thread_os_error(mmf__src_os_error(s));
    (void)mmf__src_close(s);
  }
  return rc;
}

int mmf__src_next(mmf__src *s, size_t keep, mmf__span *span) {
  int rc;
  if (keep > s->cur.n)
    keep = s->cur.n;
  if (s->pending) {
    /* What open_by_reading() read comes first. */
    memset(span, 0, sizeof *span);
    span->p = s->buf;
    span->n = s->fill;
    span->final = s->ended;
    s->pending = 0;
    s->cur = *span;
    return 0;
  }
  switch (s->engine) {
  case MMF__SRC_WINDOWS:
    rc = windows_next(s, keep, span);
    break;
  case MMF__SRC_CURSOR:
    rc = cursor_next(s, span);
    break;
  default:
    rc = read_next(s, keep, span);
    break;
  }
  if (rc) {
    memset(span, 0, sizeof *span);
    return rc; /* s->cur stays: a retry keeps from it */
  }
  s->cur = *span;
  return 0;
}

int mmf__src_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  if (s->engine == MMF__SRC_CURSOR)
    return mmf_window_guard(s->win, fn, ctx);
  if (s->engine == MMF__SRC_WINDOWS && s->map.base)
    return mmf__guarded(&s->map, 0, fn, ctx);
  return fn(ctx);
}

int mmf__src_close(mmf__src *s) {
  int rc = 0, oserr = 0;
  if (s->map.base)
    rc = mmf__os_unmap(s->map.base, s->map.map_len, &oserr);
  s->map.base = NULL;
  if (s->buf != s->small)
    free(s->buf);
  s->buf = NULL;
  mmf__os_close(&s->file);
  s->map.file.h = MMF__NO_FILE;
  if (s->win) {
    int wrc = mmf_window_close(s->win);
    if (!rc)
      rc = wrc;
    s->win = NULL;
  }
  return rc;
}
