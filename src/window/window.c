/*
 * window.c - the window cursor: inputs of any size walked in spans within a
 * fixed address-space budget.
 *
 * Two engines sit behind one handle:
 *
 *  - map: a regular file is seen through one mapping at a time, the
 *    window, of at most `budget` bytes. The window is an ordinary internal
 *    mmf_map (kind MMF__FILE_MAP, no slack), so the core's fault guard and
 *    fault classification (fault.c) apply to it unchanged. Moving it means
 *    unmapping, then mapping: never two windows at once, so the budget
 *    holds even under a tight RLIMIT_AS.
 *  - read: pipes, character devices, sockets, /proc files and files the OS
 *    refuses to map are read with read() (pread() where the input has
 *    offsets) into one reused buffer.
 *
 * Where a window starts. Linux maps a 2 MiB page-cache folio with a single
 * entry only when the whole folio lies in the mapping at a congruent
 * address; the backend takes care of the congruence, and starting windows
 * at 2 MiB-aligned file offsets keeps every folio whole. So a window starts
 * at the 2 MiB boundary below the position (costing at most 2 MiB of a
 * budget of 16 MiB or more), and only when a record needs the full reach
 * of the budget at the granularity boundary below it.
 *
 * Records are cut by one function, cut(), over the run of bytes either
 * engine has at the position, so files and streams split records the same
 * way. The limit L = budget - granularity is what makes the rule exact: a
 * window started at the granularity boundary below any position reaches at
 * least L + 1 bytes past it, and a buffer of `budget` bytes holds L + 1.
 * Seeing L + 1 bytes without a delimiter in the first L proves a record too
 * long; seeing fewer never does.
 */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "last_byte.h"
#include "os/alloc.h"

/* First (and, without a delimiter, only) size of the read buffer. */
#define READ_CHUNK ((size_t)1 << 20)

/* Internal value of the delimiter when records are off. */
#define NO_DELIMITER (-1)

#define WINDOW_FLAGS                                                           \
  (MMF_WINDOW_SPLIT_LONG | MMF_WINDOW_WRITE | MMF_WINDOW_RECORDS |             \
   MMF_POPULATE | MMF_SEQUENTIAL | MMF_RANDOM | MMF_HUGE | MMF_NO_FALLBACK)

enum { ENGINE_MAP = 1, ENGINE_READ };

struct mmf_window {
  /* The current window (map engine): base/map_len the OS mapping, offset
   * its file offset, size the file bytes it holds; base NULL when none.
   * Also the home of the descriptor, the poison code and the OS error. */
  mmf_map win;
  uint64_t pos;   /* input offset of the next byte mmf_window_next gives */
  uint64_t last;  /* input offset of the last span's first byte */
  uint64_t total; /* input size, MMF_WINDOW_UNKNOWN until a stream ends */
  size_t budget;  /* address space: window length, buffer capacity cap */
  size_t limit;   /* longest record delivered whole: budget - granularity */
  int delimiter;  /* byte value, or NO_DELIMITER */
  unsigned flags;
  int engine;
  int partial; /* the last span ended inside a too-long record */
  /* Read engine: buf[head, fill) are bytes read but not yet delivered;
   * buf[head] is at input offset pos. */
  int positioned; /* pread at pos + buffered bytes, so seeking works */
  int eof;
  unsigned char *buf;
  size_t cap, head, fill;
  size_t clear; /* buf[head, head + clear) is known to hold no delimiter */
};

/* ------------------------------------------------------------------------ */
/* Cutting records                                                           */
/* ------------------------------------------------------------------------ */

enum { CUT_SPAN = 1, CUT_MORE, CUT_LONG };

typedef struct cut_job {
  const unsigned char *p; /* the bytes at the position */
  size_t avail;           /* how many are at hand */
  size_t clear;           /* p[0, clear) holds no delimiter; updated */
  size_t limit;
  int at_end; /* p + avail is the end of the input */
  int tail;   /* p starts inside a too-long record (the rest of it) */
  unsigned char delim;
  int result; /* CUT_SPAN (len set), CUT_MORE or CUT_LONG */
  size_t len;
} cut_job;

