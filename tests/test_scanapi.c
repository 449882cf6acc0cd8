/*
 * test_scanapi.c - the public scans (mmf.h, "Scanning"): every function
 * against a naive reference on random files, at many offsets and lengths,
 * read and mapped, in one window and in many; the line iterator on every
 * shape of line (trailing newline or not, CRLF, empty, longer than a
 * buffer, longer than the limit); raw-memory helpers at every alignment;
 * streams (pipes, FIFOs, /proc), directories, empty files, bad arguments,
 * truncation, and descriptors left behind.
 */
/* The break-even is a tuning value (mmf.h, "Tuning"). */
#define MMF_TUNING 1
#include "scan_reference.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

static size_t gran(void) { return mmf_granularity(); }

/* The default budget: 1 GiB in a 64-bit process, 64 MiB in a 32-bit one. */
static size_t default_budget(void) {
  return sizeof(void *) >= 8 ? (size_t)1 << 30 : (size_t)64 << 20;
}

/* Bytes that make lines and matches common: 'a', 'b', '\n', '\r', any. */
static void fill_text(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned r = (unsigned)(test_rand() % 16);
    p[i] = r < 7    ? 'a'
           : r < 10 ? 'b'
           : r < 12 ? '\n'
           : r < 13 ? '\r'
                    : (unsigned char)test_rand();
  }
}

static unsigned char *random_text(size_t n) {
  unsigned char *p = malloc(n ? n : 1);
  ASSERT_TRUE(p != NULL);
  fill_text(p, n);
  return p;
}

/* ------------------------------------------------------------------------ */
/* References                                                                */
/* ------------------------------------------------------------------------ */

/* The lines (or pieces) an iterator with limit L must deliver. */
typedef struct ref_line {
  size_t off, len;
  int partial;
} ref_line;

typedef struct ref_lines_t {
  ref_line *v;
  size_t n, cap;
  int efbig; /* without SPLIT_LONG: the walk ends in MMF_EFBIG after v */
} ref_lines_t;

static void push(ref_lines_t *r, size_t off, size_t len, int partial) {
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->v = realloc(r->v, r->cap * sizeof *r->v);
    ASSERT_TRUE(r->v != NULL);
  }
  r->v[r->n].off = off;
  r->v[r->n].len = len;
  r->v[r->n].partial = partial;
  r->n++;
}

static ref_lines_t ref_split(const unsigned char *p, size_t n, size_t limit,
                             int split) {
  ref_lines_t r = {NULL, 0, 0, 0};
  size_t i = 0;
  while (i < n) {
    const unsigned char *nl = memchr(p + i, '\n', n - i);
    size_t rec = nl ? (size_t)(nl - p) + 1 - i : n - i;
    size_t text = nl ? rec - 1 : rec;
    if (rec > limit && !split) {
      r.efbig = 1;
      return r;
    }
    while (rec > limit) {
      push(&r, i, limit, 1);
      i += limit;
      rec -= limit;
      text = nl ? rec - 1 : rec;
    }
    push(&r, i, text, 0);
    i += rec;
  }
  return r;
}

/* ------------------------------------------------------------------------ */
/* One input checked by every scan                                           */
/* ------------------------------------------------------------------------ */

static const char *const needles[] = {"a",    "aa",   "aba", "ab\n",
                                      "\n\n", "\r\n", "bab", "zzzz"};
#define N_NEEDLES (sizeof needles / sizeof needles[0])

static void describe(const char *what, const mmf_scan_options *o, size_t n) {
  test_context("%s: size %zu offset %llu length %llu budget %llu io %d "
               "flags %#x",
               what, n, (unsigned long long)o->offset,
               (unsigned long long)o->length, (unsigned long long)o->budget,
               o->io, o->flags);
}

/* Walk the iterator and compare with the reference. */
static void check_lines_iter(mmf_lines *it, const unsigned char *r, size_t rn,
                             uint64_t base, size_t limit, int split) {
  ref_lines_t want = ref_split(r, rn, limit, split);
  const char *line;
  size_t len;
  ASSERT_EQ_U(mmf_lines_limit(it), limit);
  for (size_t k = 0; k < want.n; k++) {
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_TRUE(line != NULL);
    ASSERT_EQ_U(len, want.v[k].len);
    ASSERT_EQ_U(mmf_lines_offset(it), base + want.v[k].off);
    ASSERT_EQ(mmf_lines_partial(it), want.v[k].partial);
    ASSERT_MEMEQ(line, r + want.v[k].off, len);
  }
  for (int again = 0; again < 2; again++) {
    int rc = mmf_lines_next(it, &line, &len);
    ASSERT_NULL(line);
    ASSERT_EQ_U(len, 0);
    ASSERT_ERR(rc, want.efbig ? MMF_EFBIG : 0);
  }
  free(want.v);
}

/* Every scan of path (content c[0, n)) with options o, by path and by
 * descriptor, against the references over the range o selects. */
static void check_input(const char *path, const unsigned char *c, size_t n,
                        const mmf_scan_options *o) {
  size_t off = (size_t)o->offset, rn = o->length ? (size_t)o->length : n - off;
  const unsigned char *r = c + off;
  size_t limit = (o->budget ? (size_t)o->budget : default_budget());
  uint64_t v;
  limit = limit - limit % gran() - gran();
  describe(path, o, n);
  for (int by_fd = 0; by_fd < 2; by_fd++) {
    int fd = by_fd ? test_open(path, O_RDONLY) : -1;
    ASSERT_TRUE(!by_fd || fd >= 0);
#define CALL(fn, ...)                                                          \
  (by_fd ? fn##_fd(fd, __VA_ARGS__) : fn##_path(path, __VA_ARGS__))
    v = SENTINEL;
    ASSERT_OK(CALL(mmf_count_byte, o, '\n', &v));
    ASSERT_EQ_U(v, ref_count(r, rn, '\n'));
    ASSERT_OK(CALL(mmf_count_byte, o, 'a', &v));
    ASSERT_EQ_U(v, ref_count(r, rn, 'a'));
    ASSERT_OK(CALL(mmf_count_lines, o, &v));
    ASSERT_EQ_U(v, ref_lines(r, rn));
    for (size_t k = 0; k < N_NEEDLES; k++) {
      const char *x = needles[k];
      size_t m = strlen(x), at = ref_find_from(r, rn, 0, x, m);
      test_context("needle %zu by_fd %d", k, by_fd);
      ASSERT_OK(CALL(mmf_find, o, x, m, &v));
      ASSERT_EQ_U(v, at == SIZE_MAX ? MMF_NPOS : off + at);
      ASSERT_OK(CALL(mmf_count_matches, o, x, m, &v));
      ASSERT_EQ_U(v, ref_matches(r, rn, x, m, NULL));
    }
    describe(path, o, n);
    {
      mmf_lines *it = NULL;
      int split;
      mmf_scan_options lo = *o;
      for (split = 0; split < 2; split++) {
        lo.flags = o->flags | (split ? (unsigned)MMF_SCAN_SPLIT_LONG : 0u);
        ASSERT_OK(by_fd ? mmf_lines_open_fd(&it, fd, &lo)
                        : mmf_lines_open(&it, path, &lo));
        check_lines_iter(it, r, rn, off, limit, split);
        ASSERT_OK(mmf_lines_close(it));
      }
    }
#undef CALL
    if (fd >= 0)
      close(fd);
  }
  test_context_clear();
}

static void check_file_all_modes(const unsigned char *c, size_t n,
                                 uint64_t budget) {
  const char *path = test_path("in");
  size_t offs[] = {0, 1, 63, 4095, 4097, 70000};
  write_file(path, c, n);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++)
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      if (offs[k] > n)
        continue;
      o.io = io;
      o.budget = budget;
      o.offset = offs[k];
      check_input(path, c, n, &o);
      if (n - offs[k] > 3) {
        o.length = (n - offs[k]) / 2 + 1; /* a range ending mid-file */
        check_input(path, c, n, &o);
      }
    }
}

