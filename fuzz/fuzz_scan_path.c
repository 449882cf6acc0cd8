/*
 * fuzz_scan_path.c - the whole-input scans over a file (mmf_count_byte_path,
 * mmf_count_lines_path, mmf_find_path, mmf_count_matches_path, and their
 * map forms mmf_count_lines, mmf_count_matches, mmf_find, mmf_count_byte)
 * with a fuzzed range, budget, io mode and number of threads, against naive
 * loops over the same bytes: a match that straddles a buffer or window boundary
 * must be found and counted once.
 *
 * Input: flags (byte: bits 0-1 io, bit 2 a range, bit 3 repeat the
 * content, bits 4-5 threads, bit 6 split into pieces of a page, so that
 * small files are split over the threads at all, bit 7 read in small
 * chunks: fuzz_read_chunk with the budget byte), budget in granularity units
 * (byte; 0: default), the byte to count (byte), needle length (byte), range
 * offset and length (u32 each, reduced to the file), repeat count (byte), the
 * needle, then the file's content.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmf.h"
#include "scan/scan_job.h"

/* Past the 8 KiB first read of a whole-input scan (source.c), several
 * windows at the smallest budgets, pieces of a page over the threads and,
 * in small read chunks, many buffers. Files of 320 KiB (past the read
 * buffer's usual 256 KiB) were five times the work for each scan and
 * oracle. */
#define MAX_FILE ((size_t)64 << 10)

/* The bytes c and '\n' in p[0, n), in one pass over them. */
FUZZ_ORACLE
static void naive_count_bytes(const uint8_t *p, size_t n, uint8_t c,
                              uint64_t *bytes, uint64_t *newlines) {
  uint64_t k = 0, nl = 0;
  for (size_t i = 0; i < n; i++) {
    k += p[i] == c;
    nl += p[i] == '\n';
  }
  *bytes = k;
  *newlines = nl;
}

/* What every scan of the range must say, and the checks. */
typedef struct expect {
  int rc; /* 0, or the error every scan returns */
  uint64_t bytes, lines, matches, first;
} expect;

static void check_path(const char *path, const mmf_scan_options *o, uint8_t c,
                       const uint8_t *x, size_t m, const expect *e) {
  uint64_t v = 7;
  FUZZ_CHECK_RC(mmf_count_byte_path(path, o, c, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? 0 : e->bytes));
  v = 7;
  FUZZ_CHECK_RC(mmf_count_lines_path(path, o, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? 0 : e->lines));
  if (m == 0)
    return;
  v = 7;
  FUZZ_CHECK_RC(mmf_find_path(path, o, x, m, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? MMF_NPOS : e->first));
  v = 7;
  FUZZ_CHECK_RC(mmf_count_matches_path(path, o, x, m, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? 0 : e->matches));
}

/* The map forms over the same range of a whole-file map. */
static void check_map(const char *path, uint64_t off, uint64_t len, uint8_t c,
                      const uint8_t *x, size_t m, const expect *e) {
  mmf_map *map;
  uint64_t v = 7;
  FUZZ_CHECK_RC(mmf_open(&map, path, MMF_READ, NULL), 0);
  FUZZ_CHECK_RC(mmf_count_byte(map, off, len, c, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? 0 : e->bytes));
  v = 7;
  FUZZ_CHECK_RC(mmf_count_lines(map, off, len, &v), e->rc);
  FUZZ_CHECK(v == (e->rc ? 0 : e->lines));
  if (m > 0) {
    v = 7;
    FUZZ_CHECK_RC(mmf_find(map, off, len, x, m, &v), e->rc);
    FUZZ_CHECK(v == (e->rc ? MMF_NPOS : e->first));
    v = 7;
    FUZZ_CHECK_RC(mmf_count_matches(map, off, len, x, m, &v), e->rc);
    FUZZ_CHECK(v == (e->rc ? 0 : e->matches));
  }
  FUZZ_CHECK_RC(mmf_close(map), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  const uint8_t flags = fuzz_u8(&in);
  const uint8_t units = fuzz_u8(&in);
  const uint8_t c = fuzz_u8(&in);
  size_t m = fuzz_u8(&in) % 64;
  uint64_t offset = fuzz_u32(&in), length = fuzz_u32(&in);
  const uint8_t repeat = fuzz_u8(&in);
  const uint8_t *x, *content;
  m = fuzz_bytes(&in, m, &x);
  size_t n = fuzz_bytes(&in, in.n, &content);
  fuzz_scan_file f;
  expect e;

  /* A large file from a small input: the content repeated. */
  if (!fuzz_scan_file_make(&f, "scan.in", content, n, flags, units, repeat,
                           offset, length, MAX_FILE)) {
    fuzz_scan_file_free(&f);
    return 0;
  }
  f.o.threads = (flags >> 4) & 3;
  mmf__scan_split_unit = (flags & 64) ? 4096 : MMF__HUGE_ALIGN;
  fuzz_read_chunk(flags & 128, units);
  memset(&e, 0, sizeof e);
  e.rc = f.rc;
  if (f.rc == 0) {
    const uint8_t *p = f.range;
    size_t len = f.range_len;
    naive_count_bytes(p, len, c, &e.bytes, &e.lines);
    e.lines += len > 0 && p[len - 1] != '\n';
    size_t first;
    e.matches = fuzz_matches(p, len, x, m, &first);
    /* An input offset, or MMF_NPOS. */
    e.first = first == SIZE_MAX ? MMF_NPOS : f.o.offset + first;
  }
  check_path(f.path, &f.o, c, x, m, &e);
  /* The map forms over the same range of a whole-file map, whose map
   * offsets are file offsets. */
  check_map(f.path, f.o.offset, f.o.length, c, x, m, &e);
  fuzz_scan_file_free(&f);
  return 0;
}
