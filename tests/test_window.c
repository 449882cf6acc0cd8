/*
 * test_window.c - the window cursor: arguments, spans and records (carried
 * across windows, ending exactly at a boundary, unterminated at the end,
 * longer than the limit), streams (pipes, /proc, /sys), empty inputs,
 * faults, injected failures, descriptors and mappings left behind.
 *
 * The big-file tests (beyond 4 GiB, RLIMIT_AS, placement) are in
 * test_window_big.c.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#include <io.h>
#include <windows.h>

#include "os/win/sys_win.h"
/* An anonymous pipe of C runtime descriptors, binary and not inherited. */
#define pipe(fds) _pipe((fds), 65536, _O_BINARY | _O_NOINHERIT)
#else
#include "os/posix/sys_posix.h"
#endif

#define SENTINEL_W ((mmf_window *)(uintptr_t)0x1234)

static size_t gran(void) { return mmf_granularity(); }

static mmf_window *open_w(const char *path, uint64_t budget, int delim,
                          unsigned flags) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w = NULL;
  o.budget = budget;
  o.delimiter = delim < 0 ? 0 : delim;
  o.flags = flags | (delim < 0 ? 0u : (unsigned)MMF_WINDOW_RECORDS);
  ASSERT_OK(mmf_window_open(&w, path, &o));
  ASSERT_TRUE(w != NULL);
  return w;
}

static mmf_window *open_fd_w(int fd, uint64_t budget, int delim,
                             unsigned flags) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w = NULL;
  o.budget = budget;
  o.delimiter = delim < 0 ? 0 : delim;
  o.flags = flags | (delim < 0 ? 0u : (unsigned)MMF_WINDOW_RECORDS);
  ASSERT_OK(mmf_window_open_fd(&w, fd, &o));
  ASSERT_TRUE(w != NULL);
  return w;
}

/* A deterministic generator, so a failing input can be rebuilt. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Text of n bytes: records of 1..maxlen bytes ending in '\n', and, where
 * long_every > 0, about one in long_every of length long_len. */
static unsigned char *make_records(size_t n, size_t maxlen, size_t long_every,
                                   size_t long_len) {
  unsigned char *b = malloc(n ? n : 1);
  ASSERT_TRUE(b != NULL);
  size_t i = 0;
  while (i < n) {
    size_t len = 1 + (size_t)(rnd() % maxlen);
    if (long_every && rnd() % long_every == 0)
      len = long_len;
    for (size_t k = 0; k + 1 < len && i < n; k++)
      b[i++] = (unsigned char)('a' + rnd() % 26);
    if (i < n)
      b[i++] = '\n';
  }
  return b;
}

/* ------------------------------------------------------------------------ */
/* Tokens: what a walk delivered, record by record                           */
/* ------------------------------------------------------------------------ */

typedef struct tok {
  uint64_t off;
  size_t len;
} tok;

typedef struct toks {
  tok *t;
  size_t n, cap;
} toks;

static void push(toks *ts, uint64_t off, size_t len) {
  if (ts->n == ts->cap) {
    ts->cap = ts->cap ? ts->cap * 2 : 1024;
    ts->t = realloc(ts->t, ts->cap * sizeof *ts->t);
    ASSERT_TRUE(ts->t != NULL);
  }
  ts->t[ts->n].off = off;
  ts->t[ts->n].len = len;
  ts->n++;
}

/* What the rule promises for content: each record whole if it is at most
 * limit bytes, else pieces of limit bytes and a last piece of 1..limit. */
static void expected_tokens(const unsigned char *c, size_t n, int delim,
                            size_t limit, toks *out) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && c[i] != (unsigned char)delim)
      continue;
    size_t end = i < n ? i + 1 : n; /* record [start, end) */
    if (end == start)
      break;
    size_t len = end - start;
    uint64_t off = start;
    while (len > limit) {
      push(out, off, limit);
      off += limit;
      len -= limit;
    }
    push(out, off, len);
    start = end;
  }
}

typedef struct walked {
  unsigned char *data; /* everything delivered, in order */
  size_t len;
  size_t spans;
  size_t max_span;
  toks toks;
  int end_rc; /* 0 at the end of input, or the code that stopped the walk */
} walked;

/* Walk w to its end (or the first failure), checking that spans are
 * contiguous and end where the record rule says, and collect the records
 * it delivered. size is the input size when known (else UINT64_MAX). */