/* ------------------------------------------------------------------------ */
/* Files against the references                                              */
/* ------------------------------------------------------------------------ */

TEST(random_files_small) {
  static const size_t sizes[] = {0,   1,    2,    3,    63,   64,   65,
                                 100, 4095, 4096, 4097, 8191, 8193, 20000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    unsigned char *c = random_text(sizes[k]);
    check_file_all_modes(c, sizes[k], 0);
    free(c);
  }
}

TEST(random_files_small_windows) {
  /* Windows and buffers of two and three granularity units: every scan
   * crosses many boundaries, and lines hit the limit. */
  static const size_t sizes[] = {5000, 9000, 40000, 100003};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    unsigned char *c = random_text(sizes[k]);
    check_file_all_modes(c, sizes[k], 2 * gran());
    check_file_all_modes(c, sizes[k], 3 * gran());
    free(c);
  }
}

TEST(random_file_across_read_buffers) {
  /* Larger than the 256 KiB read buffer, smaller than the break-even. */
  size_t n = (size_t)700 << 10;
  unsigned char *c = random_text(n);
  const char *path = test_path("in");
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  write_file(path, c, n);
  o.io = MMF_SCAN_READ;
  check_input(path, c, n, &o);
  o.offset = 12345;
  o.length = 500000;
  check_input(path, c, n, &o);
  o.io = MMF_SCAN_MAP;
  check_input(path, c, n, &o);
  free(c);
}

TEST(big_file_2mib_windows) {
  /* Above the break-even, walked in 16 MiB windows that start at 2 MiB
   * boundaries, at offsets that are not. */
  size_t n = ((size_t)37 << 20) + 12345;
  unsigned char *c = random_text(n);
  const char *path = test_path("big");
  static const uint64_t offs[] = {0, 1, (2u << 20) - 1, (5u << 20) + 4097};
  write_file(path, c, n);
  ASSERT_EQ_U(mmf_scan_break_even(), (uint64_t)2 << 20);
  for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++)
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v;
      size_t off = (size_t)offs[k];
      o.io = io;
      o.budget = (uint64_t)16 << 20;
      o.offset = off;
      describe(path, &o, n);
      ASSERT_OK(mmf_count_byte_path(path, &o, '\n', &v));
      ASSERT_EQ_U(v, ref_count(c + off, n - off, '\n'));
      ASSERT_OK(mmf_count_lines_path(path, &o, &v));
      ASSERT_EQ_U(v, ref_lines(c + off, n - off));
      ASSERT_OK(mmf_count_matches_path(path, &o, "aba", 3, &v));
      ASSERT_EQ_U(v, ref_matches(c + off, n - off, "aba", 3, NULL));
      ASSERT_OK(mmf_find_path(path, &o, "zq", 2, &v));
      {
        size_t at = ref_find_from(c + off, n - off, 0, "zq", 2);
        ASSERT_EQ_U(v, at == SIZE_MAX ? MMF_NPOS : off + at);
      }
      {
        mmf_lines *it;
        ASSERT_OK(mmf_lines_open(&it, path, &o));
        check_lines_iter(it, c + off, n - off, off, ((size_t)16 << 20) - gran(),
                         0);
        ASSERT_OK(mmf_lines_close(it));
      }
    }
  test_context_clear();
  free(c);
}

TEST(occurrences_across_boundaries) {
  /* Needles planted across every 256 KiB read buffer boundary and every
   * window boundary, and dense self-overlapping runs there. */
  size_t n = (size_t)1 << 20, w = 2 * gran();
  unsigned char *c = malloc(n);
  const char *path = test_path("in");
  const char *x = "needle-XY";
  size_t m = strlen(x);
  for (size_t i = 0; i < n; i++)
    c[i] = (unsigned char)('c' + i % 7);
  for (size_t b = 256 << 10; b < n; b += 256 << 10)
    for (size_t d = 1; d < m; d++)
      if (b + 3 * m * d < n)
        memcpy(c + b - d + 3 * m * (d - 1), x, m);
  for (size_t b = w; b < n; b += 5 * w) {
    memcpy(c + b - 3, x, m);
    memset(c + b + 100 - 7, 'a', 13); /* "aa" x6 with an odd 'a' left */
  }
  write_file(path, c, n);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v;
    o.io = io;
    for (int small = 0; small < 2; small++) {
      o.budget = small ? w : 0;
      describe(path, &o, n);
      ASSERT_OK(mmf_count_matches_path(path, &o, x, m, &v));
      ASSERT_EQ_U(v, ref_matches(c, n, x, m, NULL));
      ASSERT_OK(mmf_count_matches_path(path, &o, "aa", 2, &v));
      ASSERT_EQ_U(v, ref_matches(c, n, "aa", 2, NULL));
      ASSERT_OK(mmf_count_matches_path(path, &o, "aaa", 3, &v));
      ASSERT_EQ_U(v, ref_matches(c, n, "aaa", 3, NULL));
    }
  }
  test_context_clear();
  free(c);
}

TEST(dense_self_overlapping_runs) {
  /* "aaaa..." has no point where counting "aa" can restart: the count
   * across buffers and windows must still take pairs left to right. */
  static const size_t sizes[] = {(256 << 10) + 1, (600 << 10) + 3};
  for (size_t k = 0; k < 2; k++) {
    size_t n = sizes[k];
    unsigned char *c = malloc(n);
    const char *path = test_path("aaa");
    memset(c, 'a', n);
    write_file(path, c, n);
    for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v;
      o.io = io;
      o.budget = io == MMF_SCAN_MAP ? 3 * gran() : 0;
      ASSERT_OK(mmf_count_matches_path(path, &o, "aa", 2, &v));
      ASSERT_EQ_U(v, n / 2);
      ASSERT_OK(mmf_count_matches_path(path, &o, "aaa", 3, &v));
      ASSERT_EQ_U(v, n / 3);
      o.offset = 1;
      ASSERT_OK(mmf_count_matches_path(path, &o, "aaaaa", 5, &v));
      ASSERT_EQ_U(v, (n - 1) / 5);
    }
    free(c);
  }
}

TEST(needle_longer_than_half_a_window) {
  /* A needle that windows could not keep is searched in a buffer. */
  size_t w = 2 * gran(), m = w, n = 10 * w;
  unsigned char *c = malloc(n), *x = malloc(m);
  const char *path = test_path("in");
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  memset(c, 'q', n);
  memset(x, 'q', m);
  x[0] = 'X';
  memcpy(c + 3 * w + 77, x, m);
  write_file(path, c, n);
  o.io = MMF_SCAN_MAP;
  o.budget = w;
  ASSERT_OK(mmf_find_path(path, &o, x, m, &v));
  ASSERT_EQ_U(v, 3 * w + 77);
  ASSERT_OK(mmf_count_matches_path(path, &o, x, m, &v));
  ASSERT_EQ_U(v, 1);
  free(c);
  free(x);
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                     */
/* ------------------------------------------------------------------------ */

TEST(lines_shapes) {
  static const char *const shapes[] = {
      "",           "\n",       "\n\n",       "a",
      "a\n",        "a\nb",     "a\nb\n",     "a\r\nb\r\n",
      "a\r\nb",     "\r\n\r\n", "x\n\ny\n\n", "only one line no newline",
      "a\n\n\nb\n", "\r",       "tail\r"};
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    const unsigned char *c = (const unsigned char *)shapes[k];
    size_t n = strlen(shapes[k]);
    write_file(test_path("s"), c, n);
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      o.io = io;
      check_input(test_path("s"), c, n, &o);
    }
  }
  /* The documented examples, spelled out. */
  {
    mmf_lines *it;
    const char *line;
    size_t len;
    write_file(test_path("e"), "a\n\nb", 4);
    ASSERT_OK(mmf_lines_open(&it, test_path("e"), NULL));
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_EQ_U(len, 1);
    ASSERT_EQ(line[0], 'a');
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_TRUE(line != NULL);
    ASSERT_EQ_U(len, 0);
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_EQ_U(len, 1);
    ASSERT_EQ(line[0], 'b');
    ASSERT_EQ_U(mmf_lines_offset(it), 3);
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_NULL(line);
    ASSERT_OK(mmf_lines_close(it));
  }
}

