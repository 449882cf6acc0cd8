/*
 * scan_generic.c - the portable kernels: SWAR (eight bytes in a uint64_t),
 * libc memchr/memcmp, and Two-Way for adversarial needles. They are the
 * fallback on CPUs without SIMD variants, the reference the SIMD variants
 * are tested against, and the SIMD variants' tail handlers.
 */
#include <string.h>

#include "scan.h"

#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)
#define LOW7 UINT64_C(0x7f7f7f7f7f7f7f7f)

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* 0x80 in every byte of v that equals the byte broadcast in b, 0 elsewhere.
 * Exact (no false positives): (x & 0x7f) + 0x7f sets bit 7 iff the low
 * seven bits are non-zero, and never carries into the next byte. */
static uint64_t eq_bytes(uint64_t v, uint64_t b) {
  uint64_t x = v ^ b;
  return ~(((x & LOW7) + LOW7) | x) & HIGH;
}

/* Sum of the eight bytes of a (each at most 255). */
static uint64_t sum_bytes(uint64_t a) {
  uint64_t pairs = (a & UINT64_C(0x00ff00ff00ff00ff)) +
                   ((a >> 8) & UINT64_C(0x00ff00ff00ff00ff));
  return (pairs * UINT64_C(0x0001000100010001)) >> 48;
}

uint64_t mmf__scan_generic_count_byte(const unsigned char *p, size_t n,
                                      unsigned char c) {
  const uint64_t b = c * ONES;
  uint64_t total = 0;
  size_t i = 0;
  /* Byte-wise counters gain at most 4 per round: flush before 255. */
  while (n - i >= 32) {
    size_t rounds = (n - i) / 32;
    uint64_t acc = 0;
    if (rounds > 63)
      rounds = 63;
    for (; rounds > 0; rounds--, i += 32) {
      acc += eq_bytes(load64(p + i), b) >> 7;
      acc += eq_bytes(load64(p + i + 8), b) >> 7;
      acc += eq_bytes(load64(p + i + 16), b) >> 7;
      acc += eq_bytes(load64(p + i + 24), b) >> 7;
    }
    total += sum_bytes(acc);
  }
  for (; i < n; i++)
    total += (uint64_t)(p[i] == c);
  return total;
}

size_t mmf__scan_generic_find_byte(const unsigned char *p, size_t n,
                                   unsigned char c) {
  const unsigned char *q;
  if (n == 0)
    return SIZE_MAX;
  q = memchr(p, c, n);
  return q ? (size_t)(q - p) : SIZE_MAX;
}

size_t mmf__scan_generic_positions(const unsigned char *p, size_t n,
                                   unsigned char c, uint32_t *pos, size_t cap,
                                   size_t *scanned) {
  const uint64_t b = c * ONES;
  size_t i = 0, k = 0;
  if (n > UINT32_MAX)
    n = UINT32_MAX;
  if (cap == 0) {
    *scanned = 0;
    return 0;
  }
  while (i < n) {
    size_t len = n - i < 8 ? n - i : 8;
    if (len == 8 && eq_bytes(load64(p + i), b) == 0) {
      i += 8;
      continue;
    }
    for (size_t e = i + len; i < e; i++) {
      if (p[i] != c)
        continue;
      if (k == cap) {
        *scanned = pos[k - 1] + (size_t)1;
        return k;
      }
      pos[k++] = (uint32_t)i;
    }
  }
  *scanned = k == cap ? pos[k - 1] + (size_t)1 : n;
  return k;
}

/* How common byte c is in text and logs, higher is more common: a rough
 * order, good enough to pick needle bytes that rarely occur. Letters go
 * by their place in "etaoinshrdlcumwfgypbvkjxqz", looked up by table:
 * a search for c in that string per needle byte (strchr) cost more than
 * the search for a short needle in a short text, and a walk from one
 * occurrence to the next picks the pair again at every occurrence. */
static unsigned byte_rank(unsigned char c) {
  static const unsigned char place[26] = {2,  19, 11, 9,  0,  15, 16, 7,  4,
                                          22, 21, 10, 13, 5,  3,  18, 24, 8,
                                          6,  1,  12, 20, 14, 23, 17, 25};
  if (c == ' ')
    return 255;
  if (c >= 'a' && c <= 'z')
    return 250 - 2 * (unsigned)place[c - 'a'];
  if (c >= '0' && c <= '9')
    return 180;
  switch (c) {
  case '\n':
  case '\t':
  case '.':
  case ',':
  case ':':
  case ';':
  case '-':
  case '_':
  case '/':
  case '=':
  case '"':
  case '\'':
  case '(':
  case ')':
    return 160;
  default:
    break;
  }
  if (c >= 'A' && c <= 'Z')
    return 150 - (unsigned)place[c - 'A'];
  if (c >= 0x20 && c < 0x7f)
    return 100;
  return c == 0 ? 90 : 40;
}