static void walk(mmf_window *w, int delim, uint64_t size, walked *r) {
  size_t cap = 1 << 20;
  int after_partial = 0;
  memset(r, 0, sizeof *r);
  r->data = malloc(cap);
  ASSERT_TRUE(r->data != NULL);
  for (;;) {
    void *p = (void *)1;
    size_t len = 1;
    uint64_t before = mmf_window_tell(w);
    int rc = mmf_window_next(w, &p, &len);
    if (rc != 0) {
      ASSERT_NULL(p);
      ASSERT_EQ_U(len, 0);
      ASSERT_EQ_U(mmf_window_tell(w), before); /* nothing consumed */
      r->end_rc = rc;
      return;
    }
    if (len == 0) {
      ASSERT_NULL(p);
      ASSERT_FALSE(mmf_window_partial(w));
      /* The end repeats. */
      p = (void *)1;
      ASSERT_OK(mmf_window_next(w, &p, &len));
      ASSERT_EQ_U(len, 0);
      ASSERT_NULL(p);
      ASSERT_EQ_U(mmf_window_total(w), mmf_window_tell(w));
      return;
    }
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ_U(mmf_window_tell(w), before + len);
    ASSERT_LE_U(len, mmf_window_limit(w) + gran());
    if (r->len + len > cap) {
      while (r->len + len > cap)
        cap *= 2;
      r->data = realloc(r->data, cap);
      ASSERT_TRUE(r->data != NULL);
    }
    memcpy(r->data + r->len, p, len);
    r->len += len;
    r->spans++;
    if (len > r->max_span)
      r->max_span = len;
    if (delim < 0)
      continue;
    const unsigned char *s = p;
    bool last_at_end = size != UINT64_MAX && before + len == size;
    if (mmf_window_partial(w)) {
      /* A piece: exactly the limit, and no delimiter in it. */
      ASSERT_EQ_U(len, mmf_window_limit(w));
      ASSERT_TRUE(memchr(s, delim, len) == NULL);
      push(&r->toks, before, len);
      after_partial = 1;
      continue;
    }
    if (!last_at_end && size != UINT64_MAX)
      ASSERT_EQ(s[len - 1], delim);
    if (after_partial) {
      /* The last piece: one delimiter, at its end (or none at EOF). */
      const unsigned char *d = memchr(s, delim, len);
      ASSERT_TRUE(d == NULL ? last_at_end || size == UINT64_MAX
                            : d == s + len - 1);
      push(&r->toks, before, len);
      after_partial = 0;
      continue;
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
      if (s[i] == (unsigned char)delim) {
        push(&r->toks, before + start, i + 1 - start);
        start = i + 1;
      }
    if (start < len)
      push(&r->toks, before + start, len - start);
  }
}

static void free_walk(walked *r) {
  free(r->data);
  free(r->toks.t);
}

static void assert_same_tokens(const toks *a, const toks *b) {
  size_t n = a->n < b->n ? a->n : b->n;
  for (size_t i = 0; i < n; i++)
    if (a->t[i].off != b->t[i].off || a->t[i].len != b->t[i].len)
      FAIL("record %zu: offset %" PRIu64 " length %zu, expected offset %" PRIu64
           " length %zu",
           i, a->t[i].off, a->t[i].len, b->t[i].off, b->t[i].len);
  ASSERT_EQ_U(a->n, b->n);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

TEST(null_arguments) {
  mmf_window *w = SENTINEL_W;
  void *p = (void *)1;
  size_t len = 1;
  ASSERT_ERR(mmf_window_open(NULL, "x", NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_window_open(&w, NULL, NULL), MMF_EINVAL);
  ASSERT_NULL(w);
  w = SENTINEL_W;
  ASSERT_ERR(mmf_window_open_fd(&w, -1, NULL), MMF_EINVAL);
  ASSERT_NULL(w);
  ASSERT_ERR(mmf_window_open_fd(NULL, 0, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_window_next(NULL, &p, &len), MMF_EINVAL);
  ASSERT_NULL(p);
  ASSERT_EQ_U(len, 0);
  ASSERT_ERR(mmf_window_seek(NULL, 0), MMF_EINVAL);
  p = (void *)1;
  ASSERT_ERR(mmf_window_at(NULL, 0, 1, &p), MMF_EINVAL);
  ASSERT_NULL(p);
  ASSERT_ERR(mmf_window_guard(NULL, NULL, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_window_close(NULL));
  ASSERT_FALSE(mmf_window_partial(NULL));
  ASSERT_EQ_U(mmf_window_tell(NULL), 0);
  ASSERT_EQ_U(mmf_window_total(NULL), 0);
  ASSERT_EQ_U(mmf_window_limit(NULL), 0);
  ASSERT_FALSE(mmf_window_is_mapped(NULL));

  write_pattern(test_path("f"), 100);
  w = open_w(test_path("f"), 0, -1, 0);
  ASSERT_ERR(mmf_window_next(w, NULL, &len), MMF_EINVAL);
  ASSERT_ERR(mmf_window_next(w, &p, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_window_at(w, 0, 1, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_window_guard(w, NULL, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_window_close(w));
}

TEST(bad_options) {
  static const int bad_delims[] = {-2, 256, 1000, -100};
  static const unsigned bad_flags[] = {MMF_CREATE,
                                       MMF_LOCKED,
                                       MMF_PREALLOCATE,
                                       MMF_SYNC_ON_CLOSE,
                                       MMF_SHARED,
                                       1u << 20,
                                       MMF_SEQUENTIAL | MMF_RANDOM};
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w = SENTINEL_W;
  write_pattern(test_path("f"), 100);
  o.flags = MMF_WINDOW_RECORDS;
  for (size_t i = 0; i < sizeof bad_delims / sizeof bad_delims[0]; i++) {
    o.delimiter = bad_delims[i];
    w = SENTINEL_W;
    ASSERT_ERR(mmf_window_open(&w, test_path("f"), &o), MMF_EINVAL);
    ASSERT_NULL(w);
  }
  /* A delimiter without MMF_WINDOW_RECORDS is refused, not ignored. */
  o.flags = 0;
  o.delimiter = '\n';
  ASSERT_ERR(mmf_window_open(&w, test_path("f"), &o), MMF_EINVAL);
  o.delimiter = 0;
  for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
    o.flags = bad_flags[i];
    ASSERT_ERR(mmf_window_open(&w, test_path("f"), &o), MMF_EINVAL);
  }
  o.flags = 0;
  o.budget = 2 * gran() - 1; /* rounds down to one unit: too small */
  ASSERT_ERR(mmf_window_open(&w, test_path("f"), &o), MMF_EINVAL);
  o.budget = (uint64_t)1 << 62;
  ASSERT_ERR(mmf_window_open(&w, test_path("f"), &o), MMF_EOVERFLOW);
  ASSERT_NULL(w);
}

TEST(budget_default_and_rounding) {
  mmf_window *w;
  write_pattern(test_path("f"), 100);
  w = open_w(test_path("f"), 0, -1, 0);
  uint64_t def = sizeof(void *) >= 8 ? (uint64_t)1 << 30 : (uint64_t)64 << 20;
  ASSERT_EQ_U(mmf_window_limit(w), def - gran());
  ASSERT_TRUE(mmf_window_is_mapped(w));
  ASSERT_EQ_U(mmf_window_total(w), 100);
  ASSERT_EQ_U(mmf_window_tell(w), 0);
  ASSERT_OK(mmf_window_close(w));
  /* NULL options are the defaults too. */
  w = NULL;
  ASSERT_OK(mmf_window_open(&w, test_path("f"), NULL));
  ASSERT_EQ_U(mmf_window_limit(w), def - gran());
  ASSERT_OK(mmf_window_close(w));
  w = open_w(test_path("f"), 10 * gran() + 5, -1, 0);
  ASSERT_EQ_U(mmf_window_limit(w), 9 * gran());
  ASSERT_OK(mmf_window_close(w));
  w = open_w(test_path("f"), 2 * gran(), -1, 0);
  ASSERT_EQ_U(mmf_window_limit(w), gran());
  ASSERT_OK(mmf_window_close(w));
}

TEST(open_errors) {
  mmf_window *w = SENTINEL_W;
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  int fds = count_open_fds();
  ASSERT_ERR(mmf_window_open(&w, test_path("missing"), NULL), MMF_ENOENT);
  ASSERT_NULL(w);
  ASSERT_EQ(mmf_window_last_os_error(NULL), ENOENT);
  ASSERT_ERR(mmf_window_open(&w, test_dir(), NULL), MMF_EISDIR);
  ASSERT_NULL(w);
  write_pattern(test_path("f"), 100);
  int wo = open(test_path("f"), O_WRONLY);
  ASSERT_GE(wo, 0);
  ASSERT_ERR(mmf_window_open_fd(&w, wo, NULL), MMF_EACCES);
  close(wo);
  int ro = open(test_path("f"), O_RDONLY);
  o.flags = MMF_WINDOW_WRITE;
  ASSERT_ERR(mmf_window_open_fd(&w, ro, &o), MMF_EACCES);
  close(ro);
  /* Streams with NO_FALLBACK or WRITE cannot be walked. */
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  o.flags = MMF_NO_FALLBACK;
  ASSERT_ERR(mmf_window_open_fd(&w, pfd[0], &o), MMF_ENODEV);
#ifndef _WIN32 /* no /proc on Windows */
  if (!test_proc_copied("/proc/self/maps")) {
    ASSERT_ERR(mmf_window_open(&w, "/proc/self/maps", &o), MMF_ENODEV);
    o.flags = MMF_WINDOW_WRITE;
    ASSERT_ERR(mmf_window_open(&w, "/proc/self/maps", &o), MMF_ENODEV);
  }
#endif
  ASSERT_NULL(w);
  close(pfd[0]);
  close(pfd[1]);
  ASSERT_EQ(count_open_fds(), fds);
}

TEST(descriptor_kept_and_closed) {
  write_pattern(test_path("f"), 100);
  int fds = count_open_fds();
  int fd = open(test_path("f"), O_RDONLY);
  mmf_window *w = open_fd_w(fd, 0, -1, 0);
  close(fd); /* the cursor works on its own duplicate */
  ASSERT_EQ(count_open_fds(), fds + 1);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 100);
  ASSERT_PAT(p, 0, 100);
  ASSERT_OK(mmf_window_close(w));
  ASSERT_EQ(count_open_fds(), fds);
}

/* ------------------------------------------------------------------------ */
/* Spans without records                                                     */
/* ------------------------------------------------------------------------ */

TEST(plain_spans_cover_the_file) {
  uint64_t budget = 8 * gran();
  uint64_t size = 10 * budget + 123;
  write_pattern(test_path("f"), size);
  mmf_window *w = open_w(test_path("f"), budget, -1, 0);
  walked r;
  walk(w, -1, size, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_EQ_U(r.len, size);
  ASSERT_PAT(r.data, 0, r.len);
  ASSERT_LE_U(r.max_span, budget);
  ASSERT_EQ_U(r.spans, 11); /* budget-sized windows, and the rest */
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
}

TEST(plain_spans_after_seek) {
  uint64_t budget = 8 * gran();
  uint64_t size = 5 * budget;
  write_pattern(test_path("f"), size);
  mmf_window *w = open_w(test_path("f"), budget, -1, 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_seek(w, 3 * gran() + 7));
  ASSERT_EQ_U(mmf_window_tell(w), 3 * gran() + 7);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, 3 * gran() + 7, len);
  /* The window started at the granularity boundary below. */
  ASSERT_EQ_U(len, budget - 7);
  ASSERT_OK(mmf_window_seek(w, size));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_ERR(mmf_window_seek(w, size + 1), MMF_ERANGE);
  ASSERT_EQ_U(mmf_window_tell(w), size);
  ASSERT_OK(mmf_window_seek(w, 0));
  walked r;
  walk(w, -1, size, &r);
  ASSERT_EQ_U(r.len, size);
  ASSERT_PAT(r.data, 0, size);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

/* Walk content (already in path) and check the records against the rule. */
static void check_records_file(const char *path, const unsigned char *c,
                               size_t n, uint64_t budget, int delim,
                               unsigned flags) {
  mmf_window *w = open_w(path, budget, delim, flags);
  toks want = {0};
  walked r;
  expected_tokens(c, n, delim, mmf_window_limit(w), &want);
  walk(w, delim, n, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_EQ_U(r.len, n);
  ASSERT_MEMEQ(r.data, c, n);
  assert_same_tokens(&r.toks, &want);
  free_walk(&r);
  free(want.t);
  ASSERT_OK(mmf_window_close(w));
}

TEST(record_carried_across_a_boundary) {
  size_t budget = 4 * gran();
  size_t n = 3 * budget;
  unsigned char *c = malloc(n);
  /* Lines of 100 bytes, except one that covers offset `budget`. */
  memset(c, 'x', n);
  for (size_t i = 99; i < n; i += 100)
    c[i] = '\n';
  for (size_t i = budget - 300; i < budget + 300; i++)
    c[i] = 'y';
  c[budget - 301] = '\n';
  c[budget + 299] = '\n';
  write_file(test_path("f"), c, n);
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  /* The first span stops after the last whole line before the boundary. */
  ASSERT_EQ_U(len, budget - 300);
  ASSERT_EQ(((unsigned char *)p)[len - 1], '\n');
  ASSERT_OK(mmf_window_next(w, &p, &len));
  /* The next starts with the line that crossed it, whole. */
  ASSERT_MEMEQ(p, c + budget - 300, 600);
  ASSERT_EQ(((unsigned char *)p)[599], '\n');
  ASSERT_OK(mmf_window_close(w));
  check_records_file(test_path("f"), c, n, budget, '\n', 0);
  free(c);
}

TEST(record_ending_exactly_at_a_boundary) {
  size_t budget = 4 * gran();
  size_t n = 3 * budget + 10;
  unsigned char *c = malloc(n);
  memset(c, 'x', n);
  c[budget / 2] = '\n';
  c[budget - 1] = '\n'; /* the first window's last byte */
  c[budget + budget / 2] = '\n';
  c[2 * budget - 1] = '\n'; /* the second window's last byte */
  c[2 * budget + budget / 2] = '\n';
  c[n - 1] = '\n';
  write_file(test_path("f"), c, n);
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, budget); /* the whole window */
  ASSERT_EQ_U(mmf_window_tell(w), budget);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, budget);
  ASSERT_MEMEQ(p, c + budget, budget);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, budget / 2 + 1);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, n - (2 * budget + budget / 2 + 1));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

TEST(no_delimiter_at_eof) {
  static const char text[] = "alpha\nbeta\ngamma without newline";
  write_file(test_path("f"), text, sizeof text - 1);
  mmf_window *w = open_w(test_path("f"), 0, '\n', 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  /* Everything, the unterminated last record included: it is whole. */
  ASSERT_EQ_U(len, sizeof text - 1);
  ASSERT_MEMEQ(p, text, len);
  ASSERT_FALSE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_close(w));

  /* Across windows: the unterminated tail is its own last span. */
  size_t budget = 4 * gran(), n = 2 * budget + 500;
  unsigned char *c = malloc(n);
  memset(c, 'z', n);
  for (size_t i = 49; i < n - 500; i += 50)
    c[i] = '\n';
  write_file(test_path("g"), c, n);
  w = open_w(test_path("g"), budget, '\n', 0);
  walked r;
  walk(w, '\n', n, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_EQ_U(r.len, n);
  size_t last_nl = n - 1;
  while (c[last_nl] != '\n')
    last_nl--;
  ASSERT_EQ_U(r.toks.t[r.toks.n - 1].len, n - last_nl - 1);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

/* content: short lines, a record of long_len bytes at long_at, short lines */
static unsigned char *with_long_record(size_t n, size_t long_at,
                                       size_t long_len) {
  unsigned char *c = malloc(n);
  memset(c, 's', n);
  for (size_t i = 9; i < long_at; i += 10)
    c[i] = '\n';
  c[long_at - 1] = '\n';
  c[long_at + long_len - 1] = '\n';
  for (size_t i = long_at + long_len + 9; i < n; i += 10)
    c[i] = '\n';
  return c;
}

TEST(record_longer_than_the_limit_efbig) {
  size_t budget = 8 * gran(), limit = budget - gran();
  size_t long_at = 3 * gran() + 20, n = long_at + limit + 1 + 1000;
  unsigned char *c = with_long_record(n, long_at, limit + 1);
  write_file(test_path("f"), c, n);
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  void *p;
  size_t len;
  uint64_t got = 0;
  int rc;
  while ((rc = mmf_window_next(w, &p, &len)) == 0 && len > 0)
    got += len;
  ASSERT_ERR(rc, MMF_EFBIG);
  ASSERT_NULL(p);
  ASSERT_EQ_U(len, 0);
  /* Everything before the record came, and nothing of it. */
  ASSERT_EQ_U(got, long_at);
  ASSERT_EQ_U(mmf_window_tell(w), long_at);
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_EFBIG);
  ASSERT_EQ_U(mmf_window_tell(w), long_at);
  /* The caller can step over it. */
  ASSERT_OK(mmf_window_seek(w, long_at + limit + 1));
  got = 0;
  while ((rc = mmf_window_next(w, &p, &len)) == 0 && len > 0) {
    ASSERT_MEMEQ(p, c + long_at + limit + 1 + got, len);
    got += len;
  }
  ASSERT_OK(rc);
  ASSERT_EQ_U(got, 1000);
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

TEST(too_long_record_behind_short_ones_in_one_window) {
  /* A short record and a record of limit + 1 bytes fit in one window
   * together: the span must still stop before the long one. */
  size_t budget = 8 * gran(), limit = budget - gran();
  size_t n = 10 + limit + 1 + 5;
  unsigned char *c = malloc(n);
  memcpy(c, "123456789\n", 10);
  memset(c + 10, 'L', limit);
  c[10 + limit] = '\n';
  memcpy(c + 11 + limit, "tail\n", 5);
  write_file(test_path("f"), c, n);
  void *p;
  size_t len;
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 10);
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_EFBIG);
  ASSERT_EQ_U(mmf_window_tell(w), 10);
  ASSERT_OK(mmf_window_close(w));
  w = open_w(test_path("f"), budget, '\n', MMF_WINDOW_SPLIT_LONG);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 10);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, limit);
  ASSERT_TRUE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 1); /* the last piece: just the delimiter */
  ASSERT_FALSE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 5);
  ASSERT_MEMEQ(p, "tail\n", 5);
  ASSERT_OK(mmf_window_close(w));
  check_records_file(test_path("f"), c, n, budget, '\n', MMF_WINDOW_SPLIT_LONG);
  free(c);
}

TEST(record_of_exactly_the_limit_is_whole) {
  size_t budget = 8 * gran(), limit = budget - gran();
  /* At every alignment class that matters: the window must reach it. */
  static const size_t starts[] = {0, 1, 17, 4095, 4096, 4097};
  for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
    size_t long_at = 2 * gran() + starts[k] + 10;
    size_t n = long_at + limit + 300;
    unsigned char *c = with_long_record(n, long_at, limit);
    write_file(test_path("f"), c, n);
    check_records_file(test_path("f"), c, n, budget, '\n', 0);
    /* The record is delivered as one piece of one span. */
    mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
    ASSERT_OK(mmf_window_seek(w, long_at));
    void *p;
    size_t len;
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_GE_U(len, limit);
    ASSERT_TRUE(memchr(p, '\n', limit - 1) == NULL);
    ASSERT_EQ(((unsigned char *)p)[limit - 1], '\n');
    ASSERT_OK(mmf_window_close(w));
    free(c);
  }
}