/* Text whose lines are mostly short, with some of exactly the limit
 * (counting the '\n'), one byte more, and several times the limit. */
static unsigned char *long_lines_text(size_t limit, size_t *n_out) {
  size_t cap = 40 * limit, n = 0;
  unsigned char *c = malloc(cap);
  size_t lens[] = {5,         limit - 1, limit,     limit + 1, 0, 3 * limit + 7,
                   2 * limit, 17,        limit - 2, 1};
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    size_t len = lens[k];
    for (size_t i = 0; i < len; i++, n++)
      c[n] = (unsigned char)('A' + n % 26);
    c[n++] = k % 3 == 2 ? '\r' : '\n';
    if (c[n - 1] == '\r')
      c[n++] = '\n';
  }
  for (size_t i = 0; i < limit + 3; i++) /* an unterminated long last line */
    c[n++] = 'z';
  *n_out = n;
  return c;
}

TEST(lines_longer_than_the_limit) {
  for (int b = 2; b <= 3; b++) {
    size_t budget = (size_t)b * gran(), limit = budget - gran(), n;
    unsigned char *c = long_lines_text(limit, &n);
    const char *path = test_path("long");
    write_file(path, c, n);
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      o.io = io;
      o.budget = budget;
      check_input(path, c, n, &o); /* split and not, path and fd */
      o.offset = 3;
      check_input(path, c, n, &o);
    }
    free(c);
  }
}

/* A range that ends inside a long line, at or near a multiple of the
 * limit: the range's last piece of that line, however long, is its last
 * and is not partial, even when the file goes on past the range. */
TEST(lines_range_ending_inside_a_long_line) {
  size_t budget = 2 * gran(), limit = budget - gran();
  size_t n = 4 + 4 * limit + 6;
  unsigned char *c = malloc(n);
  const char *path = test_path("cut");
  ASSERT_TRUE(c != NULL);
  memcpy(c, "abc\n", 4);
  for (size_t i = 0; i < 4 * limit; i++)
    c[4 + i] = (unsigned char)('a' + i % 23);
  memcpy(c + 4 + 4 * limit, "\nend\n\n", 6);
  write_file(path, c, n);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++)
    for (size_t from = 4; from <= 9; from += 5)
      for (size_t k = 1; k <= 2; k++)
        for (size_t d = 0; d < 3; d++) {
          mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
          o.io = io;
          o.budget = budget;
          o.offset = from;
          o.length = k * limit + d - 1; /* one short, exactly, one over */
          check_input(path, c, n, &o);  /* split and not, path and fd */
        }
  free(c);
}

TEST(lines_efbig_does_not_move) {
  size_t budget = 2 * gran(), limit = budget - gran();
  size_t n = 10 + limit + 1 + 6;
  unsigned char *c = malloc(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  memcpy(c, "short one\n", 10);
  memset(c + 10, 'L', limit);
  c[10 + limit] = '\n';
  memcpy(c + 11 + limit, "after\n", 6);
  write_file(test_path("f"), c, n);
  o.budget = budget;
  for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
    mmf_lines *it;
    const char *line;
    size_t len;
    o.io = io;
    ASSERT_OK(mmf_lines_open(&it, test_path("f"), &o));
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_EQ_U(len, 9);
    for (int k = 0; k < 3; k++) {
      line = "x";
      len = 7;
      ASSERT_ERR(mmf_lines_next(it, &line, &len), MMF_EFBIG);
      ASSERT_NULL(line);
      ASSERT_EQ_U(len, 0);
    }
    ASSERT_EQ_U(mmf_lines_offset(it), 0);
    ASSERT_OK(mmf_lines_close(it));
  }
  free(c);
}

TEST(lines_longer_than_the_read_buffer) {
  /* Default budget: a 1 MiB line read through 256 KiB buffers is one
   * line, and so are the short ones around it. */
  size_t n = ((size_t)3 << 20) + 100;
  unsigned char *c = random_text(n);
  memset(c + 1000, 'x', (size_t)1 << 20);
  write_file(test_path("f"), c, n);
  for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_lines *it;
    o.io = io;
    ASSERT_OK(mmf_lines_open(&it, test_path("f"), &o));
    check_lines_iter(it, c, n, 0, default_budget() - gran(), 0);
    ASSERT_OK(mmf_lines_close(it));
  }
  free(c);
}

static int guard_fn(void *ctx) {
  const char *line = *(const char **)ctx;
  return line[0] == 'h' ? 42 : 7;
}

TEST(lines_guard_runs_fn) {
  size_t n = ((size_t)3 << 20);
  unsigned char *c = random_text(n);
  memcpy(c, "hello\n", 6);
  write_file(test_path("f"), c, n);
  for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_lines *it;
    const char *line;
    size_t len;
    o.io = io;
    ASSERT_OK(mmf_lines_open(&it, test_path("f"), &o));
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_EQ(mmf_lines_guard(it, guard_fn, &line), 42);
    ASSERT_ERR(mmf_lines_guard(it, NULL, NULL), MMF_EINVAL);
    ASSERT_OK(mmf_lines_close(it));
  }
  ASSERT_ERR(mmf_lines_guard(NULL, guard_fn, NULL), MMF_EINVAL);
  free(c);
}

TEST(lines_truncated_under_the_iterator) {
  /* Mapped: the next window's bytes are gone, which the cursor's guarded
   * search reports as MMF_ETRUNCATED; read: a short read, the same code.
   * Never SIGBUS; the failure sticks. The file is cut while mapped:
   * test_truncate_mapped(), which on Windows needs Wine. */
  test_need_truncate_mapped();
  size_t budget = 4 * gran(), n = 64 * budget;
  unsigned char *c = random_text(n);
  for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_lines *it;
    const char *line;
    size_t len;
    int rc;
    write_file(test_path("f"), c, n);
    o.io = io;
    o.budget = budget;
    ASSERT_OK(mmf_lines_open(&it, test_path("f"), &o));
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    test_truncate_mapped(test_path("f"), 100);
    while ((rc = mmf_lines_next(it, &line, &len)) == 0 && line)
      ;
    ASSERT_ERR(rc, MMF_ETRUNCATED);
    ASSERT_ERR(mmf_lines_next(it, &line, &len), MMF_ETRUNCATED);
    ASSERT_OK(mmf_lines_close(it));
  }
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Raw memory                                                                */
/* ------------------------------------------------------------------------ */

TEST(mem_helpers_every_alignment) {
  unsigned char *buf = malloc(600);
  for (size_t align = 0; align < 64; align++)
    for (size_t n = 0; n <= 300; n += (n < 140 ? 1 : 37)) {
      unsigned char *p = buf + align;
      uint64_t v;
      uint64_t pos;
      size_t res, want_res;
      fill_text(p, n);
      test_context("align %zu n %zu", align, n);
      ASSERT_OK(mmf_count_byte_mem(p, n, '\n', &v));
      ASSERT_EQ_U(v, ref_count(p, n, '\n'));
      for (size_t k = 0; k < N_NEEDLES; k++) {
        const char *x = needles[k];
        size_t m = strlen(x);
        ASSERT_OK(mmf_find_mem(p, n, x, m, &pos));
        ASSERT_EQ_U(pos, npos_of(ref_find_from(p, n, 0, x, m)));
        ASSERT_OK(mmf_count_matches_mem(p, n, x, m, &v, NULL));
        ASSERT_EQ_U(v, ref_matches(p, n, x, m, NULL));
        ASSERT_OK(mmf_count_matches_mem(p, n, x, m, &v, &res));
        ASSERT_EQ_U(v, ref_matches(p, n, x, m, &want_res));
        ASSERT_EQ_U(res, want_res);
      }
    }
  test_context_clear();
  free(buf);
}