void mmf__scan_pick_pair(const unsigned char *needle, size_t m, size_t *a,
                         size_t *b) {
  /* Each byte ranked once per pass (a walk over dense occurrences picks
   * the pair again for each of them). */
  size_t r1 = 0, r2 = SIZE_MAX;
  unsigned k1 = byte_rank(needle[0]), k2 = 0, k;
  for (size_t i = 1; i < m; i++) {
    k = byte_rank(needle[i]);
    if (k < k1) {
      r1 = i;
      k1 = k;
    }
  }
  /* The second: the rarest other byte value, else any other position. */
  for (size_t i = 0; i < m; i++) {
    if (needle[i] == needle[r1])
      continue;
    k = byte_rank(needle[i]);
    if (r2 == SIZE_MAX || k < k2) {
      r2 = i;
      k2 = k;
    }
  }
  if (r2 == SIZE_MAX)
    r2 = r1 == m - 1 ? 0 : m - 1;
  *a = r1 < r2 ? r1 : r2;
  *b = r1 < r2 ? r2 : r1;
}

/*
 * Find (count == NULL) or count the non-overlapping occurrences of needle:
 * a SWAR filter on two rare bytes of the needle, eight candidate starts per
 * step, then memcmp.
 */
static size_t search(const unsigned char *h, size_t n,
                     const unsigned char *needle, size_t m, uint64_t *count) {
  const size_t last = m - 1;
  size_t a, b, i = 0, next = 0, work = 0;
  mmf__scan_pick_pair(needle, m, &a, &b);
  const unsigned char ca = needle[a], cb = needle[b];
  const uint64_t ba = ca * ONES, bb = cb * ONES;

  /* Candidate starts i..i+7 need bytes up to i + 7 + last < n. (i can
   * jump to next, which may lie past n - last.) */
  while (i <= n - last && n - last - i >= 8) {
    if (eq_bytes(load64(h + i + a), ba) & eq_bytes(load64(h + i + b), bb)) {
      for (size_t j = i; j < i + 8; j++) {
        if (j < next || h[j + a] != ca || h[j + b] != cb)
          continue;
        if (m > 2) {
          if (mmf__scan_verify_too_costly(work, j)) {
            i = j; /* every start before j is settled, and j >= next */
            goto twoway;
          }
          work += m;
          if (memcmp(h + j, needle, m) != 0)
            continue;
        }
        if (!count)
          return j;
        ++*count;
        next = j + m;
      }
    }
    i += 8;
    if (i < next)
      i = next;
  }
  /* Fewer than eight candidate starts are left. */
  for (i = i < next ? next : i; n - i >= m; i++) {
    if (h[i] != needle[0] || memcmp(h + i + 1, needle + 1, last) != 0)
      continue;
    if (!count)
      return i;
    ++*count;
    i += last;
  }
  return SIZE_MAX;

twoway:
  if (count) {
    *count += mmf__scan_twoway_count(h + i, n - i, needle, m);
    return SIZE_MAX;
  }
  {
    size_t r = mmf__scan_twoway_find(h + i, n - i, needle, m);
    return r == SIZE_MAX ? r : i + r;
  }
}

size_t mmf__scan_generic_find(const unsigned char *h, size_t n,
                              const unsigned char *needle, size_t m) {
  if (m == 0)
    return 0;
  if (m > n)
    return SIZE_MAX;
  if (m == 1)
    return mmf__scan_generic_find_byte(h, n, needle[0]);
  return search(h, n, needle, m, NULL);
}

uint64_t mmf__scan_generic_count_str(const unsigned char *h, size_t n,
                                     const unsigned char *needle, size_t m) {
  uint64_t count = 0;
  if (m == 0 || m > n)
    return 0;
  if (m == 1)
    return mmf__scan_generic_count_byte(h, n, needle[0]);
  search(h, n, needle, m, &count);
  return count;
}

/* ---- Two-Way ---------------------------------------------------------- */

/*
 * Crochemore and Perrin, "Two-way string-matching", J. ACM 38(3), 1991, in
 * the form musl's memmem uses (MIT licence): the critical factorisation
 * from the larger of the two maximal suffixes, plus a last-byte shift table
 * that skips most of the haystack for free. Indices instead of pointers so
 * that overshooting the end is not undefined.
 */