TEST(unterminated_last_record_at_the_limit) {
  size_t budget = 8 * gran(), limit = budget - gran();
  void *p;
  size_t len;
  /* limit bytes without a delimiter, then EOF: a whole record, delivered
   * with the one before it. */
  unsigned char *c = malloc(limit + 11);
  memset(c, 'q', limit + 11);
  c[9] = '\n';
  write_file(test_path("f"), c, 10 + limit);
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 10 + limit);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_close(w));
  /* One byte more is too long. */
  write_file(test_path("f"), c, 10 + limit + 1);
  w = open_w(test_path("f"), budget, '\n', 0);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 10);
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_EFBIG);
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

TEST(split_long_records_in_pieces) {
  size_t budget = 8 * gran(), limit = budget - gran();
  size_t long_at = 5 * gran() + 3, long_len = 2 * limit + limit / 2;
  size_t n = long_at + long_len + 5000;
  unsigned char *c = with_long_record(n, long_at, long_len);
  write_file(test_path("f"), c, n);
  check_records_file(test_path("f"), c, n, budget, '\n', MMF_WINDOW_SPLIT_LONG);
  /* The pieces themselves, and the flag. */
  mmf_window *w = open_w(test_path("f"), budget, '\n', MMF_WINDOW_SPLIT_LONG);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_seek(w, long_at));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, limit);
  ASSERT_TRUE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, limit);
  ASSERT_TRUE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, long_len - 2 * limit);
  ASSERT_FALSE(mmf_window_partial(w));
  ASSERT_EQ(((unsigned char *)p)[len - 1], '\n');
  /* Then ordinary spans again. */
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 5000);
  /* seek clears the flag. */
  ASSERT_OK(mmf_window_seek(w, long_at));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_TRUE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_seek(w, 0));
  ASSERT_FALSE(mmf_window_partial(w));
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

