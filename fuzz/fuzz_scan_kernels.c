/*
 * fuzz_scan_kernels.c - every variant of every scan kernel (src/scan/
 * scan.h: count a byte, find a byte, find and count a byte string, the
 * positions of a byte), each one this CPU runs, and Two-Way, against
 * simple oracles (a loop; Knuth-Morris-Pratt for strings, linear where a
 * naive search is quadratic), over a fuzzed haystack at a fuzzed
 * alignment; then the public _mem scans over the same bytes, and
 * mmf_count_matches_mem fed in two pieces joined by its resume offset.
 * Lengths and alignments are the fuzzer's to explore: one pass per input
 * keeps it fast (tests/test_scan.c walks every alignment and tail).
 *
 * Input: needle length (a byte says how it is read), the byte to count,
 * alignment (byte), the positions kernel's batch size (byte), a cut
 * (u16), the needle, then the haystack. The haystack is copied to the
 * very end of an allocation of its own size, so a kernel reading past the
 * end is an AddressSanitizer error, not luck.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmf.h"
#include "scan/scan.h"

#define MAX_NEEDLE 300
#define MAX_ALIGN 64
#define MAX_CAP 70

/* ------------------------------------------------------------------------ */
/* Each variant over one buffer                                              */
/* ------------------------------------------------------------------------ */

/* What the oracles say about one buffer, worked out once. */
typedef struct job {
  const uint8_t *needle;
  size_t m;
  uint8_t c;
  size_t cap;    /* the positions kernel's batch size */
  uint32_t *pos; /* cap entries, for the kernel */
  /* The answers */
  uint64_t count_c;
  size_t first_c;
  size_t *where_c; /* every offset of c, count_c of them */
  uint64_t matches;
  size_t first_match;
} job;

static void check_positions(const mmf__scan_kernels *k, const uint8_t *p,
                            size_t n, const job *j) {
  /* Walk the block in batches, as the line iterator does: every
   * occurrence comes once, in order, and *scanned follows the contract. */
  size_t at = 0, seen = 0;
  for (;;) {
    size_t scanned = 12345;
    size_t got =
        k->positions(p ? p + at : NULL, n - at, j->c, j->pos, j->cap, &scanned);
    FUZZ_CHECK(got <= j->cap);
    for (size_t i = 0; i < got; i++, seen++) {
      FUZZ_CHECK(seen < j->count_c);
      FUZZ_CHECK(at + j->pos[i] == j->where_c[seen]);
    }
    if (got == j->cap && got > 0) {
      FUZZ_CHECK(scanned == (size_t)j->pos[got - 1] + 1);
    } else {
      FUZZ_CHECK(scanned == n - at);
      FUZZ_CHECK(seen == j->count_c);
      return;
    }
    at += scanned;
  }
}

/* The variants this CPU runs, asked once: the question is a CPUID, which
 * in a virtual machine traps to the hypervisor and cost a fifth of every
 * input when asked per input. */
static const mmf__scan_kernels *variants[MMF__SCAN_ISA_COUNT];
static int n_variants = -1;

static void find_variants(void) {
  n_variants = 0;
  for (int isa = 0; isa < MMF__SCAN_ISA_COUNT; isa++) {
    const mmf__scan_kernels *k = mmf__scan_kernels_for((mmf__scan_isa)isa);
    if (k)
      variants[n_variants++] = k;
  }
}

/* Every compiled variant this CPU runs, and Two-Way directly. */
static void check_all(const uint8_t *p, size_t n, const job *j) {
  if (n_variants < 0)
    find_variants();
  for (int v = 0; v < n_variants; v++) {
    const mmf__scan_kernels *k = variants[v];
    FUZZ_CHECK(k->count_byte(p, n, j->c) == j->count_c);
    FUZZ_CHECK(k->find_byte(p, n, j->c) == j->first_c);
    FUZZ_CHECK(k->find(p, n, j->needle, j->m) == j->first_match);
    FUZZ_CHECK(k->count_str(p, n, j->needle, j->m) == j->matches);
    check_positions(k, p, n, j);
  }
  if (j->m > 0) {
    FUZZ_CHECK(mmf__scan_twoway_find(p, n, j->needle, j->m) == j->first_match);
    FUZZ_CHECK(mmf__scan_twoway_count(p, n, j->needle, j->m) == j->matches);
  }
}

/* ------------------------------------------------------------------------ */
/* The public scans over memory                                              */
/* ------------------------------------------------------------------------ */

