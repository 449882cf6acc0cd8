/*
 * source.h - the input of a scan (mmf.h, "Scanning"): a regular file
 * read with read() or mapped, or a stream read with read(), chosen per
 * input, and handed out in consecutive spans.
 *
 * Three engines sit behind one struct:
 *
 *  - read: pread() (files) or read() (streams) into one reused buffer.
 *    Small files, streams, and whatever the caller forces to be read.
 *  - windows: the range mapped whole, or in windows of at most the budget,
 *    through an internal mmf_map, so the core's fault guard and fault
 *    classification apply unchanged. The one-shot scans use it.
 *  - cursor: the public window cursor in records mode; line iterators
 *    over mapped files use it, so lines across windows and lines longer
 *    than the limit behave exactly as the cursor's records.
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

#include "mmf_internal.h"

enum { MMF__SRC_READ = 1, MMF__SRC_WINDOWS, MMF__SRC_CURSOR };

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
  int piece;   /* cursor: a piece of a line longer than the limit */
} mmf__span;

typedef struct mmf__src {
  int engine;
  unsigned flags;     /* mmf_scan_options.flags */
  size_t budget;      /* address space for windows; most a buffer grows */
  size_t limit;       /* longest line: budget - granularity */
  uint64_t end;       /* end of the range; UINT64_MAX: the input's end */
  uint64_t size;      /* regular files: the size at open */
  size_t keep_max;    /* most a caller keeps (mmf__src_open) */
  int exact;          /* the input must reach end (ERANGE if it ends
                         first) */
  int exact_length;   /* the options gave a length */
  int sized;          /* regular file of known size: a short read is a
                         truncation, not the end */
  uint64_t next;      /* input offset of the first byte not yet delivered */
  int ended;          /* the input (or range) is exhausted */
  int pending;        /* buf[0, fill) is the first span, not yet handed
                         out (open_by_reading) */
  mmf__span cur;      /* the span delivered last */
  mmf__file file;     /* read and windows engines */
  int positioned;     /* read engine: pread at offsets, else read() */
  uint64_t origin;    /* read engine: input offset reading started at */
  unsigned char *buf; /* read engine: the span is buf[0, fill) */
  size_t cap, fill;
  mmf_map map;     /* windows engine: the current window (base NULL:
                      none; offset its file offset); for every engine
                      the home of the OS error */
  mmf_window *win; /* cursor engine */
  /* Last, and not cleared by mmf__src_open: the first bytes of a small
   * file, read before anything is allocated (open_by_reading). */
  unsigned char small[8192];
} mmf__src;

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

#endif /* MMF_SOURCE_H */
