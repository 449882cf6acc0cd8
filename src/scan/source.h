/*
 * source.h - the input of a scan (mmf.h, "Scanning"), handed out in
 * consecutive spans.
 *
 * What the input is and whether it may be mapped is decided by the input
 * layer (src/input.h). Here one of three engines reads it, each behind the
 * same three calls (next, guard, close) and each with its own state:
 *
 *  - read (source_read.c): pread() (files) or read() (streams) into one
 *    reused buffer. Small files, streams, /proc files, and whatever the
 *    caller forces to be read.
 *  - windows (source_windows.c): the range mapped whole, or in windows of
 *    at most the budget, through an internal mmf_map, so the core's fault
 *    guard and fault classification apply unchanged. The one-shot scans
 *    use it for large files.
 *  - cursor (source_cursor.c): the public window cursor in records mode;
 *    line iterators over mapped files use it, so lines across windows and
 *    lines longer than the limit behave exactly as the cursor's records.
 *
 *  - direct (source_direct.c): large aligned reads around the page cache
 *    (O_DIRECT) into a buffer of its own. Cold files: chosen when most of
 *    a large range is not in the page cache, or forced (MMF_SCAN_DIRECT).
 *
 * The engine can change once while a scan runs: a whole-input scan by path
 * starts reading (source.c, "small files") and maps the rest when the file
 * turns out large; a file the OS refuses to map is read instead. Where the
 * scan stands in its input (mmf__src_at) is kept apart from the engines,
 * so that such a hand-over is a change of engine, nothing else.
 *
 * A caller asks for the next span and may ask for the last `keep` bytes of
 * the previous span to come again at the start of it: string searches keep
 * the bytes an occurrence straddling the boundary could start in, line
 * iterators the start of a line that continues. The bytes of a mapped
 * span are read only inside mmf__src_guard().
 */
#ifndef MMF_SOURCE_H
#define MMF_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

/* What a caller of mmf__src_open wants delivered. */
enum {
  MMF__SRC_BYTES = 0, /* plain spans */
  MMF__SRC_LINES = 1  /* spans for a line iterator ('\n' records) */
};

typedef struct mmf__span {
  const unsigned char *p;
  size_t n;    /* bytes at p; 0 only at the end of the input */
  uint64_t at; /* input offset of p[0] */
  size_t kept; /* how many of them the caller asked to keep */
  int final;   /* no byte of the range follows p[n - 1] */
  int piece;   /* a piece of a line longer than the limit (cursor) */
  int records; /* the span ends after a '\n' or at the end (cursor) */
} mmf__span;

/* A plain span (no piece, no record boundary promised). */
static inline void mmf__span_set(mmf__span *sp, const unsigned char *p,
                                 size_t n, uint64_t at, size_t kept,
                                 int final) {
  sp->p = p;
  sp->n = n;
  sp->at = at;
  sp->kept = kept;
  sp->final = final;
  sp->piece = 0;
  sp->records = 0;
}

typedef struct mmf__src mmf__src;

/* One way of reading the input. */
typedef struct mmf__engine {
  /* The next span, starting with the last `keep` bytes of the current one
   * (see mmf__src_next). */
  int (*next)(mmf__src *s, size_t keep, mmf__span *sp);
  /* fn(ctx) with the guard armed over the current span's bytes. */
  int (*guard)(mmf__src *s, int (*fn)(void *ctx), void *ctx);
  /* Release what the engine holds; 0 or the OS error of an unmap. */
  int (*close)(mmf__src *s);
} mmf__engine;

extern const mmf__engine mmf__read_engine;
extern const mmf__engine mmf__windows_engine;
extern const mmf__engine mmf__cursor_engine;
extern const mmf__engine mmf__direct_engine;

/* Where the scan stands in its input, whatever engine reads it. */
typedef struct mmf__src_at {
  uint64_t first; /* input offset of the range's first byte */
  uint64_t next;  /* input offset of the first byte not yet delivered */
  uint64_t end;   /* end of the range; UINT64_MAX: the input's end */
  uint64_t size;  /* a FILE input's size when the scan took it */
  int sized;      /* a FILE input: reading ending before `size` is a
                     truncation (or a guessed size: mmf__input_ended_early) */
  int exact;      /* the input must reach `end`, else MMF_ERANGE */
  int ended;      /* nothing of the range follows what was delivered */
} mmf__src_at;

/* The read engine's buffer. */
typedef struct mmf__src_buffer {
  unsigned char *buf; /* the span is buf[0, fill) */
  size_t cap, fill;
  int positioned;  /* pread at offsets, else read() from where it is */
  uint64_t origin; /* input offset reading started at */
  int pending;     /* buf[0, fill) is the first span, not yet handed out
                      (the small-file read of source.c) */
} mmf__src_buffer;

/* The direct engine's buffer: an anonymous map, whose first `room` bytes
 * take what a caller keeps, and whose reads land at buf + room, an
 * address aligned as the uncached descriptor needs. */