TEST(mem_count_matches_in_pieces) {
  /* Counting piece by piece with the resume point equals counting the
   * whole, for needles that overlap themselves and ones that do not, with
   * long runs where no restart point exists. */
  size_t n = 200000;
  unsigned char *c = random_text(n);
  static const char *const xs[] = {"a", "aa", "aaa", "aba", "abab", "ab\n"};
  memset(c + 50000, 'a', 30000);
  for (int round = 0; round < 40; round++)
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
      size_t m = strlen(xs[k]), at = 0, carry = 0, res;
      uint64_t total = 0, v;
      unsigned char *joined = malloc(n + 16);
      while (at < n) {
        size_t piece = 1 + (size_t)(test_rand() % (round < 20 ? 9000 : 40));
        if (piece > n - at)
          piece = n - at;
        /* The carried bytes, then the piece. */
        memcpy(joined + carry, c + at, piece);
        ASSERT_OK(
            mmf_count_matches_mem(joined, carry + piece, xs[k], m, &v, &res));
        total += v;
        ASSERT_LE_U(carry + piece - res, m - 1);
        memmove(joined, joined + res, carry + piece - res);
        carry = carry + piece - res;
        at += piece;
      }
      ASSERT_EQ_U(total, ref_matches(c, n, xs[k], m, NULL));
      free(joined);
    }
  free(c);
}

TEST(mem_count_matches_long_needles_in_pieces) {
  /* Needles longer than the sync search's 4 KiB tail, planted often,
   * counted in pieces shorter and longer than the needle. */
  static const size_t lens[] = {4095, 4097, 5000, 9000};
  size_t n = 400000;
  unsigned char *c = random_text(n), *x = malloc(9000);
  unsigned char *joined = malloc(n + 9000);
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    size_t m = lens[k];
    fill_text(x, m);
    for (size_t at = 1000; at + m < n; at += m + (size_t)(test_rand() % 3000))
      memcpy(c + at, x, m);
    for (int round = 0; round < 8; round++) {
      size_t at = 0, carry = 0, res;
      uint64_t total = 0, v;
      while (at < n) {
        size_t piece = 1 + (size_t)(test_rand() % (round < 4 ? 20000 : 3 * m));
        if (piece > n - at)
          piece = n - at;
        memcpy(joined + carry, c + at, piece);
        ASSERT_OK(mmf_count_matches_mem(joined, carry + piece, x, m, &v, &res));
        total += v;
        ASSERT_LE_U(carry + piece - res, m - 1);
        memmove(joined, joined + res, carry + piece - res);
        carry = carry + piece - res;
        at += piece;
      }
      test_context("needle %zu round %d", m, round);
      ASSERT_EQ_U(total, ref_matches(c, n, x, m, NULL));
    }
  }
  test_context_clear();
  free(joined);
  free(x);
  free(c);
}

TEST(mem_rare_needle_strategies) {
  /* Needles with a rare byte are searched by jumping between occurrences
   * of that byte, until the text shows it is common (a run of it), or
   * verifying costs too much ("aaa...b" in "aaaa..."): every switch must
   * keep the count and the first position exact. */
  size_t n = 60000;
  unsigned char *c = malloc(n), x[64];
  for (int round = 0; round < 300; round++) {
    size_t m = 2 + (size_t)(test_rand() % 40);
    for (size_t i = 0; i < n; i++)
      c[i] = (unsigned char)('a' + test_rand() % 4);
    for (size_t i = 0; i < m; i++)
      x[i] = (unsigned char)(test_rand() % 3 ? 'a' + test_rand() % 4
                                             : '#' + test_rand() % 3);
    for (int k = 0; k < 20; k++) { /* planted, some overlapping */
      size_t at = (size_t)(test_rand() % (n - m));
      memcpy(c + at, x, m);
    }
    for (int k = 0; k < 3; k++) { /* a run of one needle byte */
      size_t at = (size_t)(test_rand() % (n - 5000)),
             len = (size_t)(test_rand() % 5000);
      memset(c + at, x[test_rand() % m], len);
    }
    if (round % 10 == 0) { /* costly candidates */
      memset(c, 'a', n);
      memset(x, 'a', m);
      x[m - 1] = '#';
      memcpy(c + n - m - 7, x, m);
    }
    for (int k = 0; k < 4; k++) {
      size_t off = k ? (size_t)(test_rand() % n) : 0;
      size_t len = k ? (size_t)(test_rand() % (n - off + 1)) : n;
      uint64_t v, pos;
      test_context("round %d m %zu off %zu len %zu", round, m, off, len);
      ASSERT_OK(mmf_count_matches_mem(c + off, len, x, m, &v, NULL));
      ASSERT_EQ_U(v, ref_matches(c + off, len, x, m, NULL));
      ASSERT_OK(mmf_find_mem(c + off, len, x, m, &pos));
      ASSERT_EQ_U(pos, npos_of(ref_find_from(c + off, len, 0, x, m)));
    }
  }
  test_context_clear();
  free(c);
}