/* The offsets of c in p[0, n) into where[], the first in *first (SIZE_MAX:
 * none); returns how many. */
FUZZ_ORACLE
static uint64_t where_byte(const uint8_t *p, size_t n, uint8_t c, size_t *where,
                           size_t *first) {
  uint64_t k = 0;
  *first = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != c)
      continue;
    if (k == 0)
      *first = i;
    where[k++] = i;
  }
  return k;
}

FUZZ_ORACLE
static uint64_t naive_lines(const uint8_t *p, size_t n) {
  uint64_t lines = 0;
  for (size_t i = 0; i < n; i++)
    lines += p[i] == '\n';
  return lines + (n > 0 && p[n - 1] != '\n');
}

static void check_mem(const uint8_t *p, size_t n, const job *j, size_t cut) {
  uint64_t v = 1, lines;
  size_t first = j->first_match, resume = 1;
  uint64_t count = j->matches;
  FUZZ_CHECK_RC(mmf_count_byte_mem(p, n, j->c, &v), 0);
  FUZZ_CHECK(v == j->count_c);
  lines = naive_lines(p, n);
  FUZZ_CHECK_RC(mmf_count_lines_mem(p, n, &v), 0);
  FUZZ_CHECK(v == lines);
  if (j->m == 0) {
    FUZZ_CHECK_RC(mmf_find_mem(p, n, j->needle, 0, &v), MMF_EINVAL);
    FUZZ_CHECK(v == MMF_NPOS);
    FUZZ_CHECK_RC(mmf_count_matches_mem(p, n, j->needle, 0, &v, &resume),
                  MMF_EINVAL);
    FUZZ_CHECK(v == 0 && resume == 0);
    return;
  }
  FUZZ_CHECK_RC(mmf_find_mem(p, n, j->needle, j->m, &v), 0);
  FUZZ_CHECK(v == (first == SIZE_MAX ? MMF_NPOS : (uint64_t)first));
  FUZZ_CHECK_RC(mmf_count_matches_mem(p, n, j->needle, j->m, &v, &resume), 0);
  FUZZ_CHECK(v == count);
  FUZZ_CHECK(resume <= n);

  /* In two pieces, [0, cut) then the bytes from resume on with the rest,
   * as a reader of a stream does: the same count. */
  if (cut > n)
    cut = n;
  {
    uint64_t a = 0, b = 0;
    size_t r = 0;
    FUZZ_CHECK_RC(mmf_count_matches_mem(p, cut, j->needle, j->m, &a, &r), 0);
    FUZZ_CHECK(r <= cut);
    FUZZ_CHECK(cut - r < j->m || cut < j->m);
    FUZZ_CHECK_RC(mmf_count_matches_mem(p ? p + r : NULL, n - r, j->needle,
                                        j->m, &b, NULL),
                  0);
    FUZZ_CHECK(a + b == count);
  }
}

/* ------------------------------------------------------------------------ */
/* The entry point                                                           */
/* ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  uint32_t pos[MAX_CAP];
  const uint8_t *needle, *hay;
  size_t m = fuzz_u8(&in) % 2 ? fuzz_u8(&in) : fuzz_u16(&in) % MAX_NEEDLE;
  const uint8_t c = fuzz_u8(&in);
  const size_t align = fuzz_u8(&in) % MAX_ALIGN;
  const size_t cap = 1 + fuzz_u8(&in) % MAX_CAP;
  const size_t cut = fuzz_u16(&in);
  job j;
  m = fuzz_bytes(&in, m, &needle);
  const size_t n = fuzz_bytes(&in, in.n, &hay);

  /* The bytes end where the allocation ends, so that reading one byte too
   * far is an AddressSanitizer error; they start at align. */
  uint8_t *block = malloc(align + n > 0 ? align + n : 1);
  size_t *where = malloc((n > 0 ? n : 1) * sizeof *where);
  if (!block || !where) {
    free(block);
    free(where);
    return 0;
  }
  uint8_t *p = n > 0 ? block + align : NULL;
  if (n > 0)
    memcpy(p, hay, n);

  memset(&j, 0, sizeof j);
  j.needle = needle;
  j.m = m;
  j.c = c;
  j.cap = cap;
  j.pos = pos;
  j.where_c = where;
  j.count_c = where_byte(p, n, c, where, &j.first_c);
  j.matches = fuzz_matches(p, n, needle, m, &j.first_match);

  check_all(p, n, &j);
  check_mem(p, n, &j, cut);
  free(where);
  free(block);
  return 0;
}