#define BITOP(a, b, op)                                                        \
  ((a)[(size_t)(b) / (8 * sizeof *(a))] op(size_t) 1                           \
   << ((size_t)(b) % (8 * sizeof *(a))))

typedef struct twoway {
  const unsigned char *needle;
  size_t m, ms, p, mem0;
  size_t byteset[32 / sizeof(size_t)];
  size_t shift[256];
} twoway;

/* Maximal suffix of needle for the order (greater ? > : <); *period gets
 * its period. Returns its start minus one (SIZE_MAX for the whole). */
static size_t max_suffix(const unsigned char *x, size_t m, int greater,
                         size_t *period) {
  size_t ip = SIZE_MAX, jp = 0, k = 1, p = 1;
  while (jp + k < m) {
    unsigned char a = x[ip + k], b = x[jp + k];
    if (a == b) {
      if (k == p) {
        jp += p;
        k = 1;
      } else {
        k++;
      }
    } else if (greater ? a > b : a < b) {
      jp += k;
      k = 1;
      p = jp - ip;
    } else {
      ip = jp++;
      k = p = 1;
    }
  }
  *period = p;
  return ip;
}

static void twoway_init(twoway *t, const unsigned char *x, size_t m) {
  size_t p0, p1, ms0, ms1;
  t->needle = x;
  t->m = m;
  memset(t->byteset, 0, sizeof t->byteset);
  for (size_t i = 0; i < m; i++) {
    BITOP(t->byteset, x[i], |=);
    t->shift[x[i]] = i + 1;
  }
  ms0 = max_suffix(x, m, 1, &p0);
  ms1 = max_suffix(x, m, 0, &p1);
  if (ms1 + 1 > ms0 + 1) {
    t->ms = ms1;
    t->p = p1;
  } else {
    t->ms = ms0;
    t->p = p0;
  }
  /* Periodic needle: remember the matched prefix across shifts. */
  if (memcmp(x, x + t->p, t->ms + 1) != 0) {
    size_t right = m - t->ms - 1;
    t->mem0 = 0;
    t->p = (t->ms > right ? t->ms : right) + 1;
  } else {
    t->mem0 = m - t->p;
  }
}

static size_t twoway_run(const twoway *t, const unsigned char *h, size_t n) {
  const unsigned char *x = t->needle;
  const size_t m = t->m, ms = t->ms;
  size_t i = 0, mem = 0, k;
  for (;;) {
    if (i > n || n - i < m)
      return SIZE_MAX;
    /* Last byte first; a mismatch advances by the shift table. */
    if (BITOP(t->byteset, h[i + m - 1], &)) {
      k = m - t->shift[h[i + m - 1]];
      if (k) {
        if (k < mem)
          k = mem;
        i += k;
        mem = 0;
        continue;
      }
    } else {
      i += m;
      mem = 0;
      continue;
    }
    /* Right half. */
    for (k = ms + 1 > mem ? ms + 1 : mem; k < m && x[k] == h[i + k]; k++)
      ;
    if (k < m) {
      i += k - ms;
      mem = 0;
      continue;
    }
    /* Left half. */
    for (k = ms + 1; k > mem && x[k - 1] == h[i + k - 1]; k--)
      ;
    if (k <= mem)
      return i;
    i += t->p;
    mem = t->mem0;
  }
}

size_t mmf__scan_twoway_find(const unsigned char *h, size_t n,
                             const unsigned char *needle, size_t m) {
  twoway t;
  if (m == 0)
    return 0;
  if (m > n)
    return SIZE_MAX;
  twoway_init(&t, needle, m);
  return twoway_run(&t, h, n);
}

uint64_t mmf__scan_twoway_count(const unsigned char *h, size_t n,
                                const unsigned char *needle, size_t m) {
  twoway t;
  uint64_t count = 0;
  size_t i = 0;
  if (m == 0 || m > n)
    return 0;
  twoway_init(&t, needle, m);
  for (;;) {
    size_t r = twoway_run(&t, h + i, n - i);
    if (r == SIZE_MAX)
      return count;
    count++;
    i += r + m;
  }
}

static const mmf__scan_kernels generic = {
    .name = "generic",
    .isa = MMF__SCAN_GENERIC,
    .count_byte = mmf__scan_generic_count_byte,
    .find_byte = mmf__scan_generic_find_byte,
    .find = mmf__scan_generic_find,
    .count_str = mmf__scan_generic_count_str,
    .positions = mmf__scan_generic_positions,
};

const mmf__scan_kernels *mmf__scan_generic_kernels(void) { return &generic; }
