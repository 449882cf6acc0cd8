/*
 * source.c - which engine reads a scan's input, and handing its spans out
 * (source.h).
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
 */
/* This file defines calls of mmf.h's "Tuning" section. */
#define MMF_TUNING 1
#include <stddef.h>
#include <string.h>

#include "source.h"

#define BREAK_EVEN ((uint64_t)2 << 20)
#define SCAN_FLAGS                                                             \
  ((unsigned)MMF_NO_FALLBACK | (unsigned)MMF_SCAN_SPLIT_LONG |                 \
   (unsigned)MMF_SCAN_FROM_POSITION | (unsigned)MMF_SCAN_LINE_NUMBERS)

uint64_t mmf_scan_break_even(void) { return BREAK_EVEN; }

/*
 * Cold files. MMF_SCAN_AUTO reads a range of at least mmf__scan_cold_min
 * bytes around the page cache (the direct engine) when fewer than half
 * of COLD_SAMPLES pages spread over it are in the cache, and maps it as
 * before otherwise. The look costs one map of the range and a residency
 * call per sample: 15 to 18 us for a 2 GiB file here, hot or cold, under
 * 0.1% of a hot scan of 64 MiB (22 ms on one thread). Tests lower the
 * size.
 */
uint64_t mmf__scan_cold_min = (uint64_t)64 << 20;
#define COLD_SAMPLES 32

static int is_cold(mmf__src *s, uint64_t first, uint64_t range) {
  unsigned hits;
  int oserr;
  if (range < mmf__scan_cold_min || s->borrowed)
    return 0;
  if (mmf__os_cached(s->file, first, range, COLD_SAMPLES, &hits, &oserr) != 0)
    return 0; /* cannot tell: as before */
  return hits < COLD_SAMPLES / 2;
}

int mmf__src_fail(mmf__src *s, int code, int oserr) {
  return mmf__fail(&s->map, code, oserr);
}

int mmf__src_os_error(const mmf__src *s) { return s->map.os_error; }

static int check_options(const mmf_scan_options *o, size_t *budget) {
  int rc;
  if (o->flags & ~SCAN_FLAGS)
    return MMF_EINVAL;
  if (o->io != MMF_SCAN_AUTO && o->io != MMF_SCAN_READ &&
      o->io != MMF_SCAN_MAP && o->io != MMF_SCAN_DIRECT)
    return MMF_EINVAL;
  rc = mmf__input_check_range(o->offset, o->length);
  if (rc)
    return rc;
  return mmf__input_budget(o->budget, budget);
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
  int oserr;
  if (mmf__input_open(path, 0, 0, &f, &oserr) != 0)
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
  mmf__src_buffer *rd = &s->rd;
  mmf__src_at *at = &s->at;
  size_t got;
  uint64_t size;
  int cls, oserr = 0, rc;
  /* The first bytes go to the small buffer inside s: a file that ends in
   * it costs no allocation. */
  s->engine = &mmf__read_engine;
  rd->buf = s->small;
  rd->cap = sizeof s->small;
  rd->pending = 1;
  while (rd->fill < rd->cap) {
    rc = mmf__os_read(s->file, -1, rd->buf + rd->fill, rd->cap - rd->fill, &got,
                      &oserr);
    if (rc)
      return mmf__src_fail(s, rc, oserr); /* a directory: MMF_EISDIR here */
    if (got == 0) {
      at->ended = 1;
      at->next = rd->fill;
      return 0;
    }
    rd->fill += got;
  }
  at->next = rd->fill;
  /* More than the small buffer: now the input layer decides, before any
   * more read() (which would start readahead for a reader). */
  rc = mmf__input_classify(s->file, &cls, &size, &oserr);
  if (rc)
    return mmf__src_fail(s, rc, oserr);
  if (cls != MMF__INPUT_FILE) /* a stream or /proc file: read on */
    return mmf__src_keep_reading(s, 0);
  if (size < rd->fill)
    return mmf__src_fail(s, MMF_ETRUNCATED, 0); /* cut since we read */
  at->size = size;
  at->end = size;
  at->sized = 1;
  at->exact = 1;
  at->ended = at->next == at->end;
  if (o->io == MMF_SCAN_DIRECT ||
      (o->io == MMF_SCAN_AUTO && is_cold(s, at->next, size - at->next))) {
    if (mmf__src_open_direct(s, path) == 0)
      return 0; /* the rest is read around the cache */
    return mmf__src_keep_reading(s, 1);
  }
  if (o->io == MMF_SCAN_AUTO && size >= BREAK_EVEN &&
      s->keep_max <= s->limit / 2) {
    s->engine = &mmf__windows_engine; /* the rest is mapped */
    fresh_description(s, path);
    return 0;
  }
  return mmf__src_keep_reading(s, 1); /* below the break-even */
}

