/*
 * scan_lines.c - the line iterator (mmf.h, "Scanning").
 *
 * A loop calling memchr once per line pays a call, a setup and a branch
 * misprediction per line, which caps it near 5 GB/s on short lines. Here
 * the positions of up to BATCH '\n' bytes are found in one guarded call
 * of the SIMD positions kernel, and each mmf_lines_next() then only reads
 * the next position.
 *
 * Spans come from source.c. Read spans are plain buffers: bytes after
 * the last '\n' that are not the end of the input are kept for the next
 * span, which then holds the rest of the line. Mapped inputs go through
 * the window cursor in records mode, whose spans end after a '\n' (or at
 * the end), and which itself splits or refuses lines longer than the
 * limit; for read spans this file applies the same limit, so that lines
 * come out the same either way.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "source.h"
#include "scan.h"

#define BATCH 256

struct mmf_lines {
  mmf__src src;
  mmf__span span;  /* the current span */
  size_t i;        /* span offset of the next line's first byte */
  size_t searched; /* span bytes [0, searched) are in the batch or done */
  size_t base;     /* batch offsets are relative to span offset base */
  size_t k, npos;  /* pos[k, npos) are the '\n' bytes not yet used */
  uint32_t pos[BATCH];
  int partial;     /* the last line was a piece */
  int error;       /* sticky failure code, 0 if none */
  uint64_t offset; /* input offset of the last line */
};

