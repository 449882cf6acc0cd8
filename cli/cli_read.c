/*
 * cli_read.c - reading an input front to back through the library's
 * window cursor, for dump and peek (see cli.h, cli_reader).
 *
 * The cursor maps a regular file in windows of the budget and reads
 * streams (pipes, devices, /proc files) with read() into one reused
 * buffer; this file copies bytes out of its spans under its fault guard.
 *
 * Bytes past the end. When a mapped file is cut to a length inside a
 * page, the rest of that page stays mapped and reads as zeros: no fault
 * tells that those bytes are gone. So after each copy out of a mapped
 * span the file's size is asked again, and only the bytes still below it
 * are handed out; if any were cut, the read ends in MMF_ETRUNCATED, as a
 * fault in a later page would. A copy made before the size was asked
 * holds only bytes the file held at some moment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_test_delay(void) {
  const char *env = getenv("MMF_CLI_TEST_DELAY_MS");
  const char *mark = getenv("MMF_CLI_TEST_MARK");
  FILE *f;
  if (!env || !*env)
    return;
  if (mark && *mark) {
    f = fopen(mark, "w");
    if (f) {
      fputs("mapped\n", f);
      fclose(f);
    }
  }
  cli_os_sleep_ms((unsigned)strtoul(env, NULL, 10));
}

int cli_reader_open(cli_reader *r, const char *arg) {
  mmf_window_options wo = MMF_WINDOW_OPTIONS_INIT;
  mmf_scan_options so;
  int e, rc;
  memset(r, 0, sizeof *r);
  r->file.fd = -1;
  if (cli_source_of(arg, &r->src) != CLI_OK)
    return CLI_ERROR;
  if (r->src.path) {
    e = cli_os_open(r->src.path, 0, &r->file);
    if (e)
      return cli_fail_os(r->src.name, e);
    r->owns_fd = 1;
    r->src.kind = r->file.kind;
  } else {
    r->file.fd = r->src.fd;
  }
  cli_scan_options(&r->src, &so); /* the tests' budget, if any */
  wo.budget = so.budget;
  rc = mmf_window_open_fd(&r->w, r->file.fd, &wo);
  if (rc == 0 && r->src.start > 0)
    rc = mmf_window_seek(r->w, r->src.start);
  if (rc) {
    cli_fail_io(r->src.name, rc,
                r->w ? mmf_window_last_os_error(r->w)
                     : mmf_window_last_os_error(NULL));
    cli_reader_close(r);
    return CLI_ERROR;
  }
  r->mapped = mmf_window_is_mapped(r->w);
  return CLI_OK;
}

void cli_reader_close(cli_reader *r) {
  mmf_window_close(r->w);
  r->w = NULL;
  if (r->owns_fd)
    cli_os_close(&r->file);
  r->file.fd = -1;
}

/* The next span into r->span (r->n 0 at the end). */
static int next_span(cli_reader *r) {
  void *p;
  size_t n;
  int rc = mmf_window_next(r->w, &p, &n);
  r->span = p;
  r->n = n;
  r->used = 0;
  if (rc == 0 && n > 0 && mmf_window_is_mapped(r->w))
    cli_test_delay();
  return rc;
}

/* The unread bytes of the current span, fetching the next span when it
 * has none: *k of them, at most `want`; 0 at the end of the input. */
static int available(cli_reader *r, uint64_t want, size_t *k) {
  int rc;
  *k = 0;
  if (r->used == r->n) {
    rc = next_span(r);
    if (rc || r->n == 0)
      return rc;
  }
  *k = r->n - r->used;
  if (*k > want)
    *k = (size_t)want;
  return 0;
}

/* Read and throw away up to `want` bytes. */
static int discard(cli_reader *r, uint64_t want, uint64_t *skipped) {
  while (*skipped < want) {
    size_t k;
    int rc = available(r, want - *skipped, &k);
    if (rc || k == 0)
      return rc; /* k 0: the input ended first */
    r->used += k;
    r->pos += k;
    *skipped += k;
  }
  return 0;
}

int cli_reader_skip(cli_reader *r, uint64_t want, uint64_t *skipped) {
  uint64_t total, at, to;
  int rc;
  *skipped = 0;
  if (want == 0)
    return 0;
  at = r->src.start + r->pos;
  if (r->mapped) {
    /* A file: jump; past the end counts as the size (hexdump's rule). */
    total = mmf_window_total(r->w);
    if (at >= total)
      return 0;
    to = want > total - at ? total : at + want;
    rc = mmf_window_seek(r->w, to);
    if (rc)
      return rc;
    r->n = r->used = 0;
    *skipped = to - at;
    r->pos += *skipped;
    return 0;
  }
  if (r->used == r->n && r->src.kind == CLI_KIND_STREAM) {
    /* A device or pipe: the cursor jumps where the device allows it
     * (/dev/zero) and reads on where it does not; a stream that ends
     * first leaves it at its end. */
    to = at + want;
    rc = mmf_window_seek(r->w, to);
    if (rc == MMF_ERANGE)
      to = mmf_window_total(r->w);
    else if (rc)
      return rc;
    *skipped = to > at ? to - at : 0;
    r->pos += *skipped;
    return 0;
  }
  /* A /proc file, whose length only reading tells: read the bytes. */
  return discard(r, want, skipped);
}

typedef struct copy_job {
  const unsigned char *src;
  unsigned char *dst;
  size_t n;
} copy_job;

static int copy_fn(void *ctx) {
  copy_job *j = ctx;
  memcpy(j->dst, j->src, j->n);
  return 0;
}

/* How many of the k bytes at input position r->pos are still in the
 * file (all of them but for a file cut under a mapping). */
static size_t still_there(cli_reader *r, size_t k) {
  uint64_t size, at = r->src.start + r->pos;
  if (!r->mapped || cli_os_file_size(r->file.fd, &size) != 0)
    return k;
  if (size <= at)
    return 0;
  return size - at < k ? (size_t)(size - at) : k;
}

/* Copy k bytes of the span at `used` to dst under the cursor's guard. */
static int copy_out(cli_reader *r, unsigned char *dst, size_t k) {
  copy_job j;
  j.src = r->span + r->used;
  j.dst = dst;
  j.n = k;
  return mmf_window_guard(r->w, copy_fn, &j);
}

int cli_reader_read(cli_reader *r, void *buf, size_t n, size_t *got) {
  unsigned char *dst = buf;
  *got = 0;
  while (*got < n) {
    size_t k, kept;
    int rc = available(r, n - *got, &k);
    if (rc || k == 0)
      return rc;
    rc = copy_out(r, dst + *got, k);
    /* A fault past the new end of a cut file: the bytes before it that
     * are still in the file are good. */
    kept = rc == 0 || rc == MMF_ETRUNCATED ? still_there(r, k) : 0;
    if (rc && kept > 0 && copy_out(r, dst + *got, kept) != 0)
      kept = 0;
    r->used += kept;
    r->pos += kept;
    *got += kept;
    if (rc)
      return rc;
    if (kept < k)
      return MMF_ETRUNCATED;
  }
  return 0;
}
