/*
 * scan_impl.h - the SIMD kernels that only need "which of these 64 bytes
 * equal c", written once and included by each SIMD variant's file
 * (scan_sse2.c, scan_avx2.c, scan_avx512.c, scan_neon.c), which first
 * defines:
 *
 *   scan_vec                     a broadcast byte
 *   scan_vec vsplat(unsigned char c)
 *   uint64_t veq64(p, v)         bit k set iff p[k] == v, k < 64
 *   uint64_t veq64x2(p, q, v, w) bit k set iff p[k] == v && q[k] == w
 *   uint64_t count_byte(p, n, c) its own count kernel
 *   SCAN_EMIT_BLOCK              defined if it has, for positions():
 *     size_t emit_block(const unsigned char *p, scan_vec v, uint32_t base,
 *                       uint32_t *o)
 *       stores base + k for each k < 64 with p[k] == v into o[0..], in
 *       order, and returns how many; may write anything up to o[63].
 *   SCAN_ANY128                  defined if it has a cheaper test than
 *     the masks for "any match in 128 bytes": int vany128(p, v) and
 *     int vany128x2(p, q, v, w)
 *   SCAN_BIT_COUNTS              defined instead of SCAN_EMIT_BLOCK if it
 *     has fast
 *     unsigned scan_popcount64(uint64_t x) and
 *     unsigned scan_tzcnt64(uint64_t x)  (any value for x == 0, no UB)
 *       for the branch-poor emit_block written here.
 *
 * Everything here is static: each variant gets its own copy compiled with
 * its own instruction set, and no symbol of one can stand in for another's
 * at link time (which would run AVX2 code on a CPU without it).
 *
 * No load reaches outside [p, p+n): a tail shorter than 64 bytes is read as
 * the last 64 bytes of the buffer, shifted, or byte by byte when the whole
 * buffer is shorter.
 */
#ifndef MMF_SCAN_IMPL_H
#define MMF_SCAN_IMPL_H

#include <string.h>

#include "scan.h"

/* Index of the lowest set bit; x != 0. */
static inline unsigned scan_ctz(uint64_t x) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long r;
#if defined(_M_X64)
  _BitScanForward64(&r, x);
#else
  if ((uint32_t)x != 0) {
    _BitScanForward(&r, (uint32_t)x);
  } else {
    _BitScanForward(&r, (uint32_t)(x >> 32));
    r += 32;
  }
#endif
  return (unsigned)r;
#else
  return (unsigned)__builtin_ctzll(x);
#endif
}

/* bits of the n < 64 bytes at p that equal c, one by one. */
static uint64_t eq_short(const unsigned char *p, size_t n, unsigned char c) {
  uint64_t bits = 0;
  for (size_t b = 0; b < n; b++)
    bits |= (uint64_t)(p[b] == c) << b;
  return bits;
}

#ifndef SCAN_ANY128
/* Whether some k < 128 has p[k] == v (and q[k] == w). */
static inline int vany128(const unsigned char *p, scan_vec v) {
  return (veq64(p, v) | veq64(p + 64, v)) != 0;
}
static inline int vany128x2(const unsigned char *p, const unsigned char *q,
                            scan_vec v, scan_vec w) {
  return (veq64x2(p, q, v, w) | veq64x2(p + 64, q + 64, v, w)) != 0;
}
#endif

static size_t find_byte(const unsigned char *p, size_t n, unsigned char c) {
  const scan_vec v = vsplat(c);
  size_t i = 0;
  uint64_t bits;
  if (n < 64) {
    bits = eq_short(p, n, c);
    return bits ? scan_ctz(bits) : SIZE_MAX;
  }
  for (; n - i >= 128; i += 128) {
    if (vany128(p + i, v)) {
      uint64_t b0 = veq64(p + i, v);
      return b0 ? i + scan_ctz(b0) : i + 64 + scan_ctz(veq64(p + i + 64, v));
    }
  }
  for (; n - i >= 64; i += 64) {
    bits = veq64(p + i, v);
    if (bits)
      return i + scan_ctz(bits);
  }
  if (i < n) {
    bits = veq64(p + n - 64, v) >> (64 - (n - i));
    if (bits)
      return i + scan_ctz(bits);
  }
  return SIZE_MAX;
}

#ifdef SCAN_BIT_COUNTS
#define SCAN_EMIT_BLOCK 1
/*
 * Positions of one block for positions(): write four unconditionally, then
 * eight more if needed, and only past twelve a loop. Text lines are rarely
 * shorter than 16 bytes, so most blocks take no data-dependent branch at
 * all; a loop per delimiter mispredicts about once a line, which costs
 * more than the whole scan (AVX2 on this CPU: 7 GB/s looping, 18 GB/s so).
 */
static inline size_t emit_block(const unsigned char *p, scan_vec v,
                                uint32_t base, uint32_t *o) {
  uint64_t bits = veq64(p, v);
  const size_t count = scan_popcount64(bits);
  for (int t = 0; t < 4; t++) {
    o[t] = base + scan_tzcnt64(bits);
    bits &= bits - 1;
  }
  if (count > 4) {
    for (int t = 4; t < 12; t++) {
      o[t] = base + scan_tzcnt64(bits);
      bits &= bits - 1;
    }
    for (o += 12; bits; bits &= bits - 1)
      *o++ = base + scan_tzcnt64(bits);
  }
  return count;
}
#endif

