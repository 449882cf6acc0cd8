/*
 * cli_input.c - reading a file or a stream through the library, span by
 * span, with every access to the bytes guarded.
 *
 * Regular files are mapped in windows with mmf_open_fd(): the whole file
 * when it fits the address-space budget, else successive windows of at
 * most the budget, each 2 MiB-congruent as the library places them. Their
 * bytes are scanned with mmf_count_byte(), mmf_find() and mmf_read(), the
 * library's guarded kernels. The last window is opened "to the end of the
 * file" (length 0), so a file that reports a size but holds fewer bytes
 * (sysfs) is read to its real end.
 *
 * Streams (pipes, FIFOs, character devices, stdin, /proc files of size 0)
 * go through the window cursor (mmf_window_open_fd), which reads them with
 * read() into one reused buffer, so memory stays bounded whatever the
 * stream's length. Its spans are raw memory: the library's raw-memory
 * kernels (mmf_count_byte_mem, mmf_find_mem, the same SIMD code as
 * mmf_count_byte and mmf_find) scan them inside mmf_window_guard().
 *
 * Files could go through the cursor too; they stay on maps because
 * cli_input_skip() then jumps for free, and mmf_count_byte() and
 * mmf_find() on a map run the same kernels under the same guard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

uint64_t cli_window_budget(void) {
  const char *env = getenv("MMF_CLI_WINDOW");
  const char *why;
  uint64_t v;
  if (env && cli_parse_size(env, UINT64_MAX, &v, &why) == 0 && v > 0)
    return v;
  return sizeof(void *) >= 8 ? (uint64_t)1 << 30 : (uint64_t)64 << 20;
}

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

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

static int open_cursor(cli_input *in) {
  mmf_window_options wo = MMF_WINDOW_OPTIONS_INIT;
  uint64_t min = 2 * (uint64_t)mmf_granularity();
  if (getenv("MMF_CLI_WINDOW")) /* tests: small buffers too */
    wo.budget = in->budget < min ? min : in->budget;
  return mmf_window_open_fd(&in->cursor, in->file.fd, &wo);
}

int cli_input_open(cli_input *in, const char *path) {
  int e, rc;
  memset(in, 0, sizeof *in);
  in->file.fd = -1;
  in->budget = cli_window_budget();
  if (!path || strcmp(path, "-") == 0) {
    in->name = path ? path : "-";
    e = cli_os_stdin(&in->file, &in->start);
  } else {
    in->name = path;
    e = cli_os_open(path, 0, &in->file);
    in->owns_fd = 1;
  }
  if (e) {
    cli_fail_os(in->name, e);
    cli_input_close(in);
    return CLI_ERROR;
  }
  /* A regular file of size 0 may still produce bytes (/proc): a stream.
   * A directory opens, as in wc; reading it gives MMF_EISDIR. */
  in->streamed = in->file.kind != CLI_KIND_REGULAR || in->file.size == 0;
  if (in->file.kind == CLI_KIND_DIRECTORY)
    in->streamed = 0;
  if (!in->streamed)
    in->size = in->file.size > in->start ? in->file.size - in->start : 0;
  if (in->streamed) {
    rc = open_cursor(in);
    if (rc) {
      cli_fail(in->name, rc);
      cli_input_close(in);
      return CLI_ERROR;
    }
  }
  return 0;
}

void cli_input_close(cli_input *in) {
  mmf_close(in->map);
  in->map = NULL;
  mmf_window_close(in->cursor);
  in->cursor = NULL;
  if (in->owns_fd)
    cli_os_close(&in->file);
  in->file.fd = -1;
}

/* ------------------------------------------------------------------------ */
/* Spans                                                                     */
/* ------------------------------------------------------------------------ */

/* Files: the window [next, next + budget), or [next, end of file). */
static int next_window(cli_input *in, cli_span *s) {
  mmf_options o;
  int rc, last;
  mmf_close(in->map);
  in->map = NULL;
  if (in->ended)
    return 0;
  memset(&o, 0, sizeof o);
  o.flags = MMF_SEQUENTIAL;
  o.offset = in->start + in->next;
  last = in->next >= in->size || in->size - in->next <= in->budget;
  o.length = last ? 0 : in->budget;
  rc = mmf_open_fd(&in->map, in->file.fd, MMF_READ, &o);
  if (rc == MMF_ERANGE && in->next < in->size)
    rc = MMF_ETRUNCATED; /* shrank since we looked */
  if (rc == MMF_ERANGE) {
    in->ended = 1; /* skipped past the end */
    return 0;
  }
  if (rc)
    return rc;
  cli_test_delay();
  in->ended = last;
  s->map = in->map;
  s->p = NULL;
  s->len = mmf_size(in->map);
  s->pos = in->next;
  in->next += s->len;
  if (s->len == 0) {
    in->ended = 1;
    s->map = NULL;
  }
  return 0;
}

static int next_span(cli_input *in, cli_span *s) {
  void *p;
  size_t n;
  int rc;
  memset(s, 0, sizeof *s);
  s->pos = in->next;
  if (in->file.kind == CLI_KIND_DIRECTORY)
    return MMF_EISDIR;
  if (!in->streamed)
    return next_window(in, s);
  rc = mmf_window_next(in->cursor, &p, &n);
  if (rc)
    return rc;
  s->p = p;
  s->len = n;
  in->next += n;
  return 0;
}