TEST(mem_helpers_bad_arguments) {
  uint64_t v = SENTINEL, pos = 5;
  size_t res = 5;
  ASSERT_ERR(mmf_count_byte_mem(NULL, 1, 'a', &v), MMF_EINVAL);
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_count_byte_mem("a", 1, 256, &v), MMF_EINVAL);
  ASSERT_ERR(mmf_count_byte_mem("a", 1, -1, &v), MMF_EINVAL);
  ASSERT_ERR(mmf_count_byte_mem("a", 1, 'a', NULL), MMF_EINVAL);
  ASSERT_OK(mmf_count_byte_mem(NULL, 0, 'a', &v));
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_find_mem("abc", 3, NULL, 1, &pos), MMF_EINVAL);
  ASSERT_EQ_U(pos, MMF_NPOS);
  ASSERT_ERR(mmf_find_mem("abc", 3, "b", 0, &pos), MMF_EINVAL);
  ASSERT_ERR(mmf_find_mem(NULL, 3, "b", 1, &pos), MMF_EINVAL);
  ASSERT_ERR(mmf_find_mem("abc", 3, "b", 1, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_find_mem(NULL, 0, "b", 1, &pos));
  ASSERT_EQ_U(pos, MMF_NPOS);
  ASSERT_OK(mmf_find_mem("abc", 3, "abcd", 4, &pos));
  ASSERT_EQ_U(pos, MMF_NPOS);
  v = SENTINEL;
  ASSERT_ERR(mmf_count_matches_mem("aa", 2, "a", 0, &v, &res), MMF_EINVAL);
  ASSERT_EQ_U(v, 0);
  ASSERT_EQ_U(res, 0);
  ASSERT_ERR(mmf_count_matches_mem("aa", 2, NULL, 1, &v, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_count_matches_mem("aa", 2, "a", 1, NULL, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_count_matches_mem("a", 1, "aa", 2, &v, &res));
  ASSERT_EQ_U(v, 0);
  ASSERT_EQ_U(res, 0);
}

/* ------------------------------------------------------------------------ */
/* mmf_count_matches on a map                                                */
/* ------------------------------------------------------------------------ */

TEST(count_matches_on_a_map) {
  size_t n = 50000;
  unsigned char *c = random_text(n);
  mmf_map *m;
  uint64_t v = SENTINEL;
  write_file(test_path("f"), c, n);
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_OK(mmf_count_matches(m, 0, 0, "aba", 3, &v));
  ASSERT_EQ_U(v, ref_matches(c, n, "aba", 3, NULL));
  ASSERT_OK(mmf_count_matches(m, 101, 9999, "aa", 2, &v));
  ASSERT_EQ_U(v, ref_matches(c + 101, 9999, "aa", 2, NULL));
  ASSERT_OK(mmf_count_matches(m, n, 0, "aa", 2, &v));
  ASSERT_EQ_U(v, 0);
  v = SENTINEL;
  ASSERT_ERR(mmf_count_matches(m, n + 1, 0, "aa", 2, &v), MMF_ERANGE);
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_count_matches(m, 0, n + 1, "aa", 2, &v), MMF_ERANGE);
  ASSERT_ERR(mmf_count_matches(m, 0, 0, NULL, 2, &v), MMF_EINVAL);
  ASSERT_ERR(mmf_count_matches(m, 0, 0, "aa", 0, &v), MMF_EINVAL);
  ASSERT_ERR(mmf_count_matches(m, 0, 0, "aa", 2, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_count_matches(NULL, 0, 0, "aa", 2, &v), MMF_EINVAL);
  ASSERT_OK(mmf_close(m));
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Arguments, errors, special inputs                                         */
/* ------------------------------------------------------------------------ */

TEST(bad_arguments) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  mmf_lines *it = (mmf_lines *)(uintptr_t)0x1234;
  const char *line = "x";
  size_t len = 3;
  write_file(test_path("f"), "abc\n", 4);
#define EXPECT_EINVAL_CLEARED(call, want)                                      \
  do {                                                                         \
    v = SENTINEL;                                                              \
    ASSERT_ERR(call, MMF_EINVAL);                                              \
    ASSERT_EQ_U(v, want);                                                      \
  } while (0)
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(NULL, NULL, '\n', &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), NULL, 256, &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), NULL, -1, &v), 0);
  ASSERT_ERR(mmf_count_byte_path(test_path("f"), NULL, 'a', NULL), MMF_EINVAL);
  EXPECT_EINVAL_CLEARED(mmf_count_byte_fd(-1, NULL, '\n', &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_lines_path(NULL, NULL, &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_lines_fd(-5, NULL, &v), 0);
  ASSERT_ERR(mmf_count_lines_path(test_path("f"), NULL, NULL), MMF_EINVAL);
  EXPECT_EINVAL_CLEARED(mmf_find_path(test_path("f"), NULL, NULL, 1, &v),
                        MMF_NPOS);
  EXPECT_EINVAL_CLEARED(mmf_find_path(test_path("f"), NULL, "a", 0, &v),
                        MMF_NPOS);
  EXPECT_EINVAL_CLEARED(mmf_find_path(NULL, NULL, "a", 1, &v), MMF_NPOS);
  EXPECT_EINVAL_CLEARED(mmf_find_fd(-1, NULL, "a", 1, &v), MMF_NPOS);
  ASSERT_ERR(mmf_find_path(test_path("f"), NULL, "a", 1, NULL), MMF_EINVAL);
  EXPECT_EINVAL_CLEARED(
      mmf_count_matches_path(test_path("f"), NULL, NULL, 1, &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_matches_fd(-1, NULL, "a", 1, &v), 0);
  EXPECT_EINVAL_CLEARED(mmf_count_matches_path(NULL, NULL, "a", 1, &v), 0);
  /* Options. */
  o.io = MMF_SCAN_DIRECT + 1;
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), &o, '\n', &v), 0);
  o.io = -1;
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), &o, '\n', &v), 0);
  o.io = MMF_SCAN_AUTO;
  o.flags = MMF_POPULATE;
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), &o, '\n', &v), 0);
  o.flags = 0;
  o.budget = 2 * gran() - 1;
  EXPECT_EINVAL_CLEARED(mmf_count_byte_path(test_path("f"), &o, '\n', &v), 0);
  o.budget = UINT64_MAX;
  v = SENTINEL;
  ASSERT_ERR(mmf_count_byte_path(test_path("f"), &o, '\n', &v), MMF_EOVERFLOW);
  ASSERT_EQ_U(v, 0);
  o.budget = 0;
  o.offset = 2;
  o.length = UINT64_MAX;
  ASSERT_ERR(mmf_count_byte_path(test_path("f"), &o, '\n', &v), MMF_EOVERFLOW);
  /* The iterator. */
  ASSERT_ERR(mmf_lines_open(NULL, test_path("f"), NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_lines_open(&it, NULL, NULL), MMF_EINVAL);
  ASSERT_NULL(it);
  it = (mmf_lines *)(uintptr_t)0x1234;
  ASSERT_ERR(mmf_lines_open_fd(&it, -1, NULL), MMF_EINVAL);
  ASSERT_NULL(it);
  o.offset = 0;
  o.length = 0;
  o.io = 9;
  ASSERT_ERR(mmf_lines_open(&it, test_path("f"), &o), MMF_EINVAL);
  ASSERT_ERR(mmf_lines_next(NULL, &line, &len), MMF_EINVAL);
  ASSERT_NULL(line);
  ASSERT_EQ_U(len, 0);
  ASSERT_OK(mmf_lines_open(&it, test_path("f"), NULL));
  ASSERT_ERR(mmf_lines_next(it, NULL, &len), MMF_EINVAL);
  ASSERT_ERR(mmf_lines_next(it, &line, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_lines_close(it));
  ASSERT_OK(mmf_lines_close(NULL));
  ASSERT_FALSE(mmf_lines_partial(NULL));
  ASSERT_EQ_U(mmf_lines_offset(NULL), 0);
  ASSERT_EQ_U(mmf_lines_limit(NULL), 0);
#undef EXPECT_EINVAL_CLEARED
}

TEST(paths_that_are_not_files) {
  uint64_t v;
  mmf_lines *it;
  test_mkdir(test_path("dir"));
  write_file(test_path("file"), "x", 1);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    o.io = io;
    v = SENTINEL;
    ASSERT_ERR(mmf_count_byte_path(test_path("dir"), &o, '\n', &v), MMF_EISDIR);
    ASSERT_EQ_U(v, 0);
    ASSERT_ERR(mmf_count_lines_path(test_path("dir"), &o, &v), MMF_EISDIR);
    ASSERT_ERR(mmf_find_path(test_path("dir"), &o, "a", 1, &v), MMF_EISDIR);
    ASSERT_EQ_U(v, MMF_NPOS);
    ASSERT_ERR(mmf_count_matches_path(test_path("dir"), &o, "a", 1, &v),
               MMF_EISDIR);
    ASSERT_ERR(mmf_lines_open(&it, test_path("dir"), &o), MMF_EISDIR);
    ASSERT_NULL(it);
    ASSERT_ERR(mmf_count_byte_path(test_path("missing"), &o, '\n', &v),
               MMF_ENOENT);
    ASSERT_ERR(mmf_lines_open(&it, test_path("missing"), &o), MMF_ENOENT);
#ifndef _WIN32
    ASSERT_ERR(mmf_count_byte_path(test_path("file/x"), &o, '\n', &v),
               MMF_ENOTDIR);
#endif
  }
}

TEST(empty_file) {
  write_file(test_path("empty"), NULL, 0);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v;
    o.io = io;
    check_input(test_path("empty"), (const unsigned char *)"", 0, &o);
    o.flags = MMF_NO_FALLBACK; /* empty files are files, not streams */
    ASSERT_OK(mmf_count_byte_path(test_path("empty"), &o, '\n', &v));
    o.offset = 1;
    v = SENTINEL;
    ASSERT_ERR(mmf_count_byte_path(test_path("empty"), &o, '\n', &v),
               MMF_ERANGE);
    ASSERT_EQ_U(v, 0);
  }
}

TEST(ranges_past_the_end) {
  write_file(test_path("f"), "0123456789", 10);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v;
    mmf_lines *it;
    o.io = io;
    o.offset = 10;
    ASSERT_OK(mmf_count_byte_path(test_path("f"), &o, '5', &v));
    ASSERT_EQ_U(v, 0);
    o.offset = 11;
    ASSERT_ERR(mmf_count_byte_path(test_path("f"), &o, '5', &v), MMF_ERANGE);
    ASSERT_ERR(mmf_lines_open(&it, test_path("f"), &o), MMF_ERANGE);
    o.offset = 4;
    o.length = 7;
    ASSERT_ERR(mmf_find_path(test_path("f"), &o, "5", 1, &v), MMF_ERANGE);
    o.length = 6;
    ASSERT_OK(mmf_find_path(test_path("f"), &o, "5", 1, &v));
    ASSERT_EQ_U(v, 5);
  }
}