static size_t positions(const unsigned char *p, size_t n, unsigned char c,
                        uint32_t *pos, size_t cap, size_t *scanned) {
  const scan_vec v = vsplat(c);
  size_t i = 0, k = 0;
  if (n > UINT32_MAX)
    n = UINT32_MAX;
  if (cap == 0) {
    *scanned = 0;
    return 0;
  }
#ifdef SCAN_EMIT_BLOCK
  /* While a whole block's worth of room is left, the variant's branch-poor
   * block writer; the loop below does the rest. */
  while (n - i >= 64 && cap - k >= 64) {
    k += emit_block(p + i, v, (uint32_t)i, pos + k);
    i += 64;
  }
#endif
  while (i < n) {
    size_t len = n - i;
    uint64_t bits;
    if (len >= 64) {
      bits = veq64(p + i, v);
      len = 64;
    } else if (n >= 64) {
      bits = veq64(p + n - 64, v) >> (64 - len);
    } else {
      bits = eq_short(p + i, len, c);
    }
    for (; bits; bits &= bits - 1) {
      if (k == cap) {
        *scanned = pos[k - 1] + (size_t)1;
        return k;
      }
      pos[k++] = (uint32_t)(i + scan_ctz(bits));
    }
    i += len;
  }
  *scanned = k == cap ? pos[k - 1] + (size_t)1 : n;
  return k;
}

static inline uint64_t load_u64(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, sizeof w);
  return w;
}

/*
 * Find (count == NULL) or count the non-overlapping occurrences of needle,
 * 2 <= m <= n: filter 64 candidate starts at once on two rare bytes of the
 * needle, at offsets a < b (two loads, two compares), then verify each
 * survivor inline with 8-byte compares (every variant runs little-endian,
 * so the low bytes of a load are the first ones), calling memcmp only for
 * needles longer than 16 bytes whose first 16 bytes matched. Text rarely passes
 * the filter, so this runs at the speed of the loads.
 */
static size_t search(const unsigned char *h, size_t n,
                     const unsigned char *needle, size_t m, uint64_t *count) {
  const size_t last = m - 1;
  /* The verification loads 8 bytes at each candidate start. */
  const size_t reach = last > 7 ? last : 7;
  size_t a, b, i, done = 0, next = 0, work = 0, r;
  mmf__scan_pick_pair(needle, m, &a, &b);
  const scan_vec va = vsplat(needle[a]), vb = vsplat(needle[b]);
  uint64_t w0 = 0, w1 = 0, mask0 = ~(uint64_t)0;

  if (m < 8) {
    memcpy(&w0, needle, m);
    mask0 = (UINT64_C(1) << (8 * m)) - 1;
  } else {
    w0 = load_u64(needle);
    w1 = load_u64(m <= 16 ? needle + m - 8 : needle + 8);
  }

  /*
   * done: every start below it is settled (checked, or inside a match
   * counted). Each block of 64 starts begins at i <= done chosen so that
   * h + i + a is 64-byte aligned: an unaligned 64-byte load touches two
   * cache lines, which at memory speed measurably slows the scan. Starts
   * below done in the block are masked off. A block reads up to
   * h[i + 63 + reach].
   */
  for (;;) {
    uint64_t bits;
    size_t back = (size_t)(((uintptr_t)h + done + a) & 63);
    i = back <= done ? done - back : done;
    if (n < reach + 64 || i > n - reach - 64)
      break;
    bits = veq64x2(h + i + a, h + i + b, va, vb) & (~(uint64_t)0 << (done - i));
    /* Skip 128 bytes at a time while nothing passes the filter. */
    if (bits == 0) {
      i += 64;
      while (n >= reach + 128 && i <= n - reach - 128 &&
             !vany128x2(h + i + a, h + i + b, va, vb))
        i += 128;
      done = i;
      continue;
    }
    for (; bits; bits &= bits - 1) {
      size_t j = i + scan_ctz(bits);
      if (j < next)
        continue;
      if (m > 2) {
        const unsigned char *s = h + j;
        if (((load_u64(s) ^ w0) & mask0) != 0)
          continue;
        if (m > 8 && load_u64(m <= 16 ? s + m - 8 : s + 8) != w1)
          continue;
        if (m > 16) {
          if (mmf__scan_verify_too_costly(work, j)) {
            i = j; /* every start before j is settled, and j >= next */
            goto twoway;
          }
          work += m;
          if (memcmp(s + 16, needle + 16, m - 16) != 0)
            continue;
        }
      }
      if (!count)
        return j;
      ++*count;
      next = j + m;
    }
    done = i + 64 > next ? i + 64 : next;
  }
  /* Less than two blocks' worth is left. */
  i = done;
  if (count) {
    *count += mmf__scan_generic_count_str(h + i, n - i, needle, m);
    return SIZE_MAX;
  }
  r = mmf__scan_generic_find(h + i, n - i, needle, m);
  return r == SIZE_MAX ? r : i + r;

twoway:
  if (count) {
    *count += mmf__scan_twoway_count(h + i, n - i, needle, m);
    return SIZE_MAX;
  }
  r = mmf__scan_twoway_find(h + i, n - i, needle, m);
  return r == SIZE_MAX ? r : i + r;
}

static size_t find(const unsigned char *h, size_t n,
                   const unsigned char *needle, size_t m) {
  if (m == 0)
    return 0;
  if (m > n)
    return SIZE_MAX;
  if (m == 1)
    return find_byte(h, n, needle[0]);
  return search(h, n, needle, m, NULL);
}

static uint64_t count_str(const unsigned char *h, size_t n,
                          const unsigned char *needle, size_t m) {
  uint64_t count = 0;
  if (m == 0 || m > n)
    return 0;
  if (m == 1)
    return count_byte(h, n, needle[0]);
  search(h, n, needle, m, &count);
  return count;
}

#endif /* MMF_SCAN_IMPL_H */
