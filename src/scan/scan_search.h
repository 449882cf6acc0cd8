/*
 * scan_search.h - finding and counting a byte string in memory the caller
 * holds, on top of the SIMD kernels (scan.h): the searches of the
 * whole-input scans (scan_input.c) and of the match iterator
 * (scan_matches.c). Like the kernels they read only [h, h + n) and the
 * needle, and do not guard against faults: callers run them under the
 * fault guard over mapped bytes.
 */
#ifndef MMF_SCAN_SEARCH_H
#define MMF_SCAN_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/* Offset of the first occurrence of x[0, m) (m >= 1) lying wholly in
 * h[0, n), or SIZE_MAX. Linear time whatever the input. */
size_t mmf__search_find(const unsigned char *h, size_t n,
                        const unsigned char *x, size_t m);

/* Occurrences of x[0, m) in h[0, n), non-overlapping, taken left to
 * right ("aa" in "aaaa" is 2). */
uint64_t mmf__search_count(const unsigned char *h, size_t n,
                           const unsigned char *x, size_t m);

/* As mmf__search_count, and *resume is where a search of input that
 * continues after h[n - 1] must go on (mmf.h, mmf_count_matches_mem):
 * just past the last occurrence counted, or n - m + 1 if that is later
 * (0 when n < m). */
uint64_t mmf__search_count_resume(const unsigned char *h, size_t n,
                                  const unsigned char *x, size_t m,
                                  size_t *resume);

#endif /* MMF_SCAN_SEARCH_H */