TEST(descriptor_position_and_access) {
  int fd;
  uint64_t v;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  write_file(test_path("f"), "a\nb\nc\n", 6);
  fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  ASSERT_EQ(lseek(fd, 4, SEEK_SET), 4);
  ASSERT_OK(mmf_count_byte_fd(fd, NULL, '\n', &v)); /* from offset 0 */
  ASSERT_EQ_U(v, 3);
  o.offset = 4;
  ASSERT_OK(mmf_count_lines_fd(fd, &o, &v));
  ASSERT_EQ_U(v, 1);
  ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 4); /* not moved */
  close(fd);
  fd = test_open(test_path("f"), O_WRONLY);
  ASSERT_TRUE(fd >= 0);
  ASSERT_ERR(mmf_count_byte_fd(fd, NULL, '\n', &v), MMF_EACCES);
  close(fd);
}

TEST(no_descriptor_left_behind) {
  int before, fd;
  uint64_t v;
  mmf_lines *it;
  const char *line;
  size_t len;
  size_t n = (size_t)3 << 20;
  unsigned char *c = random_text(n);
  write_file(test_path("f"), c, n);
  test_mkdir(test_path("dir"));
  fd = test_open(test_path("f"), O_RDONLY);
  before = count_open_fds();
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    o.io = io;
    ASSERT_OK(mmf_count_byte_path(test_path("f"), &o, '\n', &v));
    ASSERT_OK(mmf_count_byte_fd(fd, &o, '\n', &v));
    ASSERT_OK(mmf_find_fd(fd, &o, "zzzzzzz", 7, &v));
    ASSERT_OK(mmf_count_matches_path(test_path("f"), &o, "ab", 2, &v));
    ASSERT_ERR(mmf_count_byte_path(test_path("dir"), &o, '\n', &v), MMF_EISDIR);
    ASSERT_ERR(mmf_count_byte_path(test_path("nope"), &o, '\n', &v),
               MMF_ENOENT);
    o.offset = n + 1;
    ASSERT_ERR(mmf_count_byte_fd(fd, &o, '\n', &v), MMF_ERANGE);
    ASSERT_ERR(mmf_lines_open(&it, test_path("f"), &o), MMF_ERANGE);
    o.offset = 0;
    ASSERT_OK(mmf_lines_open_fd(&it, fd, &o));
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_OK(mmf_lines_close(it));
    ASSERT_EQ(count_open_fds(), before);
  }
  close(fd);
  free(c);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

TEST(pipes_match_the_references) {
  static const size_t sizes[] = {0, 1, 100, 70000, (size_t)1 << 20};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t n = sizes[k];
    unsigned char *c = random_text(n);
    for (int step = 0; step < 6; step++) {
      test_fed_pipe f;
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v;
      /* Tiny writes make lines arrive in pieces; fewer for the big one
       * (Wine's pipes are slow). */
      size_t chunk = step % 2 ? (n > 100000 ? 1000 : 7) : 100000;
      size_t off = step >= 4 && n > 10 ? 9 : 0;
      int fd = test_fed_pipe_start(&f, c, n, chunk, 0);
      o.offset = off;
      o.budget = step >= 2 ? 2 * gran() : 0;
      test_context("size %zu step %d", n, step);
      switch (step % 3) {
      case 0:
        ASSERT_OK(mmf_count_byte_fd(fd, &o, '\n', &v));
        ASSERT_EQ_U(v, ref_count(c + off, n - off, '\n'));
        break;
      case 1:
        ASSERT_OK(mmf_count_matches_fd(fd, &o, "aba", 3, &v));
        ASSERT_EQ_U(v, ref_matches(c + off, n - off, "aba", 3, NULL));
        break;
      default: {
        mmf_lines *it;
        size_t limit =
            (o.budget ? (size_t)o.budget : default_budget()) - gran();
        o.flags = MMF_SCAN_SPLIT_LONG;
        ASSERT_OK(mmf_lines_open_fd(&it, fd, &o));
        check_lines_iter(it, c + off, n - off, off, limit, 1);
        ASSERT_OK(mmf_lines_close(it));
        break;
      }
      }
      close(fd);
      test_fed_pipe_join(&f);
    }
    free(c);
  }
  test_context_clear();
}

TEST(pipe_find_and_ranges) {
  static const unsigned char text[] = "0123456789abcdef-needle-0123";
  size_t n = sizeof text - 1;
  test_fed_pipe f;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  int fd = test_fed_pipe_start(&f, text, n, 3, 0);
  o.offset = 2; /* skipped, but counted in the offsets */
  ASSERT_OK(mmf_find_fd(fd, &o, "needle", 6, &v));
  ASSERT_EQ_U(v, 17);
  close(fd);
  test_fed_pipe_join(&f);
  /* A stream that ends before offset, or before offset + length. */
  fd = test_fed_pipe_start(&f, text, n, 5, 0);
  o.offset = n + 1;
  v = SENTINEL;
  ASSERT_ERR(mmf_count_byte_fd(fd, &o, '\n', &v), MMF_ERANGE);
  ASSERT_EQ_U(v, 0);
  close(fd);
  test_fed_pipe_join(&f);
  fd = test_fed_pipe_start(&f, text, n, 5, 0);
  o.offset = 3;
  o.length = n;
  ASSERT_ERR(mmf_count_byte_fd(fd, &o, '\n', &v), MMF_ERANGE);
  close(fd);
  test_fed_pipe_join(&f);
  fd = test_fed_pipe_start(&f, text, n, 5, 0);
  o.length = 10; /* 3456789abc */
  ASSERT_OK(mmf_count_matches_fd(fd, &o, "a", 1, &v));
  ASSERT_EQ_U(v, 1);
  close(fd);
  test_fed_pipe_join(&f);
  /* MMF_NO_FALLBACK: a stream is not mapped, so it is refused. */
  fd = test_fed_pipe_start(&f, text, n, 5, 0);
  memset(&o, 0, sizeof o);
  o.flags = MMF_NO_FALLBACK;
  ASSERT_ERR(mmf_count_byte_fd(fd, &o, '\n', &v), MMF_ENODEV);
  close(fd);
  test_fed_pipe_join(&f);
}

TEST(nonblocking_pipe_lines_retry) {
#ifdef _WIN32
  SKIP("no O_NONBLOCK pipes on Windows");
#else
  int fds[2];
  mmf_lines *it;
  const char *line;
  size_t len;
  test_pipe(fds);
  ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  ASSERT_OK(mmf_lines_open_fd(&it, fds[0], NULL));
  ASSERT_ERR(mmf_lines_next(it, &line, &len), MMF_EAGAIN);
  ASSERT_EQ(write(fds[1], "par", 3), 3);
  ASSERT_ERR(mmf_lines_next(it, &line, &len), MMF_EAGAIN);
  ASSERT_EQ(write(fds[1], "tial\nnext", 9), 9);
  ASSERT_OK(mmf_lines_next(it, &line, &len));
  ASSERT_EQ_U(len, 7);
  ASSERT_MEMEQ(line, "partial", 7);
  close(fds[1]);
  ASSERT_OK(mmf_lines_next(it, &line, &len));
  ASSERT_EQ_U(len, 4);
  ASSERT_MEMEQ(line, "next", 4);
  ASSERT_EQ_U(mmf_lines_offset(it), 8);
  ASSERT_OK(mmf_lines_next(it, &line, &len));
  ASSERT_NULL(line);
  ASSERT_OK(mmf_lines_close(it));
  close(fds[0]);
#endif
}