int cli_input_next(cli_input *in, cli_span *s) {
  /* Bytes left over from cli_input_read() come first. */
  if (in->cur.len > in->cur_off) {
    *s = in->cur;
    s->pos += in->cur_off;
    s->len -= in->cur_off;
    s->off += in->cur_off;
    in->cur.len = in->cur_off = 0;
    return 0;
  }
  return next_span(in, s);
}

int cli_input_skip(cli_input *in, uint64_t want, uint64_t *skipped) {
  cli_span s;
  int rc;
  *skipped = 0;
  if (in->file.kind == CLI_KIND_DIRECTORY)
    return MMF_EISDIR;
  if (!in->streamed) {
    /* Files: jump; past the end counts as the size (hexdump's rule). */
    uint64_t left = in->next < in->size ? in->size - in->next : 0;
    *skipped = want < left ? want : left;
    in->next += *skipped;
    if (want > left)
      in->ended = 1;
    return 0;
  }
  while (*skipped < want) {
    rc = cli_input_next(in, &s);
    if (rc)
      return rc;
    if (s.len == 0)
      return 0;
    if (s.len > want - *skipped) {
      /* Keep the rest for the next read or span. */
      size_t used = (size_t)(want - *skipped);
      in->cur = s;
      in->cur_off = used;
      *skipped = want;
      return 0;
    }
    *skipped += s.len;
  }
  return 0;
}

int cli_input_read(cli_input *in, void *buf, size_t n, size_t *got) {
  unsigned char *dst = buf;
  int rc;
  *got = 0;
  while (*got < n) {
    size_t k;
    if (in->cur.len <= in->cur_off) {
      in->cur_off = 0;
      rc = next_span(in, &in->cur);
      if (rc) {
        in->cur.len = 0;
        return rc;
      }
      if (in->cur.len == 0)
        return 0;
    }
    k = in->cur.len - in->cur_off;
    if (k > n - *got)
      k = n - *got;
    rc = cli_span_copy(in, &in->cur, in->cur_off, dst + *got, k);
    if (rc)
      return rc;
    in->cur_off += k;
    *got += k;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Scanning spans                                                            */
/* ------------------------------------------------------------------------ */

/* Raw spans (the cursor's) are scanned by these, inside mmf_window_guard. */
typedef struct raw_job {
  const unsigned char *p;
  size_t n;
  const unsigned char *needle;
  size_t nlen;
  unsigned char byte;
  void *dst;
  uint64_t count;
  uint64_t pos;
} raw_job;

static int raw_count(void *ctx) {
  raw_job *j = ctx;
  return mmf_count_byte_mem(j->p, j->n, j->byte, &j->count);
}

static int raw_find(void *ctx) {
  raw_job *j = ctx;
  return mmf_find_mem(j->p, j->n, j->needle, j->nlen, &j->pos);
}

static int raw_copy(void *ctx) {
  raw_job *j = ctx;
  memcpy(j->dst, j->p, j->n);
  return 0;
}

static int run_raw(cli_input *in, int (*fn)(void *), raw_job *j) {
  return mmf_window_guard(in->cursor, fn, j);
}

int cli_span_count(cli_input *in, const cli_span *s, size_t off, size_t len,
                   int byte, uint64_t *count) {
  raw_job j;
  int rc;
  *count = 0;
  if (len == 0)
    return 0;
  if (s->map)
    return mmf_count_byte(s->map, s->off + off, len, byte, count);
  memset(&j, 0, sizeof j);
  j.p = s->p + s->off + off;
  j.n = len;
  j.byte = (unsigned char)byte;
  rc = run_raw(in, raw_count, &j);
  *count = j.count;
  return rc;
}

int cli_span_find(cli_input *in, const cli_span *s, size_t off,
                  const void *needle, size_t nlen, size_t *pos) {
  raw_job j;
  uint64_t at;
  int rc;
  *pos = SIZE_MAX;
  if (off >= s->len)
    return 0;
  if (s->map) {
    rc = mmf_find(s->map, s->off + off, s->len - off, needle, nlen, &at);
    if (!rc && at != MMF_NPOS)
      *pos = (size_t)(at - s->off);
    return rc;
  }
  memset(&j, 0, sizeof j);
  j.p = s->p + s->off + off;
  j.n = s->len - off;
  j.needle = needle;
  j.nlen = nlen;
  rc = run_raw(in, raw_find, &j);
  if (!rc && j.pos != MMF_NPOS)
    *pos = off + (size_t)j.pos;
  return rc;
}

int cli_span_copy(cli_input *in, const cli_span *s, size_t off, void *dst,
                  size_t n) {
  raw_job j;
  if (n == 0)
    return 0;
  if (s->map)
    return mmf_read(s->map, s->off + off, dst, n);
  memset(&j, 0, sizeof j);
  j.p = s->p + s->off + off;
  j.n = n;
  j.dst = dst;
  return run_raw(in, raw_copy, &j);
}