/* A regular file of `size` bytes: check the range and pick the engine. */
static int start_file(mmf__src *s, const char *path, int fd,
                      const mmf_scan_options *o, uint64_t size, int want) {
  mmf__src_at *at = &s->at;
  uint64_t range;
  int use_map;
  if (o->offset > size || (o->length && o->length > size - o->offset))
    return mmf__src_fail(s, MMF_ERANGE, 0);
  at->size = size;
  at->end = o->length ? o->offset + o->length : size;
  at->sized = 1;
  at->exact = 1;
  at->first = o->offset;
  at->next = o->offset;
  range = at->end - o->offset;
  use_map =
      o->io == MMF_SCAN_MAP || (o->io == MMF_SCAN_AUTO && range >= BREAK_EVEN);
  /* Windows must advance past what is kept: a needle longer than half a
   * window is searched in a buffer instead. */
  if (s->keep_max > s->limit / 2)
    use_map = 0;
  if (range > 0 && want == MMF__SRC_BYTES &&
      (o->io == MMF_SCAN_DIRECT ||
       (o->io == MMF_SCAN_AUTO && s->keep_max <= s->limit / 2 &&
        is_cold(s, o->offset, range)))) {
    if (mmf__src_open_direct(s, path) == 0)
      return 0;
    use_map = 0; /* no uncached reads: read through the cache */
  }
  if (range == 0 || !use_map)
    return mmf__src_start_reading(s, 1, range);
  if (want == MMF__SRC_LINES)
    return mmf__src_start_cursor(s, path, fd);
  s->engine = &mmf__windows_engine;
  return 0;
}

/* An input that cannot be mapped (a stream, a /proc file): read it from
 * where it is, unless the caller refused that. */
static int start_unmappable(mmf__src *s, const mmf_scan_options *o, int cls) {
  mmf__src_at *at = &s->at;
  int rc = mmf__input_unmappable(o->flags, 0);
  if (rc)
    return mmf__src_fail(s, rc, 0);
  if (o->length)
    at->end = o->offset + o->length;
  at->exact = o->length != 0;
  at->first = o->offset;
  at->next = o->offset;
  return mmf__src_start_reading(s, cls != MMF__INPUT_STREAM, 0);
}

/* MMF_SCAN_FROM_POSITION: the range starts at the descriptor's position
 * (which the duplicate shares). */
static int from_position(mmf_scan_options *o, mmf__file f, int *oserr) {
  uint64_t pos;
  int rc = mmf__os_tell(f, &pos, oserr);
  if (rc)
    return rc;
  if (o->offset > UINT64_MAX - pos)
    return MMF_ERANGE;
  o->offset += pos;
  return mmf__input_check_range(o->offset, o->length);
}

/* Everything but the small buffer, as a source that holds nothing. */
static void init_source(mmf__src *s, size_t keep_max) {
  memset(s, 0, offsetof(mmf__src, small)); /* not the buffer */
  s->engine = &mmf__read_engine;
  s->file.h = MMF__NO_FILE;
  s->uncached.h = MMF__NO_FILE;
  s->map.file.h = MMF__NO_FILE;
  s->map.kind = MMF__FILE_MAP;
  s->map.mode = MMF_READ;
  s->at.end = UINT64_MAX;
  s->keep_max = keep_max;
}

/* The options' part every source keeps: budget, limit, io, flags. */
static void take_options(mmf__src *s, const mmf_scan_options *o,
                         size_t budget) {
  s->budget = budget;
  s->limit = budget - mmf__os_granularity();
  s->io = o->io;
  s->flags = o->flags;
  s->exact_length = o->length != 0;
}