TEST(split_long_unterminated_at_eof) {
  size_t budget = 8 * gran(), limit = budget - gran();
  size_t n = 20 + 2 * limit + 5;
  unsigned char *c = malloc(n);
  memset(c, 'u', n);
  c[19] = '\n';
  write_file(test_path("f"), c, n);
  check_records_file(test_path("f"), c, n, budget, '\n', MMF_WINDOW_SPLIT_LONG);
  free(c);
}

TEST(random_records_files) {
  /* Many shapes: short and long records, several budgets, a NUL
   * delimiter, with and without pieces. */
  for (int round = 0; round < 12; round++) {
    size_t budget = (size_t)(2 + round % 5) * gran();
    size_t limit = budget - gran();
    size_t n = (size_t)(1 + rnd() % 6) * budget + (size_t)(rnd() % gran());
    int delim = round % 4 == 3 ? 0 : '\n';
    unsigned char *c = make_records(n, 200, round % 2 ? 50 : 0,
                                    limit + (size_t)(rnd() % (2 * limit)));
    if (delim == 0)
      for (size_t i = 0; i < n; i++)
        c[i] = c[i] == '\n' ? 0 : c[i];
    write_file(test_path("f"), c, n);
    check_records_file(test_path("f"), c, n, budget, delim,
                       MMF_WINDOW_SPLIT_LONG);
    free(c);
  }
}