/* Offset of the first c in p[0, n), or SIZE_MAX. */
static size_t first_byte(const unsigned char *p, size_t n, unsigned char c) {
  const unsigned char *q = n ? memchr(p, c, n) : NULL;
  return q ? (size_t)(q - p) : SIZE_MAX;
}

/*
 * Where a span of whole records ending at `end` must stop so that it holds
 * no record longer than the limit: `end` if there is none, else the start
 * of the first such record (0 if it is the first). Only a record starting
 * before end - limit can be that long, so this looks at the records that
 * start in the first end - limit bytes, which is less than a granularity
 * unit when the span comes from one window.
 */
static size_t stop_before_long(const cut_job *j, size_t end) {
  size_t a = 0, from, e;
  while (end > j->limit && a < end - j->limit) {
    from = a < j->clear ? j->clear : a;
    e = from < a + j->limit
            ? first_byte(j->p + from, a + j->limit - from, j->delim)
            : SIZE_MAX;
    if (e == SIZE_MAX)
      return a; /* no delimiter in the record's first `limit` bytes */
    a = from + e + 1;
  }
  return end;
}

/* The tail of a too-long record: up to its delimiter, or another piece. */
static void cut_tail(cut_job *j) {
  size_t reach = j->avail < j->limit ? j->avail : j->limit, d;
  d = j->clear < reach ? first_byte(j->p + j->clear, reach - j->clear, j->delim)
                       : SIZE_MAX;
  if (d != SIZE_MAX) {
    j->len = j->clear + d + 1;
    j->result = CUT_SPAN;
  } else if (j->at_end && j->avail <= j->limit) {
    j->len = j->avail;
    j->result = CUT_SPAN;
  } else if (j->avail > j->limit) {
    j->result = CUT_LONG;
  } else {
    j->clear = j->avail;
    j->result = CUT_MORE;
  }
}

/* Whole records at p: up to the last delimiter at hand (or to the end of
 * the input), but never a record longer than the limit. Runs under the
 * fault guard for windows, so it only reads the bytes. */
