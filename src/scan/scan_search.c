/*
 * scan_search.c - finding and counting a byte string in memory (see
 * scan_search.h).
 *
 * Occurrences across pieces. A search over input that comes in pieces
 * keeps the last m - 1 bytes of a piece for the next one (an occurrence
 * straddling the boundary starts in them). Counting non-overlapping
 * occurrences left to right needs more: where the last occurrence counted
 * ended, since one straddling the boundary counts only if it starts after
 * that. The count kernel does not say; mmf__search_count_resume() finds it
 * without giving up the kernel's speed.
 */
#include <string.h>

#include "scan.h"
#include "scan_search.h"

/*
 * Rare needles. The search kernels filter candidate starts on two needle
 * bytes at once: two loads (one unaligned) and two compares per 64 bytes,
 * which runs below memory speed (about 26 GB/s against 31 for a plain
 * count on the development machine). When one byte of the needle is rare
 * in the text, jumping from one of its occurrences to the next with the
 * find-byte kernel reads each byte once, at memory speed, and verifies
 * the few candidates. Which byte is rare is learnt from the text: the
 * jump is tried with each byte of the kernels' pair in turn and given up
 * for the kernel as soon as candidates come more often than about one per
 * 4 KiB, or verifying them costs too much (mmf__scan_verify_too_costly).
 *
 * Returns the first occurrence (first_only) or SIZE_MAX, adding the
 * non-overlapping occurrences, left to right, to *count otherwise.
 */
static size_t search_rare(const unsigned char *h, size_t n,
                          const unsigned char *x, size_t m, int first_only,
                          uint64_t *count) {
  size_t pair[2], i = 0, next = 0, work = 0, r, from;
  /* No room for the needle. Return before any pointer arithmetic: h is
   * NULL for an empty haystack (the _mem scans allow it), and NULL + 0 is
   * undefined behaviour in C. */
  if (n < m)
    return SIZE_MAX;
  if (m >= 2) {
    mmf__scan_pick_pair(x, m, &pair[0], &pair[1]);
    for (int k = 0; k < 2; k++) {
      size_t cand = 0, at = pair[k], p, j;
      from = i;
      /* Candidate starts j in [i, n - m], where h[j + at] == x[at]. */
      while (i <= n - m) {
        p = mmf__find_byte(h + i + at, n - m + 1 - i, x[at]);
        if (p == SIZE_MAX) {
          i = n - m + 1;
          break;
        }
        j = i + p;
        i = j + 1;
        if (j < next)
          continue; /* inside the last occurrence counted */
        work += m;
        if (memcmp(h + j, x, m) == 0) {
          if (first_only)
            return j;
          ++*count;
          next = j + m;
          i = next;
        }
        if (++cand > 16 &&
            ((cand << 12) > i - from || mmf__scan_verify_too_costly(work, i))) {
          break; /* common here: the other byte, or the kernel */
        }
      }
      if (i > n - m)
        return SIZE_MAX; /* every start settled */
    }
  }
  /* Every start before i is settled, and occurrences resume at next. */
  if (next > i)
    i = next;
  if (first_only) {
    r = mmf__find(h + i, n - i, x, m);
    return r == SIZE_MAX ? r : i + r;
  }
  *count += mmf__count_str(h + i, n - i, x, m);
  return SIZE_MAX;
}

uint64_t mmf__search_count(const unsigned char *h, size_t n,
                           const unsigned char *x, size_t m) {
  uint64_t count = 0;
  (void)search_rare(h, n, x, m, 0, &count);
  return count;
}

size_t mmf__search_find(const unsigned char *h, size_t n,
                        const unsigned char *x, size_t m) {
  return search_rare(h, n, x, m, 1, NULL);
}

/* A point q (0 <= q <= n - m + 1, or n when m is 1) where no occurrence
 * of the needle in h[0, n) starts in [q - m + 1, q), i.e. none straddles
 * q: counting left to right from the start and from q agree on everything
 * after q. As late as the text allows, so that the walk after it is
 * short; 0 when occurrences run together all the way (a needle like "aa"
 * in "aaaa..."). */
static size_t sync_point(const unsigned char *h, size_t n,
                         const unsigned char *needle, size_t m) {
  /* At least m back from the end, so that an occurrence that ends late
   * enough to matter for the resume point is met by the walk after q. */
  size_t tail = m > 4096 ? m : 4096;
  if (m == 1)
    return n;
  while (tail < n && n - tail > m) {
    /* Occurrences starting in [q - m + 1, q) and lying in h[0, n). */
    size_t q = n - tail, lo = q - m + 1;
    size_t len = n - lo < 2 * m - 2 ? n - lo : 2 * m - 2;
    if (mmf__find(h + lo, len, needle, m) == SIZE_MAX)
      return q;
    if (tail > n / 4)
      break;
    tail *= 4; /* occurrences cluster here: look further back */
  }
  return 0;
}

uint64_t mmf__search_count_resume(const unsigned char *h, size_t n,
                                  const unsigned char *needle, size_t m,
                                  size_t *resume) {
  size_t q, at, r;
  uint64_t count;
  if (n < m) {
    *resume = 0;
    return 0;
  }
  q = sync_point(h, n, needle, m);
  count = mmf__search_count(h, q, needle, m);
  /* Walk the rest occurrence by occurrence, to learn where the last one
   * ends. */
  for (at = q; at < n; at += r + m) {
    r = mmf__find(h + at, n - at, needle, m);
    if (r == SIZE_MAX)
      break;
    count++;
  }
  *resume = at > n - m + 1 ? at : n - m + 1;
  return count;
}