TEST(large_budget_records_and_2mib_windows) {
  /* Budgets of 16 MiB and more start windows at 2 MiB boundaries; the
   * rule must not depend on it. */
  size_t budget = (size_t)16 << 20, limit = budget - gran();
  size_t n = (size_t)70 << 20;
  unsigned char *c = make_records(n, 3000, 0, 0);
  /* Two records of exactly the limit, at awkward places. */
  size_t a = ((size_t)17 << 20) + 12345;
  memset(c + a, 'L', limit);
  c[a - 1] = '\n';
  c[a + limit - 1] = '\n';
  size_t b = ((size_t)40 << 20) - 3;
  memset(c + b, 'M', limit);
  c[b - 1] = '\n';
  c[b + limit - 1] = '\n';
  write_file(test_path("f"), c, n);
  check_records_file(test_path("f"), c, n, budget, '\n', 0);
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct feeder {
  int fd;
  const unsigned char *data;
  size_t n;
} feeder;

#ifndef _WIN32
/* Write the data into the pipe in chunks of random size. */
static int feed(void *arg) {
  feeder *f = arg;
  size_t i = 0;
  while (i < f->n) {
    size_t k = 1 + (size_t)(rnd() % 100000);
    if (k > f->n - i)
      k = f->n - i;
    ssize_t wr = write(f->fd, f->data + i, k);
    if (wr < 0 && errno == EINTR)
      continue;
    if (wr <= 0)
      return 1;
    i += (size_t)wr;
  }
  return 0;
}
#endif

#ifdef _WIN32
/* No fork(): a thread of this process fills the pipe, with its own chunk
 * sizes (the generator's state belongs to the test's thread). *child is
 * an index into feeders; wait_child joins the thread and gives its result
 * as the status of an exit. */
typedef struct win_feeder {
  feeder f;
  HANDLE thread;
  DWORD result;
} win_feeder;

static win_feeder feeders[16];
static int n_feeders;

static DWORD WINAPI feed_thread(LPVOID arg) {
  win_feeder *wf = arg;
  uint64_t state = 0x2545F4914F6CDD1Du;
  size_t i = 0;
  while (i < wf->f.n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    size_t k = 1 + (size_t)(state % 100000);
    if (k > wf->f.n - i)
      k = wf->f.n - i;
    int wr = _write(wf->f.fd, wf->f.data + i, (unsigned)k);
    if (wr <= 0)
      break;
    i += (size_t)wr;
  }
  /* The writer's end goes with the writer: the reader then sees the end. */
  _close(wf->f.fd);
  return i == wf->f.n ? 0 : 1;
}

static pid_t start_feeder(feeder f) {
  ASSERT_TRUE(n_feeders < (int)(sizeof feeders / sizeof feeders[0]));
  win_feeder *wf = &feeders[n_feeders];
  wf->f = f;
  wf->thread = CreateThread(NULL, 0, feed_thread, wf, 0, NULL);
  ASSERT_TRUE(wf->thread != NULL);
  return (pid_t)n_feeders++;
}

static int wait_feeder(pid_t child) {
  win_feeder *wf = &feeders[child];
  ASSERT_EQ(WaitForSingleObject(wf->thread, INFINITE), WAIT_OBJECT_0);
  ASSERT_TRUE(GetExitCodeThread(wf->thread, &wf->result));
  CloseHandle(wf->thread);
  return (int)(wf->result & 0xff) << 8;
}
#define wait_child(child) wait_feeder(child)
#endif

/* A cursor over a pipe that a child fills with data; *child for waiting. */
static mmf_window *pipe_window(const unsigned char *data, size_t n,
                               uint64_t budget, int delim, unsigned flags,
                               pid_t *child) {
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  feeder f = {pfd[1], data, n};
#ifdef _WIN32
  *child = start_feeder(f); /* the thread closes pfd[1] */
#else
  *child = start_child(feed, &f);
  close(pfd[1]);
#endif
  mmf_window *w = open_fd_w(pfd[0], budget, delim, flags);
  close(pfd[0]);
  return w;
}

TEST(pipe_input_plain) {
  size_t n = (size_t)5 << 20;
  unsigned char *c = malloc(n);
  fill_pat(c, 0, n);
  pid_t child;
  mmf_window *w = pipe_window(c, n, 0, -1, 0, &child);
  ASSERT_FALSE(mmf_window_is_mapped(w));
  ASSERT_EQ_U(mmf_window_total(w), MMF_WINDOW_UNKNOWN);
  void *p;
  ASSERT_OK(mmf_window_seek(w, 0)); /* where it is: nothing to skip */
  ASSERT_ERR(mmf_window_at(w, 0, 1, &p), MMF_ENOTSUP);
  walked r;
  walk(w, -1, UINT64_MAX, &r);
  ASSERT_ERR(mmf_window_seek(w, 0), MMF_ENOTSUP); /* a stream cannot go back */
  ASSERT_OK(r.end_rc);
  ASSERT_EQ_U(r.len, n);
  ASSERT_PAT(r.data, 0, n);
  ASSERT_EQ_U(mmf_window_total(w), n);
  ASSERT_LE_U(r.max_span, (size_t)1 << 20); /* the buffer stays 1 MiB */
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
  ASSERT_EXITED(wait_child(child), 0);
  free(c);
}

TEST(pipe_records_match_file_records) {
  /* The same content gives the same records, pieces included, whether it
   * is mapped or streamed. */
  for (int round = 0; round < 6; round++) {
    size_t budget = (size_t)(2 + round) * gran(), limit = budget - gran();
    size_t n = (size_t)(3 + round) * budget + (size_t)(rnd() % 999);
    unsigned char *c = make_records(n, 300, 40, limit + rnd() % limit);
    write_file(test_path("f"), c, n);
    unsigned flags = MMF_WINDOW_SPLIT_LONG;
    toks want = {0};
    expected_tokens(c, n, '\n', limit, &want);
    pid_t child;
    mmf_window *w = pipe_window(c, n, budget, '\n', flags, &child);
    walked r;
    walk(w, '\n', UINT64_MAX, &r);
    ASSERT_OK(r.end_rc);
    ASSERT_EQ_U(r.len, n);
    ASSERT_MEMEQ(r.data, c, n);
    assert_same_tokens(&r.toks, &want);
    ASSERT_EQ_U(mmf_window_total(w), n);
    free_walk(&r);
    ASSERT_OK(mmf_window_close(w));
    ASSERT_EXITED(wait_child(child), 0);
    check_records_file(test_path("f"), c, n, budget, '\n', flags);
    free(want.t);
    free(c);
  }
}

TEST(pipe_record_too_long_efbig) {
  size_t budget = 4 * gran(), limit = budget - gran();
  size_t long_at = 1000, n = long_at + limit + 1 + 100;
  unsigned char *c = with_long_record(n, long_at, limit + 1);
  pid_t child;
  mmf_window *w = pipe_window(c, n, budget, '\n', 0, &child);
  walked r;
  walk(w, '\n', UINT64_MAX, &r);
  ASSERT_ERR(r.end_rc, MMF_EFBIG);
  ASSERT_EQ_U(r.len, long_at);
  ASSERT_EQ_U(mmf_window_tell(w), long_at);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
  /* The child may die of SIGPIPE: we stopped reading. */
  (void)wait_child(child);
  free(c);
}

TEST(stream_read_from_current_position) {
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  ASSERT_EQ(write(pfd[1], "skip:rest\n", 10), 10);
  close(pfd[1]);
  char five[5];
  ASSERT_EQ(read(pfd[0], five, 5), 5);
  mmf_window *w = open_fd_w(pfd[0], 0, '\n', 0);
  close(pfd[0]);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 5);
  ASSERT_MEMEQ(p, "rest\n", 5);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_EQ_U(mmf_window_total(w), 5);
  ASSERT_OK(mmf_window_close(w));
}