static int cut(void *ctx) {
  cut_job *j = ctx;
  size_t end, d;
  if (j->tail) {
    cut_tail(j);
    return 0;
  }
  if (j->at_end) {
    end = j->avail; /* the unterminated last record is a record too */
  } else {
    d = j->clear < j->avail
            ? mmf__last_byte(j->p + j->clear, j->avail - j->clear, j->delim)
            : SIZE_MAX;
    end = d == SIZE_MAX ? 0 : j->clear + d + 1;
  }
  if (end > 0 || j->at_end) {
    end = stop_before_long(j, end);
    j->result = end > 0 || j->avail == 0 ? CUT_SPAN : CUT_LONG;
    j->len = end;
  } else if (j->avail > j->limit) {
    j->result = CUT_LONG; /* no delimiter anywhere in more than L bytes */
  } else {
    j->clear = j->avail;
    j->result = CUT_MORE;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                               */
/* ------------------------------------------------------------------------ */

static int fail(mmf_window *w, int code, int oserr) {
  return mmf__fail(&w->win, code, oserr);
}

/* Common entry checks: a live cursor. */
static int usable(mmf_window *w) {
  if (!w)
    return MMF_EINVAL;
  if (w->win.poisoned)
    return fail(w, w->win.poisoned, 0);
  return 0;
}

/* After a guarded call came back MMF_ETRUNCATED: the file is shorter than
 * we thought. Learn its size, so later calls stay inside it. */
static void note_truncation(mmf_window *w) {
  uint64_t fsize;
  int kind;
  if (w->engine != ENGINE_MAP)
    return;
  if (mmf__os_stat(w->win.file, &kind, &fsize, NULL) != 0)
    fsize = w->win.offset + w->win.size; /* what fault.c left us */
  if (fsize < w->total)
    w->total = fsize;
  if (w->pos > w->total)
    w->pos = w->total;
  if (w->win.base && w->win.offset + w->win.size > w->total)
    w->win.size =
        w->win.offset < w->total ? (size_t)(w->total - w->win.offset) : 0;
}

/* Run fn over the window and do what a fault asks for afterwards. */
static int guarded(mmf_window *w, int (*fn)(void *ctx), void *ctx) {
  int rc =
      mmf__guarded_follow(&w->win, (w->flags & MMF_WINDOW_WRITE) != 0, fn, ctx);
  if (rc == MMF_ETRUNCATED)
    note_truncation(w);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Read engine                                                               */
/* ------------------------------------------------------------------------ */

static int start_reading(mmf_window *w) {
  size_t cap = w->budget < READ_CHUNK ? w->budget : READ_CHUNK;
  void *buf;
  int oserr = 0, rc = mmf__os_map_anon(cap, 0, 0, &buf, &oserr);
  if (rc)
    return fail(w, rc, oserr);
  w->engine = ENGINE_READ;
  w->buf = buf;
  w->cap = cap;
  w->head = w->fill = w->clear = 0;
  w->eof = 0;
  return 0;
}

/* Grow the buffer toward the budget, keeping its bytes. */
static int grow_buffer(mmf_window *w) {
  const mmf__file none = {MMF__NO_FILE};
  size_t want = w->cap > w->budget / 2 ? w->budget : w->cap * 2;
  void *grown;
  int oserr = 0, rc;
  rc = mmf__os_remap(none, MMF__MAP_COPY, 0, 0, w->buf, w->cap, want, &grown,
                     &oserr);
  if (rc)
    return fail(w, rc, oserr);
  w->buf = grown;
  w->cap = want;
  return 0;
}

/* Hand out buf[head, head + n). */
static void deliver_buffered(mmf_window *w, size_t n, void **ptr, size_t *len) {
  *ptr = w->buf + w->head;
  *len = n;
  w->head += n;
  w->pos += n;
  w->clear = 0;
}

static int read_next(mmf_window *w, void **ptr, size_t *len) {
  cut_job j;
  size_t got;
  int oserr = 0, rc;
  /* The previous span is given up now: keep only what follows it. */
  if (w->head > 0) {
    memmove(w->buf, w->buf + w->head, w->fill - w->head);
    w->fill -= w->head;
    w->head = 0;
  }
  for (;;) {
    if (w->delimiter < 0 && w->fill > 0) {
      deliver_buffered(w, w->fill, ptr, len);
      return 0;
    }
    if (w->delimiter >= 0 && (w->fill > 0 || w->eof)) {
      j.p = w->buf;
      j.avail = w->fill;
      j.clear = w->clear;
      j.limit = w->limit;
      j.at_end = w->eof;
      j.tail = w->partial;
      j.delim = (unsigned char)w->delimiter;
      (void)cut(&j);
      if (j.result == CUT_SPAN) {
        w->partial = 0;
        if (j.len > 0)
          deliver_buffered(w, j.len, ptr, len);
        return 0;
      }
      if (j.result == CUT_LONG) {
        if (!(w->flags & MMF_WINDOW_SPLIT_LONG))
          return fail(w, MMF_EFBIG, 0);
        w->partial = 1;
        deliver_buffered(w, w->limit, ptr, len);
        return 0;
      }
      w->clear = j.clear;
    }
    if (w->eof)
      return 0; /* end of input, nothing buffered */
    if (w->fill == w->cap) {
      /* Only a record can fill the buffer, and cut() calls one too long
       * before the buffer reaches the budget. */
      rc = grow_buffer(w);
      if (rc)
        return rc;
    }
    rc = mmf__os_read(w->win.file,
                      w->positioned ? (int64_t)(w->pos + w->fill) : -1,
                      w->buf + w->fill, w->cap - w->fill, &got, &oserr);
    if (rc)
      return fail(w, rc, oserr);
    if (got == 0) {
      w->eof = 1;
      w->total = w->pos + w->fill;
    }
    w->fill += got;
  }
}

/* ------------------------------------------------------------------------ */
/* Map engine                                                                */
/* ------------------------------------------------------------------------ */

/* Replace the window by one holding [lo, hi) (lo < hi <= total), placed
 * by mmf__window_span (2 MiB-aligned when prefer_huge and it still reaches
 * hi). Where the address space is short and may_shrink is set, the window
 * may come out smaller, but never below what [lo, hi) needs; a record
 * that needs the budget's full reach gets it or MMF_ENOMEM. */
static int place(mmf_window *w, uint64_t lo, uint64_t hi, int prefer_huge,
                 int may_shrink) {
  uint64_t start;
  size_t len;
  int oserr = 0, rc;
  mmf__window_span(lo, hi, w->total, w->total, w->budget, prefer_huge, &start,
                   &len);
  rc = mmf__window_map(
      &w->win, (w->flags & MMF_WINDOW_WRITE) ? MMF__MAP_WRITE : MMF__MAP_READ,
      start, len, may_shrink ? (size_t)(hi - start) : len,
      w->flags & (MMF_POPULATE | MMF_HUGE | MMF_SEQUENTIAL | MMF_RANDOM),
      &oserr);
  if (rc == MMF_ERANGE) {
    /* [start, start + len) lay inside the file when we measured it: the
     * file was cut since. Where the OS maps past the end (POSIX) the same
     * cut comes back from the guarded search as MMF_ETRUNCATED; where it
     * refuses such a map (Windows), say the same, and learn the size as
     * note_truncation() does. */
    uint64_t fsize;
    int kind;
    if (mmf__os_stat(w->win.file, &kind, &fsize, NULL) == 0 &&
        fsize < w->total) {
      w->total = fsize;
      if (w->pos > w->total)
        w->pos = w->total;
    }
    return fail(w, MMF_ETRUNCATED, oserr);
  }
  if (rc)
    return fail(w, rc, oserr);
  return 0;
}

/* Some files have a size but refuse to be mapped (/sys attributes): read
 * them instead, from where the cursor is, unless the caller said not to. */
static int map_refused(mmf_window *w, int rc) {
  if (rc != MMF_ENODEV ||
      mmf__input_unmappable(w->flags, (w->flags & MMF_WINDOW_WRITE) != 0))
    return rc;
  rc = start_reading(w);
  if (rc)
    return rc;
  w->positioned = 1;
  w->total = MMF_WINDOW_UNKNOWN; /* their size says nothing */
  return 1;
}

static int holds(const mmf_window *w, uint64_t lo, uint64_t hi) {
  return w->win.base && lo >= w->win.offset &&
         hi <= w->win.offset + w->win.size;
}

static int map_next(mmf_window *w, void **ptr, size_t *len) {
  cut_job j;
  uint64_t end;
  size_t clear = 0;
  int rc, moves = 0;
  if (w->pos >= w->total)
    return 0;
  for (;;) {
    if (!holds(w, w->pos, w->pos + 1)) {
      /* First a 2 MiB-aligned window; a record that needs the budget's
       * full reach gets the granularity-aligned one. */
      rc = place(w, w->pos, w->pos + 1, moves == 0, moves == 0);
      if (rc)
        return map_refused(w, rc) == 1 ? read_next(w, ptr, len) : rc;
      moves++;
    }
    end = w->win.offset + w->win.size;
    j.p = w->win.data + (size_t)(w->pos - w->win.offset);
    j.avail = (size_t)(end - w->pos);
    if (w->delimiter < 0) {
      j.len = j.avail;
      break;
    }
    j.clear = clear < j.avail ? clear : j.avail;
    j.limit = w->limit;
    j.at_end = end == w->total;
    j.tail = w->partial;
    j.delim = (unsigned char)w->delimiter;
    rc = guarded(w, cut, &j);
    if (rc)
      return rc;
    if (j.result == CUT_SPAN) {
      w->partial = 0;
      break;
    }
    if (j.result == CUT_LONG) {
      if (!(w->flags & MMF_WINDOW_SPLIT_LONG))
        return fail(w, MMF_EFBIG, 0);
      w->partial = 1;
      j.len = w->limit;
      break;
    }
    /* CUT_MORE: nothing in this window ends a record. What was searched
     * holds no delimiter wherever the next window lies. */
    clear = j.clear;
    mmf__window_drop(&w->win);
  }
  *ptr = (void *)j.p;
  *len = j.len;
  w->pos += j.len;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Opening and closing                                                       */
/* ------------------------------------------------------------------------ */

static int check_options(const mmf_window_options *o, size_t *budget) {
  if (o->flags & ~(unsigned)WINDOW_FLAGS)
    return MMF_EINVAL;
  if ((o->flags & MMF_SEQUENTIAL) && (o->flags & MMF_RANDOM))
    return MMF_EINVAL;
  /* A delimiter without MMF_WINDOW_RECORDS is a caller's slip that would
   * otherwise silently give byte spans: refuse it. */
  if (o->delimiter < 0 || o->delimiter > 255 ||
      (o->delimiter && !(o->flags & MMF_WINDOW_RECORDS)))
    return MMF_EINVAL;
  return mmf__input_budget(o->budget, budget);
}

/* Build a cursor over f, which it then owns (closed on failure). */
static int open_file(mmf_window **out, mmf__file f, const mmf_window_options *o,
                     size_t budget) {
  mmf_window *w = mmf__alloc.calloc(1, sizeof *w);
  uint64_t fsize;
  int cls, oserr = 0, rc;
  if (!w) {
    mmf__os_close(&f);
    mmf__set_thread_os_error(0);
    return MMF_ENOMEM;
  }
  w->win.file = f;
  w->win.kind = MMF__FILE_MAP;
  w->win.mode = (o->flags & MMF_WINDOW_WRITE) ? MMF_WRITE : MMF_READ;
  w->budget = budget;
  w->limit = budget - mmf__os_granularity();
  w->delimiter = (o->flags & MMF_WINDOW_RECORDS) ? o->delimiter : NO_DELIMITER;
  w->flags = o->flags;
  w->engine = ENGINE_MAP;
  rc = mmf__input_classify(f, &cls, &fsize, &oserr);
  if (rc)
    goto fail;
  w->total = fsize;
  if (!mmf__input_mappable(cls)) {
    rc = mmf__input_unmappable(o->flags, (o->flags & MMF_WINDOW_WRITE) != 0);
    if (rc)
      goto fail;
    rc = start_reading(w);
    oserr = w->win.os_error;
    if (rc)
      goto fail;
    w->positioned = cls != MMF__INPUT_STREAM;
    w->total = MMF_WINDOW_UNKNOWN;
  }
  *out = w;
  return 0;
fail:
  mmf__os_close(&w->win.file);
  mmf__alloc.free(w);
  mmf__set_thread_os_error(oserr);
  return rc;
}

/* The twins: a path (fd < 0), or a duplicate of fd (path NULL). */
static int open_input(mmf_window **out, const char *path, int fd,
                      const mmf_window_options *opts) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf__file f;
  size_t budget;
  int rc, writable, oserr = 0;
  if (out)
    *out = NULL;
  mmf__set_thread_os_error(0);
  if (!out || (!path && fd < 0))
    return MMF_EINVAL;
  if (opts)
    o = *opts;
  rc = check_options(&o, &budget);
  if (rc)
    return rc;
  writable = (o.flags & MMF_WINDOW_WRITE) != 0;
  rc = path ? mmf__input_open(path, o.flags, writable, &f, &oserr)
            : mmf__os_dup(fd, writable, &f, &oserr);
  if (rc) {
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  return open_file(out, f, &o, budget);
}

int mmf_window_open(mmf_window **out, const char *path,
                    const mmf_window_options *opts) {
  if (!path) {
    if (out)
      *out = NULL;
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  return open_input(out, path, -1, opts);
}

int mmf_window_open_fd(mmf_window **out, int fd,
                       const mmf_window_options *opts) {
  return open_input(out, NULL, fd < 0 ? -1 : fd, opts);
}

int mmf_window_close(mmf_window *w) {
  int rc = 0, oserr = 0;
  if (!w)
    return 0;
  if (w->win.base)
    rc = mmf__os_unmap(w->win.base, w->win.map_len, &oserr);
  if (w->buf)
    (void)mmf__os_unmap(w->buf, w->cap, NULL);
  mmf__os_close(&w->win.file);
  mmf__alloc.free(w);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Walking                                                                   */
/* ------------------------------------------------------------------------ */

int mmf_window_next(mmf_window *w, void **ptr, size_t *len) {
  uint64_t from;
  int rc;
  if (ptr)
    *ptr = NULL;
  if (len)
    *len = 0;
  rc = usable(w);
  if (rc)
    return rc;
  if (!ptr || !len)
    return fail(w, MMF_EINVAL, 0);
  from = w->pos;
  rc = w->engine == ENGINE_MAP ? map_next(w, ptr, len) : read_next(w, ptr, len);
  if (rc) {
    *ptr = NULL;
    *len = 0;
  } else if (*len > 0) {
    w->last = from;
  }
  return rc;
}

/* A stream only goes forward: through what is buffered, then past the
 * rest without reading where the device allows (/dev/zero), else by
 * reading and discarding into the buffer, which is given up anyway. */
static int skip_stream(mmf_window *w, uint64_t offset) {
  uint64_t ahead, skipped;
  size_t buffered = w->fill - w->head;
  int oserr = 0, rc;
  if (offset < w->pos)
    return fail(w, MMF_ENOTSUP, 0);
  ahead = offset - w->pos;
  w->partial = 0;
  w->clear = 0;
  if (ahead <= buffered) {
    w->head += (size_t)ahead;
    w->pos = offset;
    return 0;
  }
  w->pos += buffered;
  w->head = w->fill = 0;
  if (w->eof)
    return fail(w, MMF_ERANGE, 0);
  rc = mmf__input_skip(w->win.file, ahead - buffered, w->buf, w->cap, &skipped,
                       &oserr);
  w->pos += skipped;
  if (rc)
    return fail(w, rc, oserr);
  if (w->pos < offset) {
    w->eof = 1; /* the cursor stays at the stream's end */
    w->total = w->pos;
    return fail(w, MMF_ERANGE, 0);
  }
  return 0;
}

int mmf_window_seek(mmf_window *w, uint64_t offset) {
  int rc = usable(w);
  if (rc)
    return rc;
  if (w->engine == ENGINE_READ && !w->positioned)
    return skip_stream(w, offset);
  if (w->engine == ENGINE_READ) {
    if (offset > (uint64_t)INT64_MAX)
      return fail(w, MMF_ERANGE, 0);
    /* The buffer is dropped: the input may have changed (/proc). */
    w->head = w->fill = w->clear = 0;
    w->eof = 0;
    w->total = MMF_WINDOW_UNKNOWN;
  } else if (offset > w->total) {
    return fail(w, MMF_ERANGE, 0);
  }
  w->pos = offset;
  w->partial = 0;
  return 0;
}

int mmf_window_at(mmf_window *w, uint64_t offset, size_t len, void **ptr) {
  uint64_t n;
  int rc;
  if (ptr)
    *ptr = NULL;
  rc = usable(w);
  if (rc)
    return rc;
  if (!ptr)
    return fail(w, MMF_EINVAL, 0);
  if (w->engine != ENGINE_MAP)
    return fail(w, MMF_ENOTSUP, 0);
  if (offset > w->total)
    return fail(w, MMF_ERANGE, 0);
  n = len ? (uint64_t)len : w->total - offset;
  if (n > w->total - offset)
    return fail(w, MMF_ERANGE, 0);
  if (n > w->limit)
    return fail(w, MMF_EFBIG, 0);
  if (n == 0)
    return 0;
  if (!holds(w, offset, offset + n)) {
    rc = place(w, offset, offset + n, 1, 1);
    if (rc)
      return rc;
  }
  *ptr = w->win.data + (size_t)(offset - w->win.offset);
  return 0;
}

int mmf_window_guard(mmf_window *w, int (*fn)(void *ctx), void *ctx) {
  int rc = usable(w);
  if (rc)
    return rc;
  if (!fn)
    return fail(w, MMF_EINVAL, 0);
  if (w->engine != ENGINE_MAP)
    return fn(ctx);
  return guarded(w, fn, ctx);
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

bool mmf_window_partial(const mmf_window *w) { return w && w->partial; }

uint64_t mmf_window_tell(const mmf_window *w) { return w ? w->pos : 0; }

uint64_t mmf_window_offset(const mmf_window *w) { return w ? w->last : 0; }

uint64_t mmf_window_total(const mmf_window *w) { return w ? w->total : 0; }

size_t mmf_window_limit(const mmf_window *w) { return w ? w->limit : 0; }

bool mmf_window_is_mapped(const mmf_window *w) {
  return w && w->engine == ENGINE_MAP;
}

int mmf_window_last_os_error(const mmf_window *w) {
  return w ? w->win.os_error : mmf_last_os_error(NULL);
}
