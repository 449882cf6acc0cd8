/*
 * fuzz_lines.c - the line iterator (mmf_lines_*) over a file built from
 * the input, with a fuzzed budget, read or mapped, a fuzzed range and
 * MMF_SCAN_SPLIT_LONG or not, against the lines a naive split of the
 * same bytes gives: every line, piece, offset and the "partial" flag in
 * order, the MMF_EFBIG of a line too long, and so the lines delivered,
 * joined, equal the input.
 *
 * Input: flags (byte: bit 0 SPLIT_LONG, bits 1-2 io, bit 3 a range, bit 4
 * repeat the content, bit 5 read in small chunks: fuzz_read_chunk with the
 * budget byte), budget in granularity units (byte; 0: default),
 * range offset and length (u32 each, reduced to the file), repeat count
 * (byte), then the file's content.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmf.h"

/* Many windows and buffers at the smallest budgets and read chunks;
 * small enough to keep the fuzzer fast. */
#define MAX_FILE ((size_t)64 << 10)

/* The length of the line at p[0, n): through its '\n', or all of it. */
FUZZ_ORACLE
static size_t line_length(const uint8_t *p, size_t n) {
  const uint8_t *nl = memchr(p, '\n', n);
  return nl ? (size_t)(nl - p) + 1 : n;
}

/* Walk it over file bytes [lo, hi) and check each line against the
 * naive split. An oracle's loop (FUZZ_ORACLE): a line per byte or two is
 * common, and its comparisons, traced, cost more than the iterator's. */
FUZZ_ORACLE
static void walk(mmf_lines *it, const uint8_t *file, uint64_t lo, uint64_t hi,
                 int split) {
  const size_t limit = mmf_lines_limit(it);
  uint64_t at = lo;
  int in_piece = 0;
  FUZZ_CHECK(limit >= 1);
  for (;;) {
    const char *line = (const char *)1;
    size_t len = 1;
    int rc = mmf_lines_next(it, &line, &len);
    if (at == hi) {
      FUZZ_CHECK_RC(rc, 0);
      FUZZ_CHECK(line == NULL && len == 0);
      FUZZ_CHECK(!mmf_lines_partial(it));
      /* The end stays the end. */
      FUZZ_CHECK_RC(mmf_lines_next(it, &line, &len), 0);
      FUZZ_CHECK(line == NULL && len == 0);
      return;
    }
    size_t rest = line_length(file + at, (size_t)(hi - at));
    int has_nl = file[at + rest - 1] == '\n';
    if (rest > limit && !split && !in_piece) {
      /* Too long: refused, and refused again, nothing consumed. */
      FUZZ_CHECK_RC(rc, MMF_EFBIG);
      FUZZ_CHECK(line == NULL && len == 0);
      FUZZ_CHECK_RC(mmf_lines_next(it, &line, &len), MMF_EFBIG);
      return;
    }
    FUZZ_CHECK_RC(rc, 0);
    FUZZ_CHECK(line != NULL);
    FUZZ_CHECK(mmf_lines_offset(it) == at);
    if (rest > limit) {
      /* A piece of exactly the limit, and more to come. */
      FUZZ_CHECK(split);
      FUZZ_CHECK(len == limit);
      FUZZ_CHECK(mmf_lines_partial(it));
      FUZZ_CHECK(memcmp(line, file + at, len) == 0);
      at += limit;
      in_piece = 1;
      continue;
    }
    /* The whole (rest of the) line, without its '\n'. */
    FUZZ_CHECK(len == rest - (size_t)has_nl);
    FUZZ_CHECK(!mmf_lines_partial(it));
    FUZZ_CHECK(len == 0 || memcmp(line, file + at, len) == 0);
    at += rest;
    in_piece = 0;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  const uint8_t flags = fuzz_u8(&in);
  const uint8_t units = fuzz_u8(&in);
  uint64_t offset = fuzz_u32(&in), length = fuzz_u32(&in);
  const uint8_t repeat = fuzz_u8(&in);
  const uint8_t *content;
  size_t n = fuzz_bytes(&in, in.n, &content), fsize;
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_lines *it = (mmf_lines *)1;
  const uint8_t *file;
  int rc;

  /* A large file from a small input: the content repeated. */
  file = fuzz_repeat(content, n, (flags & 16) ? 1 + (size_t)repeat * 16 : 1,
                     MAX_FILE, &fsize);

  o.flags = (flags & 1) ? MMF_SCAN_SPLIT_LONG : 0;
  o.io = (flags >> 1) & 3; /* every mode, MMF_SCAN_DIRECT reads */
  if (units)
    o.budget = (uint64_t)(1 + units % 16) * mmf_granularity();
  if (flags & 8) {
    /* Mostly inside the file, sometimes just past it. */
    o.offset = offset % (fsize + 2);
    o.length = length % (fsize + 2);
  }
  const char *path = fuzz_write_file("lines.in", file, fsize);
  if (!path)
    return 0;
  fuzz_read_chunk(flags & 32, units);
  rc = mmf_lines_open(&it, path, &o);
  const int bad_options = units && units % 16 == 0;
  const int past_end =
      o.offset > fsize || (o.length && o.length > fsize - o.offset);
  if (bad_options) {
    FUZZ_CHECK_RC(rc, MMF_EINVAL);
    FUZZ_CHECK(it == NULL);
  } else if (rc != 0) {
    /* Only a range outside the file may fail, at open or at the first
     * line. */
    FUZZ_CHECK_RC(rc, past_end ? MMF_ERANGE : 0);
    FUZZ_CHECK(it == NULL);
  } else if (past_end) {
    const char *line;
    size_t len;
    FUZZ_CHECK_RC(mmf_lines_next(it, &line, &len), MMF_ERANGE);
    FUZZ_CHECK(line == NULL && len == 0);
  } else {
    uint64_t hi = o.length ? o.offset + o.length : fsize;
    walk(it, file, o.offset, hi, (flags & 1) != 0);
  }
  FUZZ_CHECK_RC(mmf_lines_close(it), 0);
  return 0;
}
