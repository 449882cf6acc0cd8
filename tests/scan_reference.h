/*
 * scan_reference.h - naive references the scan tests compare mmf's scans
 * with: a byte count, a line count, a find and a non-overlapping match
 * count, each a plain loop over memory that is obviously right.
 */
#ifndef MMF_SCAN_REFERENCE_H
#define MMF_SCAN_REFERENCE_H

#include "test.h"

/* How many bytes of p[0, n) equal c. */
static inline uint64_t ref_count(const unsigned char *p, size_t n, int c) {
  uint64_t r = 0;
  for (size_t i = 0; i < n; i++)
    r += p[i] == c;
  return r;
}

/* Lines as mmf counts them: newlines, plus one for a last line without
 * its newline. */
static inline uint64_t ref_lines(const unsigned char *p, size_t n) {
  return ref_count(p, n, '\n') + (n > 0 && p[n - 1] != '\n');
}

/* The first x[0, m) in h[0, n) at or after from; SIZE_MAX if none. */
static inline size_t ref_find_from(const unsigned char *h, size_t n,
                                   size_t from, const void *x, size_t m) {
  for (size_t i = from; m <= n && i <= n - m; i++)
    if (memcmp(h + i, x, m) == 0)
      return i;
  return SIZE_MAX;
}

/* The first byte c in p[0, n); SIZE_MAX if none. */
static inline size_t ref_find_byte(const unsigned char *p, size_t n, int c) {
  const unsigned char b = (unsigned char)c;
  return ref_find_from(p, n, 0, &b, 1);
}

/* The reference's "absent" (SIZE_MAX) as the API reports it. */
static inline uint64_t npos_of(size_t at) {
  return at == SIZE_MAX ? MMF_NPOS : (uint64_t)at;
}

/* The first x[0, m) in h[0, n) as mmf_find reports it. */
static inline uint64_t ref_find(const unsigned char *h, size_t n, const void *x,
                                size_t m) {
  return npos_of(ref_find_from(h, n, 0, x, m));
}

/* Occurrences of x[0, m) in h[0, n), leftmost first, not overlapping
 * ("aa" in "aaaa": 2); none of an empty needle (the kernels count 0, the
 * API refuses it). With resume: what mmf_count_matches_mem reports as
 * the first offset a count of more input appended to h must look at
 * again: the end of the last match or n - m + 1, whichever is later. */
static inline uint64_t ref_matches(const unsigned char *h, size_t n,
                                   const void *x, size_t m, size_t *resume) {
  uint64_t r = 0;
  size_t i = 0, end = 0;
  if (m == 0) {
    if (resume)
      *resume = 0;
    return 0;
  }
  while ((i = ref_find_from(h, n, i, x, m)) != SIZE_MAX) {
    r++;
    i += m;
    end = i;
  }
  if (resume)
    *resume = n < m ? 0 : end > n - m + 1 ? end : n - m + 1;
  return r;
}

#endif /* MMF_SCAN_REFERENCE_H */