TEST(fifo_by_path) {
  test_fifo f;
  uint64_t v, want;
  size_t n = 300000;
  unsigned char *c = malloc(n);
  fill_pat(c, 0, n);
  want = ref_count(c, n, 7);
  test_fifo_start(&f, "fifo", n);
  ASSERT_OK(mmf_count_byte_path(f.path, NULL, 7, &v));
  ASSERT_EQ_U(v, want);
  ASSERT_EXITED(test_fifo_wait(&f), 0);
  free(c);
}

TEST(proc_files) {
#ifdef _WIN32
  SKIP("no /proc on Windows");
#else
  const char *path = "/proc/version";
  unsigned char want[65536];
  ssize_t got;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    SKIP("no %s", path);
  got = read(fd, want, sizeof want);
  close(fd);
  ASSERT_GT(got, 0);
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    uint64_t v;
    o.io = io;
    check_input(path, want, (size_t)got, &o);
    o.offset = 5;
    check_input(path, want, (size_t)got, &o);
    o.offset = (uint64_t)got;
    ASSERT_OK(mmf_count_byte_path(path, &o, ' ', &v));
    ASSERT_EQ_U(v, 0);
    o.offset = (uint64_t)got + 1;
    ASSERT_ERR(mmf_count_byte_path(path, &o, ' ', &v), MMF_ERANGE);
    o.offset = 0;
    o.flags = MMF_NO_FALLBACK;
    ASSERT_ERR(mmf_count_byte_path(path, &o, ' ', &v), MMF_ENODEV);
  }
#endif
}

TEST(sys_file_that_refuses_mmap) {
#ifdef _WIN32
  SKIP("no /sys on Windows");
#else
  /* sysfs attributes report 4096 bytes but cannot be mapped: a forced map
   * reads them instead, to their real end. */
  const char *path = "/sys/kernel/mm/transparent_hugepage/enabled";
  unsigned char want[8192];
  struct stat st;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  ssize_t got;
  int fd;
  if (stat(path, &st) != 0 || st.st_size == 0)
    SKIP("%s: not available", path);
  fd = open(path, O_RDONLY);
  ASSERT_TRUE(fd >= 0);
  got = read(fd, want, sizeof want);
  close(fd);
  ASSERT_GT(got, 0);
  o.io = MMF_SCAN_MAP;
  ASSERT_OK(mmf_count_byte_path(path, &o, '\n', &v));
  ASSERT_EQ_U(v, ref_count(want, (size_t)got, '\n'));
  ASSERT_OK(mmf_count_matches_path(path, &o, "e", 1, &v));
  ASSERT_EQ_U(v, ref_count(want, (size_t)got, 'e'));
#endif
}

TEST(truncated_while_counting) {
  /* A child cuts the file while a count walks it in small windows or
   * buffers: the count finishes first (and is right), or the file was cut
   * before the scan opened it (MMF_ERANGE: the range asks for all n
   * bytes), or the scan says MMF_ETRUNCATED. Never SIGBUS. The child
   * cuts a file that may be mapped: test_truncate_mapped(), which on
   * Windows needs Wine. */
  test_need_truncate_mapped();
  size_t n = (size_t)64 << 20;
  unsigned char *c = random_text(n);
  uint64_t want = ref_count(c, n, '\n');
  int truncated = 0;
  for (int round = 0; round < 6 && !truncated; round++) {
    for (int io = MMF_SCAN_READ; io <= MMF_SCAN_MAP; io++) {
      mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
      uint64_t v = SENTINEL;
      test_proc p;
      char delay[16];
      int rc;
      write_file(test_path("f"), c, n);
      o.io = io;
      o.budget = 2 * gran();
      o.length = n;
      snprintf(delay, sizeof delay, "%d", round * 2);
      p = test_spawn("truncate_after",
                     (const char *const[]){test_path("f"), delay, NULL});
      rc = mmf_count_byte_path(test_path("f"), &o, '\n', &v);
      ASSERT_EXITED(test_wait(p), 0);
      if (rc == 0) {
        ASSERT_EQ_U(v, want);
      } else if (rc != MMF_ERANGE) {
        ASSERT_ERR(rc, MMF_ETRUNCATED);
        ASSERT_LE_U(v, want); /* the count so far */
        truncated++;
      }
    }
  }
  test_note("truncations seen: %d", truncated);
  free(c);
}

TEST_CHILD(truncate_after) {
  (void)argc;
  test_sleep_ms((unsigned)atoi(argv[2]));
  test_truncate_mapped(argv[1], 4096);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* A short address space                                                     */
/* ------------------------------------------------------------------------ */

#if !defined(_WIN32)
#include <sys/resource.h>

#define SHORT_FILE ((uint64_t)200 << 20)

/* 200 MiB of 64-byte lines. */
static void write_lines_file(const char *path) {
  static unsigned char chunk[1 << 20];
  for (size_t i = 0; i < sizeof chunk; i++)
    chunk[i] = i % 64 == 63 ? '\n' : (unsigned char)('a' + i % 26);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_TRUE(fd >= 0);
  for (uint64_t done = 0; done < SHORT_FILE; done += sizeof chunk)
    ASSERT_EQ(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
  close(fd);
}

static int scan_with_short_address_space(void *arg) {
  const char *path = arg;
  const uint64_t want = SHORT_FILE / 64;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  struct rlimit rl;
  uint64_t v;
  /* Room for 96 MiB more than the process holds now: less than the file. */
  rl.rlim_cur = rl.rlim_max =
      (rlim_t)proc_status_kb("VmSize") * 1024 + ((rlim_t)96 << 20);
  if (setrlimit(RLIMIT_AS, &rl) != 0)
    return 77;
  /* The negative control: the whole file does not fit. */
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_open(&m, path, MMF_READ, NULL), MMF_ENOMEM);
  /* The scans take the windows they can get. */
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    o.io = io;
    test_context("io %d", io);
    ASSERT_OK(mmf_count_byte_path(path, &o, '\n', &v));
    ASSERT_EQ_U(v, want);
    ASSERT_OK(mmf_count_matches_path(path, &o, "yz", 2, &v));
    ASSERT_GT(v, 0);
  }
  test_context_clear();
  mmf_lines *it = NULL;
  const char *line;
  size_t len;
  uint64_t lines = 0;
  ASSERT_OK(mmf_lines_open(&it, path, NULL));
  while (mmf_lines_next(it, &line, &len) == 0 && line) {
    ASSERT_EQ_U(len, 63);
    lines++;
  }
  ASSERT_OK(mmf_lines_close(it));
  ASSERT_EQ_U(lines, want);
  /* So does a window cursor with the default budget, which the limit
   * cannot hold either: its spans, joined, are the whole file. */
  mmf_window *w = NULL;
  uint64_t walked = 0;
  void *p;
  size_t n;
  int rc;
  ASSERT_OK(mmf_window_open(&w, path, NULL));
  while ((rc = mmf_window_next(w, &p, &n)) == 0 && n > 0)
    walked += n;
  ASSERT_OK(rc);
  ASSERT_EQ_U(walked, SHORT_FILE);
  ASSERT_OK(mmf_window_close(w));
  /* Anonymous memory past the limit is refused with a code. */
  ASSERT_ERR(mmf_anon(&m, SHORT_FILE, 0), MMF_ENOMEM);
  ASSERT_NULL(m);
  return 0;
}
#endif

/* `ulimit -v` below the file's size: a whole map (and anonymous memory as
 * large) is refused, and the scans, the line iterator and a window cursor
 * walk the file in windows that fit instead of failing. */
TEST(scans_fit_a_short_address_space) {
#if defined(_WIN32)
  SKIP("Windows has no RLIMIT_AS (setrlimit) to bound the address space");
#else
  if (test_under_asan())
    SKIP("AddressSanitizer reserves terabytes of address space");
  if (test_rlimit_as_ignored())
    SKIP("setrlimit(RLIMIT_AS) succeeds but bounds nothing here "
         "(qemu-user ignores it)");
  write_lines_file(test_path("f"));
  int st = run_in_child(scan_with_short_address_space, (void *)test_path("f"));
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
    SKIP("setrlimit(RLIMIT_AS) refused here");
  ASSERT_EXITED(st, 0);
#endif
}