int mmf__src_open(mmf__src *s, const char *path, int fd,
                  const mmf_scan_options *opts, int want, size_t keep_max) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t size;
  size_t budget;
  int cls, oserr = 0, rc;
  init_source(s, keep_max);
  mmf__set_thread_os_error(0);
  if (opts)
    o = *opts;
  rc = check_options(&o, &budget);
  if (rc)
    return rc;
  if (!path && fd < 0)
    return MMF_EINVAL;
  take_options(s, &o, budget);
  rc = path ? mmf__input_open(path, o.flags, 0, &s->file, &oserr)
            : mmf__os_dup(fd, 0, &s->file, &oserr);
  if (rc) {
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  s->map.file = s->file;
  if (path && o.offset == 0 && o.length == 0 && o.io != MMF_SCAN_MAP &&
      want == MMF__SRC_BYTES && !(o.flags & MMF_NO_FALLBACK)) {
    rc = open_by_reading(s, path, &o);
  } else {
    rc = mmf__input_classify(s->file, &cls, &size, &oserr);
    if (rc == 0 && cls == MMF__INPUT_FILE && !path &&
        (o.flags & MMF_SCAN_FROM_POSITION))
      rc = from_position(&o, s->file, &oserr);
    if (rc)
      rc = mmf__src_fail(s, rc, oserr);
    else if (!mmf__input_mappable(cls))
      rc = start_unmappable(s, &o, cls);
    else
      rc = start_file(s, path, fd, &o, size, want);
  }
  if (rc) {
    mmf__set_thread_os_error(mmf__src_os_error(s));
    (void)mmf__src_close(s);
  }
  return rc;
}

int mmf__src_open_part(mmf__src *s, const mmf__src *parent, uint64_t lo,
                       uint64_t hi, size_t budget, size_t keep_max) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  int rc;
  init_source(s, keep_max);
  o.offset = lo;
  o.length = hi - lo;
  o.io = parent->io;
  o.flags = parent->flags;
  take_options(s, &o, budget);
  s->file = parent->file;
  s->map.file = parent->file;
  s->uncached = parent->uncached;
  s->align = parent->align;
  s->borrowed = 1;
  rc = start_file(s, NULL, -1, &o, parent->at.size, MMF__SRC_BYTES);
  if (rc)
    (void)mmf__src_close(s);
  return rc;
}

int mmf__src_next(mmf__src *s, size_t keep, mmf__span *span) {
  int rc;
  if (keep > s->cur.n)
    keep = s->cur.n;
  if (s->rd.pending) {
    /* What open_by_reading() read comes first. */
    memset(span, 0, sizeof *span);
    span->p = s->rd.buf;
    span->n = s->rd.fill;
    span->final = s->at.ended;
    s->rd.pending = 0;
    s->cur = *span;
    return 0;
  }
  rc = s->engine->next(s, keep, span);
  if (rc) {
    memset(span, 0, sizeof *span);
    return rc; /* s->cur stays: a retry keeps from it */
  }
  s->cur = *span;
  return 0;
}

int mmf__src_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx) {
  return s->engine->guard(s, fn, ctx);
}

int mmf__src_close(mmf__src *s) {
  int rc = 0, erc;
  /* Every engine's part, whichever ran last: a hand-over leaves nothing
   * behind, and each close is harmless on an engine that never ran. */
  if (s->map.base)
    rc = mmf__windows_engine.close(s);
  (void)mmf__read_engine.close(s);
  if (s->cursor) {
    erc = mmf__cursor_engine.close(s);
    if (!rc)
      rc = erc;
  }
  if (s->dr.buf) {
    erc = mmf__direct_engine.close(s);
    if (!rc)
      rc = erc;
  }
  if (!s->borrowed) {
    mmf__os_close(&s->file);
    mmf__os_close(&s->uncached);
  }
  s->file.h = MMF__NO_FILE;
  s->uncached.h = MMF__NO_FILE;
  s->map.file.h = MMF__NO_FILE;
  return rc;
}