TEST(nonblocking_pipe_eagain) {
#ifdef _WIN32
  SKIP("Windows pipes of the C runtime have no O_NONBLOCK (fcntl F_SETFL)");
#else
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  ASSERT_EQ(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
  mmf_window *w = open_fd_w(pfd[0], 0, '\n', 0);
  void *p;
  size_t len;
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_EAGAIN);
  ASSERT_EQ(mmf_window_last_os_error(w), EAGAIN);
  ASSERT_EQ(write(pfd[1], "par", 3), 3);
  /* A part of a record is kept, not delivered. */
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_EAGAIN);
  ASSERT_EQ(write(pfd[1], "tial\nnext", 9), 9);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 8);
  ASSERT_MEMEQ(p, "partial\n", 8);
  close(pfd[1]);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_MEMEQ(p, "next", 4);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_close(w));
  close(pfd[0]);
#endif
}

TEST(proc_self_maps) {
#ifdef _WIN32
  SKIP("Windows has no /proc");
#else
  const char *why = test_proc_copied("/proc/self/maps");
  if (why)
    SKIP("%s", why);
  mmf_window *w = open_w("/proc/self/maps", 0, '\n', 0);
  ASSERT_FALSE(mmf_window_is_mapped(w));
  ASSERT_EQ_U(mmf_window_total(w), MMF_WINDOW_UNKNOWN);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_GT(len, 0);
  char first[256];
  const char *s = p;
  const char *nl = memchr(s, '\n', len);
  ASSERT_TRUE(nl != NULL);
  size_t fl =
      (size_t)(nl - s) < sizeof first - 1 ? (size_t)(nl - s) : sizeof first - 1;
  memcpy(first, s, fl);
  first[fl] = '\0';
  ASSERT_TRUE(strchr(first, '-') != NULL); /* "start-end perms ..." */
  ASSERT_OK(mmf_window_seek(w, 0));        /* /proc files can seek */
  walked r;
  walk(w, '\n', UINT64_MAX, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_GT(r.len, 0);
  ASSERT_EQ(r.data[r.len - 1], '\n');
  ASSERT_EQ(memcmp(r.data, first, fl), 0);
  ASSERT_EQ_U(mmf_window_total(w), r.len);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));

  /* A tiny budget: lines of /proc/self/maps still come whole. */
  w = open_w("/proc/self/maps", 2 * gran(), '\n', 0);
  walk(w, '\n', UINT64_MAX, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_GT(r.len, 0);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
#endif
}

TEST(sys_file_that_refuses_mmap) {
#ifdef _WIN32
  SKIP("Windows has no /sys (window_refused_mapping_falls_back_to_reading "
       "covers the fallback)");
#else
  /* sysfs attributes report 4096 bytes but cannot be mapped: the cursor
   * reads them instead, and the size it reports is what was there. */
  const char *path = "/sys/kernel/mm/transparent_hugepage/enabled";
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size == 0)
    SKIP("%s: not available", path);
  int fd = open(path, O_RDONLY);
  void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  char want[8192];
  ssize_t wn = pread(fd, want, sizeof want, 0);
  close(fd);
  if (m != MAP_FAILED) {
    munmap(m, 4096);
    SKIP("%s can be mapped here", path);
  }
  ASSERT_GT(wn, 0);
  mmf_window *w = open_w(path, 0, '\n', 0);
  walked r;
  walk(w, '\n', UINT64_MAX, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_EQ_U(r.len, (size_t)wn);
  ASSERT_MEMEQ(r.data, want, r.len);
  ASSERT_FALSE(mmf_window_is_mapped(w));
  ASSERT_EQ_U(mmf_window_total(w), (uint64_t)wn);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  o.flags = MMF_NO_FALLBACK;
  w = NULL;
  ASSERT_OK(mmf_window_open(&w, path, &o));
  void *p;
  size_t len;
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_ENODEV);
  ASSERT_OK(mmf_window_close(w));
#endif
}

TEST(empty_inputs) {
  static const int delims[] = {-1, '\n'};
  for (size_t k = 0; k < 2; k++) {
    void *p = (void *)1;
    size_t len = 1;
    write_file(test_path("empty"), NULL, 0);
    mmf_window *w = open_w(test_path("empty"), 0, delims[k], 0);
    ASSERT_TRUE(mmf_window_is_mapped(w));
    ASSERT_EQ_U(mmf_window_total(w), 0);
    for (int i = 0; i < 2; i++) {
      ASSERT_OK(mmf_window_next(w, &p, &len));
      ASSERT_NULL(p);
      ASSERT_EQ_U(len, 0);
    }
    ASSERT_EQ_U(mmf_window_tell(w), 0);
    p = (void *)1;
    ASSERT_OK(mmf_window_at(w, 0, 0, &p));
    ASSERT_NULL(p);
    ASSERT_ERR(mmf_window_at(w, 0, 1, &p), MMF_ERANGE);
    ASSERT_OK(mmf_window_seek(w, 0));
    ASSERT_ERR(mmf_window_seek(w, 1), MMF_ERANGE);
    ASSERT_OK(mmf_window_close(w));

    /* An empty pipe. */
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    close(pfd[1]);
    w = open_fd_w(pfd[0], 0, delims[k], 0);
    close(pfd[0]);
    p = (void *)1;
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_NULL(p);
    ASSERT_EQ_U(len, 0);
    ASSERT_EQ_U(mmf_window_total(w), 0);
    ASSERT_OK(mmf_window_close(w));
  }
}

/* ------------------------------------------------------------------------ */
/* Random access                                                             */
/* ------------------------------------------------------------------------ */

TEST(at_random_ranges) {
  size_t budget = 8 * gran(), limit = budget - gran();
  uint64_t size = 20 * (uint64_t)budget + 77;
  write_pattern(test_path("f"), size);
  mmf_window *w = open_w(test_path("f"), budget, -1, 0);
  void *p;
  for (int i = 0; i < 500; i++) {
    size_t len = 1 + (size_t)(rnd() % limit);
    uint64_t off = rnd() % (size - len + 1);
    ASSERT_OK(mmf_window_at(w, off, len, &p));
    ASSERT_PAT(p, off, len);
  }
  /* The limit exactly, at every alignment. */
  for (uint64_t off = 0; off < 2 * gran(); off += gran() / 4 + 1) {
    ASSERT_OK(mmf_window_at(w, off, limit, &p));
    ASSERT_PAT(p, off, limit);
  }
  ASSERT_ERR(mmf_window_at(w, 0, limit + 1, &p), MMF_EFBIG);
  ASSERT_NULL(p);
  ASSERT_ERR(mmf_window_at(w, size - 10, 11, &p), MMF_ERANGE);
  ASSERT_ERR(mmf_window_at(w, size + 1, 0, &p), MMF_ERANGE);
  ASSERT_OK(mmf_window_at(w, size - 10, 0, &p)); /* 0: to the end */
  ASSERT_PAT(p, size - 10, 10);
  ASSERT_ERR(mmf_window_at(w, 0, 0, &p), MMF_EFBIG); /* to the end: too long */
  /* at() leaves the position alone. */
  ASSERT_EQ_U(mmf_window_tell(w), 0);
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, 0, len);
  ASSERT_OK(mmf_window_at(w, size - 1, 1, &p));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, budget, len);
  ASSERT_OK(mmf_window_close(w));
}