typedef struct mmf__src_direct {
  unsigned char *buf;
  size_t len, room;
  int cached; /* the uncached reads were refused: read through s->file */
} mmf__src_direct;

struct mmf__src {
  const mmf__engine *engine;
  mmf__file file;   /* read and windows engines; the cursor has its own */
  int borrowed;     /* file belongs to another source (mmf__src_open_part) */
  int io;           /* mmf_scan_options.io */
  unsigned flags;   /* mmf_scan_options.flags */
  size_t budget;    /* address space for windows; most a buffer grows */
  size_t limit;     /* longest line: budget - granularity */
  size_t keep_max;  /* most a caller keeps (mmf__src_open) */
  int exact_length; /* the options gave a length */
  mmf__src_at at;
  mmf__span cur;      /* the span delivered last */
  mmf__src_buffer rd; /* read engine */
  mmf_map map;        /* windows engine: the current window (base NULL:
                         none; offset its file offset); for every engine
                         the home of the OS error */
  mmf_window *cursor; /* cursor engine */
  /* Direct engine: the uncached descriptor (the parent's, in a part) and
   * the alignment its reads need. */
  mmf__file uncached;
  size_t align;
  mmf__src_direct dr;
  /* Last, and not cleared by mmf__src_open: the first bytes of a small
   * file, read before anything is allocated. */
  unsigned char small[8192];
};

/*
 * Open the input at path (fd < 0) or on a duplicate of fd (path NULL),
 * with opts (NULL: defaults), for `want` (MMF__SRC_BYTES or LINES).
 * keep_max is the most the caller will ask to keep (a needle's length - 1);
 * inputs whose windows could not keep that much are read instead. On
 * failure nothing is left open and the thread's OS error is set.
 */
int mmf__src_open(mmf__src *s, const char *path, int fd,
                  const mmf_scan_options *opts, int want, size_t keep_max);

/*
 * Open a source over [lo, hi) of the regular file `parent` reads (a
 * source whose at.sized is set), for a worker of a scan split in pieces
 * (scan_parallel.c): it reads the parent's file through the parent's
 * descriptor, which it does not close, with the parent's io and flags and
 * a budget of its own (at least two granularity units), and picks its
 * engine as a scan of that range would. Sources of one parent may be used
 * by several threads at once.
 */
int mmf__src_open_part(mmf__src *s, const mmf__src *parent, uint64_t lo,
                       uint64_t hi, size_t budget, size_t keep_max);

/*
 * The next span, starting with the last `keep` bytes of the previous one
 * (keep <= its length, and <= keep_max except for line iterators, which
 * keep at most the limit). s->cur (and *span) is the span; at the end
 * span->n is 0, or, with keep > 0, span->n == keep and span->final set
 * (nothing new). Returns 0 or an MMF_E* code.
 */
int mmf__src_next(mmf__src *s, size_t keep, mmf__span *span);

/* Run fn(ctx) with the guard armed over the current span's bytes;
 * fn's result or a fault's code. */
int mmf__src_guard(mmf__src *s, int (*fn)(void *ctx), void *ctx);

/* The raw OS error behind the last failure (0 if none). */
int mmf__src_os_error(const mmf__src *s);

/* Close everything; returns 0 or the OS error of an unmap. */
int mmf__src_close(mmf__src *s);

/* The read engine's buffer size (source_read.c): 256 KiB. Tests lower
 * it to cross buffer boundaries with small inputs. */
extern size_t mmf__scan_read_chunk;

/* ---- Between the source*.c files only --------------------------------- */

/* Fail with code, keeping the OS error for mmf__src_os_error(). */
int mmf__src_fail(mmf__src *s, int code, int oserr);

/*
 * Switch s to the read engine for the rest of its range, from at.next:
 * positioned (pread at offsets) or a stream read from where it is. range
 * is the number of bytes left when known (a small range gets a buffer of
 * its size), else 0. A stream's first at.next bytes are skipped first.
 */
int mmf__src_start_reading(mmf__src *s, int positioned, uint64_t range);

/* The small-file read of source.c filled s->small and the input goes on:
 * read on (positioned, or from where a stream is) into a buffer of the
 * usual size, with those bytes in front, still to be handed out. */
int mmf__src_keep_reading(mmf__src *s, int positioned);

/*
 * Switch s (a FILE range of known, exact size) to the direct engine from
 * at.next: a part uses its parent's uncached descriptor; a whole source
 * opens one (by path, else through s->file) and sets s->io to
 * MMF_SCAN_DIRECT, so that the parts of a split read the same way.
 * MMF_ENOTSUP where there is none (the OS or the file system refuses,
 * the file's size is a guess, the caller keeps too much): s->io is then
 * MMF_SCAN_READ and the caller reads through the cache instead.
 */
int mmf__src_open_direct(mmf__src *s, const char *path);

/* Switch s to the cursor engine over the input (path, or fd), at at.next. */
int mmf__src_start_cursor(mmf__src *s, const char *path, int fd);

#endif /* MMF_SOURCE_H */