static int open_lines(mmf_lines **out, const char *path, int fd,
                      const mmf_scan_options *opts) {
  mmf_lines *it;
  int rc;
  if (out)
    *out = NULL;
  if (!out) {
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  it = mmf__alloc.calloc(1, sizeof *it);
  if (!it) {
    mmf__set_thread_os_error(0);
    return MMF_ENOMEM;
  }
  rc = mmf__src_open(&it->src, path, fd, opts, MMF__SRC_LINES, 0);
  if (rc) {
    mmf__alloc.free(it);
    return rc;
  }
  *out = it;
  return 0;
}

int mmf_lines_open(mmf_lines **out, const char *path,
                   const mmf_scan_options *opts) {
  return open_lines(out, path, -1, opts);
}

int mmf_lines_open_fd(mmf_lines **out, int fd, const mmf_scan_options *opts) {
  return open_lines(out, NULL, fd, opts);
}

int mmf_lines_close(mmf_lines *it) {
  int rc;
  if (!it)
    return 0;
  rc = mmf__src_close(&it->src);
  mmf__alloc.free(it);
  return rc;
}

/* Find the next batch of '\n' positions, guarded. */
typedef struct batch_job {
  mmf_lines *it;
} batch_job;

static int find_batch(void *ctx) {
  mmf_lines *it = ((batch_job *)ctx)->it;
  size_t done = 0;
  it->base = it->searched;
  it->npos =
      mmf__byte_positions(it->span.p + it->searched, it->span.n - it->searched,
                          '\n', it->pos, BATCH, &done);
  it->k = 0;
  it->searched += done;
  return 0;
}

/* Hand out span bytes [i, i + len) as a line (or a piece) and move to
 * `next`. */
static int deliver(mmf_lines *it, size_t len, size_t next, int piece,
                   const char **line, size_t *n) {
  *line = (const char *)it->span.p + it->i;
  *n = len;
  it->offset = it->span.at + it->i;
  it->partial = piece;
  it->i = next;
  return 0;
}

/* A line of `record` bytes (counting its '\n', if it has one) that is
 * longer than the limit: its next piece, or MMF_EFBIG. */
static int too_long(mmf_lines *it, const char **line, size_t *n) {
  size_t limit = it->src.limit;
  if (!(it->src.flags & MMF_SCAN_SPLIT_LONG))
    return MMF_EFBIG; /* nothing consumed: the same answer next time */
  return deliver(it, limit, it->i + limit, 1, line, n);
}

/* Move to the next span, keeping the last `keep` bytes of this one. On
 * failure the iterator stays where it was, so that a retry (MMF_EAGAIN,
 * MMF_EFBIG) asks for the same. */
static int next_span(mmf_lines *it, size_t keep) {
  mmf__span old = it->span;
  int rc = mmf__src_next(&it->src, keep, &it->span);
  if (rc) {
    it->span = old;
    return rc;
  }
  it->i = 0;
  it->k = it->npos = 0;
  /* Kept bytes hold no '\n': they were searched. */
  it->searched = keep < it->span.n ? keep : it->span.n;
  if (it->span.n == 0)
    it->span.final = 1;
  return 0;
}

static int next_line(mmf_lines *it, const char **line, size_t *n) {
  mmf__span *sp = &it->span;
  const size_t limit = it->src.limit;
  int rc;
  for (;;) {
    size_t keep = 0;
    if (it->k < it->npos) {
      size_t d = it->base + it->pos[it->k];
      if (d + 1 - it->i > limit)
        return too_long(it, line, n);
      it->k++;
      return deliver(it, d - it->i, d + 1, 0, line, n);
    }
    if (it->searched < sp->n && !sp->piece) {
      batch_job j;
      j.it = it;
      rc = mmf__src_guard(&it->src, find_batch, &j);
      if (rc)
        return rc;
      continue;
    }
    if (it->i < sp->n) {
      /* Bytes without a '\n' after them in this span. */
      size_t rest = sp->n - it->i;
      if (sp->piece) /* the cursor's piece of a long line */
        return deliver(it, rest, sp->n, 1, line, n);
      if (sp->final || sp->records) {
        /* The input's last line, without a '\n'. */
        if (rest > limit)
          return too_long(it, line, n);
        return deliver(it, rest, sp->n, 0, line, n);
      }
      if (rest > limit)
        return too_long(it, line, n);
      keep = rest; /* the line goes on in the next span */
    } else if (sp->final) {
      return 0; /* the end, as often as asked */
    }
    rc = next_span(it, keep);
    if (rc)
      return rc;
  }
}

/* Everything but the common case of mmf_lines_next(), out of line so
 * that the common case needs no stack frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int
lines_next_slow(mmf_lines *it, const char **line, size_t *len) {
  int rc;
  if (line)
    *line = NULL;
  if (len)
    *len = 0;
  if (!it || !line || !len)
    return MMF_EINVAL;
  if (it->error)
    return it->error;
  it->partial = 0;
  rc = next_line(it, line, len);
  if (rc) {
    *line = NULL;
    *len = 0;
    /* A line too long (nothing consumed) or an empty non-blocking stream
     * can be asked again; anything else ends the walk. */
    if (rc != MMF_EFBIG && rc != MMF_EAGAIN)
      it->error = rc;
  }
  return rc;
}

int mmf_lines_next(mmf_lines *it, const char **line, size_t *len) {
  /* The common case, kept small: the next '\n' is in the batch and the
   * line is not too long. */
  if (it && line && len && it->k < it->npos && !it->error) {
    size_t i = it->i, d = it->base + it->pos[it->k];
    if (d + 1 - i <= it->src.limit) {
      it->k++;
      *line = (const char *)it->span.p + i;
      *len = d - i;
      it->offset = it->span.at + i;
      it->partial = 0;
      it->i = d + 1;
      return 0;
    }
  }
  return lines_next_slow(it, line, len);
}

bool mmf_lines_partial(const mmf_lines *it) { return it && it->partial; }

uint64_t mmf_lines_offset(const mmf_lines *it) { return it ? it->offset : 0; }

size_t mmf_lines_limit(const mmf_lines *it) { return it ? it->src.limit : 0; }

int mmf_lines_last_os_error(const mmf_lines *it) {
  return it ? mmf__src_os_error(&it->src) : mmf_last_os_error(NULL);
}

int mmf_lines_guard(mmf_lines *it, int (*fn)(void *ctx), void *ctx) {
  if (!it || !fn)
    return MMF_EINVAL;
  if (it->error)
    return it->error;
  return mmf__src_guard(&it->src, fn, ctx);
}