/* ------------------------------------------------------------------------ */
/* Guard and faults                                                          */
/* ------------------------------------------------------------------------ */

typedef struct touch {
  const volatile unsigned char *p;
  size_t n;
  unsigned sum;
} touch;

static int touch_all(void *ctx) {
  touch *t = ctx;
  for (size_t i = 0; i < t->n; i += 512)
    t->sum += t->p[i];
  return 42;
}

TEST(guard_returns_fn_result) {
  write_pattern(test_path("f"), 3 * gran());
  mmf_window *w = open_w(test_path("f"), 0, -1, 0);
  touch t = {NULL, 0, 0};
  /* No window yet: fn simply runs. */
  ASSERT_EQ(mmf_window_guard(w, touch_all, &t), 42);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  t.p = p;
  t.n = len;
  ASSERT_EQ(mmf_window_guard(w, touch_all, &t), 42);
  ASSERT_OK(mmf_window_close(w));
  /* Over a stream's buffer too. */
#ifdef _WIN32
  /* No /proc: a pipe holding a few lines is the stream. */
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  ASSERT_EQ(write(pfd[1], "one\ntwo\n", 8), 8);
  close(pfd[1]);
  w = open_fd_w(pfd[0], 0, '\n', 0);
  close(pfd[0]);
#else
  w = open_w("/proc/self/maps", 0, '\n', 0);
#endif
  ASSERT_OK(mmf_window_next(w, &p, &len));
  t.p = p;
  t.n = len;
  ASSERT_EQ(mmf_window_guard(w, touch_all, &t), 42);
  ASSERT_OK(mmf_window_close(w));
}

TEST(truncated_under_the_cursor) {
  /* The file is cut while the window maps it: test_truncate_mapped(),
   * which on Windows needs Wine. */
  test_need_truncate_mapped();
  size_t budget = 16 * gran();
  size_t n = 4 * budget;
  unsigned char *c = malloc(n);
  memset(c, 't', n);
  for (size_t i = 99; i < n; i += 100)
    c[i] = '\n';
  write_file(test_path("f"), c, n);
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  uint64_t pos = mmf_window_tell(w);
  /* Shrink the file to a page into the current window's tail. */
  test_truncate_mapped(test_path("f"), budget / 2);
  /* The window still maps [0, budget): the cursor's search faults. */
  ASSERT_LT_U(pos, budget);
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_window_total(w), budget / 2);
  ASSERT_EQ_U(mmf_window_tell(w), budget / 2);
  /* Usable: it is at the (new) end. */
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_seek(w, 0));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, budget / 2);
  ASSERT_OK(mmf_window_close(w));

  /* A caller's access through mmf_window_guard is caught too. */
  write_file(test_path("f"), c, n);
  w = open_w(test_path("f"), budget, -1, 0);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  test_truncate_mapped(test_path("f"), 0);
  touch t = {p, len, 0};
  ASSERT_ERR(mmf_window_guard(w, touch_all, &t), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_window_total(w), 0);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_window_close(w));
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Injected failures                                                         */
/* ------------------------------------------------------------------------ */

static int mmap_calls_left;
static int mmap_errno;

#ifdef _WIN32
/* The Windows backend maps a window with CreateFileMappingW, then
 * MapViewOfFileEx: the view fails (ENOMEM, as ERROR_NOT_ENOUGH_MEMORY), or
 * the section is refused as for a device (ENODEV, as
 * ERROR_INVALID_FUNCTION, which the backend reports as MMF_ENODEV). */
#undef ENOMEM
#undef ENODEV
#define ENOMEM ERROR_NOT_ENOUGH_MEMORY
#define ENODEV ERROR_INVALID_FUNCTION

static LPVOID WINAPI failing_view(HANDLE section, DWORD access, DWORD hi,
                                  DWORD lo, SIZE_T len, LPVOID at) {
  if (mmap_errno == ENOMEM && mmap_calls_left-- <= 0) {
    SetLastError((DWORD)mmap_errno);
    return NULL;
  }
  return mmf__sys_real.MapViewOfFileEx(section, access, hi, lo, len, at);
}

static HANDLE WINAPI failing_section(HANDLE h, LPSECURITY_ATTRIBUTES sa,
                                     DWORD protect, DWORD size_hi,
                                     DWORD size_lo, LPCWSTR name) {
  if (mmap_errno == ENODEV && h != INVALID_HANDLE_VALUE &&
      mmap_calls_left-- <= 0) {
    SetLastError((DWORD)mmap_errno);
    return NULL;
  }
  return mmf__sys_real.CreateFileMappingW(h, sa, protect, size_hi, size_lo,
                                          name);
}

static void set_failing_map(void) {
  mmf__sys.MapViewOfFileEx = failing_view;
  mmf__sys.CreateFileMappingW = failing_section;
}
#else
static void *failing_mmap(void *addr, size_t len, int prot, int flags, int fd,
                          off_t off) {
  if (fd >= 0 && mmap_calls_left-- <= 0) {
    errno = mmap_errno;
    return MAP_FAILED;
  }
  return mmf__sys_real.mmap(addr, len, prot, flags, fd, off);
}
#endif

TEST(window_map_failure_is_retryable) {
  size_t budget = 4 * gran();
  uint64_t size = 6 * (uint64_t)budget;
  write_pattern(test_path("f"), size);
  /* Counted after the open: the first allocation creates the heap. */
  mmf_window *w = open_w(test_path("f"), budget, -1, 0);
  int maps = count_mappings();
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, budget);
  mmap_calls_left = 0;
  mmap_errno = ENOMEM;
#ifdef _WIN32
  set_failing_map();
#else
  mmf__sys.mmap = failing_mmap;
#endif
  ASSERT_ERR(mmf_window_next(w, &p, &len), MMF_ENOMEM);
  ASSERT_EQ(mmf_window_last_os_error(w), ENOMEM);
  ASSERT_NULL(p);
  ASSERT_EQ_U(mmf_window_tell(w), budget); /* nothing consumed */
  ASSERT_ERR(mmf_window_at(w, 0, 10, &p), MMF_ENOMEM);
  mmf__sys = mmf__sys_real;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, budget, len);
  ASSERT_EQ(count_mappings(), maps + 1); /* the current window */
  ASSERT_OK(mmf_window_close(w));
  ASSERT_EQ(count_mappings(), maps);
}