/* ------------------------------------------------------------------------ */
/* Twins and queries                                                         */
/* ------------------------------------------------------------------------ */

/* The map and memory twins count lines as the path form does. */
TEST(count_lines_on_maps_and_memory) {
  static const char *texts[] = {"", "a", "a\n", "a\nb", "\n\n", "ab\ncd\n"};
  static const uint64_t want[] = {0, 1, 1, 2, 2, 2};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    size_t n = strlen(texts[i]);
    uint64_t v = SENTINEL;
    test_context("text %zu", i);
    write_file(test_path("f"), texts[i], n);
    ASSERT_OK(mmf_count_lines_path(test_path("f"), NULL, &v));
    ASSERT_EQ_U(v, want[i]);
    ASSERT_OK(mmf_count_lines_mem(texts[i], n, &v));
    ASSERT_EQ_U(v, want[i]);
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
    v = SENTINEL;
    ASSERT_OK(mmf_count_lines(m, 0, 0, &v));
    ASSERT_EQ_U(v, want[i]);
    if (n > 1) { /* a range: the lines of its bytes */
      ASSERT_OK(mmf_count_lines(m, 1, n - 1, &v));
      uint64_t w;
      ASSERT_OK(mmf_count_lines_mem(texts[i] + 1, n - 1, &w));
      ASSERT_EQ_U(v, w);
    }
    ASSERT_ERR(mmf_count_lines(m, n + 1, 0, &v), MMF_ERANGE);
    ASSERT_EQ_U(v, 0);
    ASSERT_ERR(mmf_count_lines(m, 0, 0, NULL), MMF_EINVAL);
    ASSERT_OK(mmf_close(m));
  }
  test_context_clear();
  uint64_t v = SENTINEL;
  ASSERT_ERR(mmf_count_lines(NULL, 0, 0, &v), MMF_EINVAL);
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_count_lines_mem(NULL, 1, &v), MMF_EINVAL);
  ASSERT_ERR(mmf_count_lines_mem("a", 1, NULL), MMF_EINVAL);
}

TEST(lines_last_os_error) {
  mmf_lines *it = NULL;
  ASSERT_ERR(mmf_lines_open(&it, test_path("missing"), NULL), MMF_ENOENT);
  ASSERT_NULL(it);
#ifdef _WIN32
  ASSERT_NE(mmf_lines_last_os_error(NULL), 0);
#else
  ASSERT_EQ(mmf_lines_last_os_error(NULL), ENOENT);
#endif
  write_file(test_path("f"), "a\nb\n", 4);
  ASSERT_OK(mmf_lines_open(&it, test_path("f"), NULL));
  ASSERT_EQ(mmf_lines_last_os_error(it), 0);
  ASSERT_OK(mmf_lines_close(it));
}

/* MMF_SCAN_FROM_POSITION: a descriptor's position is where an _fd scan of
 * a regular file starts; offsets reported stay file offsets. */
TEST(fd_scans_from_position) {
  const char text[] = "one\ntwo\nthree\nfour\n";
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  write_file(test_path("f"), text, sizeof text - 1);
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_EQ(lseek(fd, 4, SEEK_SET), 4);
  ASSERT_OK(mmf_count_lines_fd(fd, &o, &v)); /* without: the whole file */
  ASSERT_EQ_U(v, 4);
  o.flags = MMF_SCAN_FROM_POSITION;
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    o.io = io;
    test_context("io %d", io);
    ASSERT_OK(mmf_count_lines_fd(fd, &o, &v));
    ASSERT_EQ_U(v, 3);
    ASSERT_OK(mmf_find_fd(fd, &o, "o", 1, &v));
    ASSERT_EQ_U(v, 6); /* "two": a file offset */
    o.offset = 4;      /* counted from the position */
    ASSERT_OK(mmf_find_fd(fd, &o, "t", 1, &v));
    ASSERT_EQ_U(v, 8);
    o.offset = 0;
  }
  test_context_clear();
  ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 4); /* not moved */
  mmf_lines *it = NULL;
  const char *line;
  size_t len;
  ASSERT_OK(mmf_lines_open_fd(&it, fd, &o));
  ASSERT_OK(mmf_lines_next(it, &line, &len));
  ASSERT_EQ_U(len, 3);
  ASSERT_MEMEQ(line, "two", 3);
  ASSERT_EQ_U(mmf_lines_offset(it), 4);
  ASSERT_OK(mmf_lines_close(it));
  ASSERT_EQ(lseek(fd, 30, SEEK_SET), 30); /* past the end */
  ASSERT_ERR(mmf_count_lines_fd(fd, &o, &v), MMF_ERANGE);
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* One guard around a whole walk                                             */
/* ------------------------------------------------------------------------ */

typedef struct walk_job {
  mmf_lines *it;
  const char *path;
  uint64_t lines, cut_at;
  int next_rc;
} walk_job;

static int sum_line(const char *line, size_t len) {
  volatile int s = 0;
  for (size_t i = 0; i < len; i++)
    s += line[i];
  return s;
}

/* mmf_lines_next inside mmf_lines_guard: once the walk has moved to a new
 * window, the file is cut behind the current line, and the line is read
 * again: a fault in a window mapped after the guard was armed. */
static int walk_in_one_guard(void *ctx) {
  walk_job *j = ctx;
  const char *line;
  size_t len;
  while ((j->next_rc = mmf_lines_next(j->it, &line, &len)) == 0 && line) {
    (void)sum_line(line, len);
    j->lines++;
    if (j->cut_at && mmf_lines_offset(j->it) >= j->cut_at) {
      test_truncate_mapped(j->path, mmf_lines_offset(j->it) & ~(uint64_t)4095);
      (void)sum_line(line, len);
      return 3; /* not reached: the line's page is gone */
    }
  }
  return 0;
}

static int child_walk_in_one_guard(void *arg) {
  const char *path = arg;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  walk_job j;
  memset(&j, 0, sizeof j);
  o.io = MMF_SCAN_MAP;
  o.budget = 4 * mmf_granularity();
  j.path = path;
  /* A whole walk under one guard delivers every line... */
  ASSERT_OK(mmf_lines_open(&j.it, path, &o));
  ASSERT_EQ(mmf_lines_guard(j.it, walk_in_one_guard, &j), 0);
  ASSERT_OK(j.next_rc);
  ASSERT_OK(mmf_lines_close(j.it));
  uint64_t want = j.lines;
  ASSERT_EQ_U(want, file_size(path) / 64);
  /* ...and a fault in a window mapped inside it comes back as a code. */
  memset(&j, 0, sizeof j);
  j.path = path;
  j.cut_at = 3 * o.budget + 1000; /* well past the first window */
  ASSERT_LT_U(j.cut_at, file_size(path) / 2);
  ASSERT_OK(mmf_lines_open(&j.it, path, &o));
  ASSERT_ERR(mmf_lines_guard(j.it, walk_in_one_guard, &j), MMF_ETRUNCATED);
  ASSERT_OK(mmf_lines_close(j.it));
  return 0;
}

TEST(line_walk_inside_one_guard) {
  test_need_truncate_mapped();
  static unsigned char chunk[1 << 16];
  for (size_t i = 0; i < sizeof chunk; i++)
    chunk[i] = i % 64 == 63 ? '\n' : (unsigned char)('a' + i % 26);
  make_sparse(test_path("f"), 32 * sizeof chunk);
  for (int k = 0; k < 32; k++)
    write_at(test_path("f"), (uint64_t)k * sizeof chunk, chunk, sizeof chunk);
#ifdef _WIN32
  ASSERT_EQ(child_walk_in_one_guard((void *)test_path("f")), 0);
#else
  ASSERT_EXITED(run_in_child(child_walk_in_one_guard, (void *)test_path("f")),
                0);
#endif
}
