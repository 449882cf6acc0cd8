/*
 * fuzz_matches.c - the match iterator (mmf_matches_open, _open_fd, _next,
 * _line) over a file, with a fuzzed range, budget, io mode and needle,
 * against a reference search over the same bytes (fuzz_match_list): the same
 * occurrences, in order, each with the line it starts on, then MMF_NPOS for as
 * long as it is asked. An occurrence that straddles a buffer or window boundary
 * must be handed out once.
 *
 * Input: flags (byte: bits 0-1 io, bit 2 a range, bit 3 repeat the
 * content, bit 4 line numbers, bit 5 from a descriptor, bit 6 read in
 * small chunks: fuzz_read_chunk with the budget byte), budget in
 * granularity units (byte; 0: default), needle length (byte), range offset
 * and length (u32 each, reduced to the file), repeat count (byte), the
 * needle, then the file's content.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Windows' C runtime would translate line ends. */
#ifndef O_BINARY
#define O_BINARY 0
#endif

#include "fuzz.h"
#include "mmf.h"

/* Past the 8 KiB first read of a whole-input scan (source.c), several
 * windows at the smallest budgets and, in small read chunks, many
 * buffers (fuzz_scan_path.c says more). */
#define MAX_FILE ((size_t)64 << 10)

/* Every occurrence of x[0, m) in p[0, len) (the range at input offset
 * off), in order, with its line, then the end, again and again. An oracle
 * (FUZZ_ORACLE): one occurrence per byte or two is common here, and its
 * comparisons, traced, cost more than the iterator's step. */
FUZZ_ORACLE
static void check_all(mmf_matches *it, const uint8_t *p, size_t len,
                      uint64_t off, const uint8_t *x, size_t m, int numbers) {
  size_t counted = 0;
  uint64_t k, count, newlines = 0, pos = 7; /* newlines in p[0, counted) */
  size_t *where = fuzz_match_list(p, len, x, m, &count);
  for (k = 0; k < count; k++) {
    size_t i = where[k];
    FUZZ_CHECK_RC(mmf_matches_next(it, &pos), 0);
    FUZZ_CHECK(pos == off + i);
    for (; counted < i; counted++)
      newlines += p[counted] == '\n';
    FUZZ_CHECK(mmf_matches_line(it) == (numbers ? 1 + newlines : 0));
  }
  free(where);
  FUZZ_CHECK_RC(mmf_matches_next(it, &pos), 0);
  FUZZ_CHECK(pos == MMF_NPOS);
  /* The end, as often as it is asked. */
  pos = 7;
  FUZZ_CHECK_RC(mmf_matches_next(it, &pos), 0);
  FUZZ_CHECK(pos == MMF_NPOS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  const uint8_t flags = fuzz_u8(&in);
  const uint8_t units = fuzz_u8(&in);
  size_t m = fuzz_u8(&in) % 64;
  uint64_t offset = fuzz_u32(&in), length = fuzz_u32(&in);
  const uint8_t repeat = fuzz_u8(&in);
  const uint8_t *x, *content;
  m = fuzz_bytes(&in, m, &x);
  size_t n = fuzz_bytes(&in, in.n, &content);
  fuzz_scan_file f;
  mmf_matches *it = NULL;
  uint64_t pos = 7;
  int rc, fd = -1;

  if (m == 0)
    return 0; /* MMF_EINVAL: the scan targets check it */
  if (!fuzz_scan_file_make(&f, "matches.in", content, n, flags, units, repeat,
                           offset, length, MAX_FILE)) {
    fuzz_scan_file_free(&f);
    return 0;
  }
  const char *path = f.path;
  mmf_scan_options o = f.o;
  const int want = f.rc;
  fuzz_read_chunk(flags & 64, units);
  if (flags & 16)
    o.flags |= MMF_SCAN_LINE_NUMBERS;

  if (flags & 32) {
    fd = open(path, O_RDONLY | O_BINARY);
    FUZZ_CHECK(fd >= 0);
    rc = mmf_matches_open_fd(&it, fd, &o, x, m);
  } else {
    rc = mmf_matches_open(&it, path, &o, x, m);
  }
  /* A bad range shows at open or at the first step. */
  if (rc != 0) {
    FUZZ_CHECK(want != 0);
    FUZZ_CHECK_RC(rc, want);
    FUZZ_CHECK(it == NULL);
  } else {
    FUZZ_CHECK(it != NULL);
    FUZZ_CHECK(mmf_matches_line(it) == 0);
    if (want != 0) {
      FUZZ_CHECK_RC(mmf_matches_next(it, &pos), want);
      FUZZ_CHECK(pos == MMF_NPOS);
      FUZZ_CHECK_RC(mmf_matches_next(it, &pos), want); /* latched */
    } else {
      check_all(it, f.range, f.range_len, o.offset, x, m,
                (o.flags & MMF_SCAN_LINE_NUMBERS) != 0);
    }
    FUZZ_CHECK_RC(mmf_matches_close(it), 0);
  }
  if (fd >= 0)
    close(fd);
  fuzz_scan_file_free(&f);
  return 0;
}