TEST(window_refused_mapping_falls_back_to_reading) {
  size_t budget = 4 * gran();
  size_t n = 5 * budget + 99;
  unsigned char *c = make_records(n, 120, 0, 0);
  write_file(test_path("f"), c, n);
  mmap_calls_left = 0;
  mmap_errno = ENODEV;
#ifdef _WIN32
  set_failing_map();
#else
  mmf__sys.mmap = failing_mmap;
#endif
  mmf_window *w = open_w(test_path("f"), budget, '\n', 0);
  ASSERT_TRUE(mmf_window_is_mapped(w)); /* not known until it tries */
  walked r;
  walk(w, '\n', UINT64_MAX, &r);
  ASSERT_OK(r.end_rc);
  ASSERT_FALSE(mmf_window_is_mapped(w));
  ASSERT_EQ_U(r.len, n);
  ASSERT_MEMEQ(r.data, c, n);
  /* Read with pread: it can still seek. */
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_seek(w, n - 1));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 1);
  ASSERT_EQ(((unsigned char *)p)[0], c[n - 1]);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
  mmf__sys = mmf__sys_real;
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct store {
  unsigned char *dst;
  const char *src;
  size_t n;
} store;

static int do_store(void *ctx) {
  store *s = ctx;
  memcpy(s->dst, s->src, s->n);
  return 0;
}

TEST(write_flag_stores_reach_the_file) {
  size_t budget = 4 * gran();
  uint64_t size = 5 * (uint64_t)budget;
  write_pattern(test_path("f"), size);
  mmf_window *w = open_w(test_path("f"), budget, -1, MMF_WINDOW_WRITE);
  void *p;
  static const uint64_t offs[] = {0, 4095, 3 * 4096 + 1, 12345, 19 * 4096};
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    ASSERT_OK(mmf_window_at(w, offs[i], 6, &p));
    store s = {p, "MARK!!", 6};
    ASSERT_OK(mmf_window_guard(w, do_store, &s));
  }
  ASSERT_OK(mmf_window_close(w));
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    char got[6];
    read_at(test_path("f"), offs[i], got, 6);
    ASSERT_MEMEQ(got, "MARK!!", 6);
  }
  ASSERT_EQ_U(file_size(test_path("f")), size);
}

TEST(read_only_window_store_is_caught) {
  write_pattern(test_path("f"), 3 * gran());
  mmf_window *w = open_w(test_path("f"), 0, -1, 0);
  void *p;
  ASSERT_OK(mmf_window_at(w, 100, 6, &p));
  store s = {p, "MARK!!", 6};
  ASSERT_ERR(mmf_window_guard(w, do_store, &s), MMF_EACCES);
  ASSERT_OK(mmf_window_close(w));
}

/* ------------------------------------------------------------------------ */
/* Nothing left behind                                                       */
/* ------------------------------------------------------------------------ */

static void walk_and_drop(mmf_window *w, int delim) {
  walked r;
  walk(w, delim, UINT64_MAX, &r);
  free_walk(&r);
  ASSERT_OK(mmf_window_close(w));
}

TEST(no_mapping_or_descriptor_left_behind) {
  size_t budget = 4 * gran(), limit = budget - gran();
  size_t n = 40 * budget;
  unsigned char *c = make_records(n, 400, 30, limit + 7);
  write_file(test_path("f"), c, n);
  /* Warm up the allocator and the guard, which keep their own mappings. */
  walk_and_drop(open_w(test_path("f"), budget, '\n', MMF_WINDOW_SPLIT_LONG),
                '\n');
#ifndef _WIN32
  walk_and_drop(open_w("/proc/self/maps", 0, '\n', 0), '\n');
#else
  {
    /* A stream, and the pipe's feeder thread: the C runtime and Wine keep
     * per-thread allocations of the first thread that ends (Wine frees an
     * exited thread's stack only when the next one exits). */
    pid_t warm;
    walk_and_drop(pipe_window(c, n, budget, '\n', MMF_WINDOW_SPLIT_LONG, &warm),
                  '\n');
    ASSERT_EXITED(wait_child(warm), 0);
  }
#endif
  int maps = count_mappings(), fds = count_open_fds();
  for (int round = 0; round < 3; round++) {
    mmf_window *w;
    void *p;
    walk_and_drop(open_w(test_path("f"), budget, '\n', MMF_WINDOW_SPLIT_LONG),
                  '\n');
    walk_and_drop(open_w(test_path("f"), budget, -1, 0), -1);
    /* Stopped by a long record, after random access. */
    w = open_w(test_path("f"), budget, '\n', 0);
    for (int i = 0; i < 50; i++)
      ASSERT_OK(mmf_window_at(w, rnd() % (n - 100), 100, &p));
    walk_and_drop(w, '\n');
    /* Closed in the middle of the walk. */
    w = open_w(test_path("f"), (size_t)16 << 20, '\n', MMF_WINDOW_SPLIT_LONG);
    size_t len;
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_OK(mmf_window_close(w));
#ifndef _WIN32 /* no /proc */
    walk_and_drop(open_w("/proc/self/maps", 2 * gran(), '\n', 0), '\n');
#endif
    pid_t child;
    w = pipe_window(c, n, budget, '\n', MMF_WINDOW_SPLIT_LONG, &child);
    walk_and_drop(w, '\n');
    ASSERT_EXITED(wait_child(child), 0);
    /* Failed opens. */
    ASSERT_ERR(mmf_window_open(&w, test_dir(), NULL), MMF_EISDIR);
    ASSERT_ERR(mmf_window_open(&w, test_path("nope"), NULL), MMF_ENOENT);
  }
  ASSERT_EQ(count_mappings(), maps);
  ASSERT_EQ(count_open_fds(), fds);
  free(c);
}

/* mmf_window_offset() tells where the span mmf_window_next() gave starts,
 * for files and streams, with and without records. */
TEST(span_offsets) {
  const size_t n = 3 * gran() + 123;
  unsigned char *c = make_records(n, 300, 40, 0);
  write_file(test_path("f"), c, n);
  for (int records = 0; records < 2; records++) {
    mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
    mmf_window *w = NULL;
    void *p;
    size_t len;
    uint64_t at = 0;
    o.budget = 2 * gran();
    if (records) {
      o.flags = MMF_WINDOW_RECORDS;
      o.delimiter = '\n';
    }
    ASSERT_OK(mmf_window_open(&w, test_path("f"), &o));
    ASSERT_EQ_U(mmf_window_offset(w), 0);
    while (mmf_window_next(w, &p, &len) == 0 && len > 0) {
      ASSERT_EQ_U(mmf_window_offset(w), at);
      ASSERT_MEMEQ(p, c + at, len);
      at += len;
    }
    ASSERT_EQ_U(at, n);
    ASSERT_OK(mmf_window_seek(w, 77));
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_EQ_U(mmf_window_offset(w), 77);
    ASSERT_OK(mmf_window_close(w));
  }
  ASSERT_EQ_U(mmf_window_offset(NULL), 0);
  free(c);
}
