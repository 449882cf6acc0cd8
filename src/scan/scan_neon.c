/*
 * scan_neon.c - AArch64 Advanced SIMD (NEON) kernels. NEON is part of the
 * AArch64 base architecture, so every 64-bit ARM CPU runs them and no
 * compiler flag is needed; the portable kernels stay selectable
 * (MMF_SCAN_ISA=generic). Little-endian only, as the shared searches
 * assume; other CPUs and big-endian ARM leave the variant out.
 *
 * NEON has no instruction that gathers one bit per byte (x86's movemask).
 * veq64 builds the 64-bit mask of a 64-byte block from its four compare
 * vectors: each byte of a compare result (0xff or 0) keeps one bit of its
 * position within its group of eight (1, 2, 4, ... 128), and three rounds
 * of pairwise adds fold each group of eight bytes into one mask byte, in
 * order. Searches that only ask "is there any match" in a block test the
 * maximum of the compare vectors instead, which is cheaper than the mask.
 */
#include "scan.h"

#if (defined(__aarch64__) || defined(_M_ARM64)) && !defined(__AARCH64EB__) &&  \
    !defined(__ARM_BIG_ENDIAN)

#include <arm_neon.h>

typedef uint8x16_t scan_vec;

static inline scan_vec vsplat(unsigned char c) { return vdupq_n_u8(c); }

/* The bit of each byte within its group of eight, for mask64(). */
static const uint8_t bit_of_byte[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                        1, 2, 4, 8, 16, 32, 64, 128};

/* Bit k of the result set iff byte k of the four compare results e0..e3
 * (bytes 0-15, 16-31, 32-47, 48-63) is 0xff. */
static inline uint64_t mask64(uint8x16_t e0, uint8x16_t e1, uint8x16_t e2,
                              uint8x16_t e3) {
  const uint8x16_t bits = vld1q_u8(bit_of_byte);
  uint8x16_t s0 = vpaddq_u8(vandq_u8(e0, bits), vandq_u8(e1, bits));
  uint8x16_t s1 = vpaddq_u8(vandq_u8(e2, bits), vandq_u8(e3, bits));
  s0 = vpaddq_u8(s0, s1);
  s0 = vpaddq_u8(s0, s0);
  return vgetq_lane_u64(vreinterpretq_u64_u8(s0), 0);
}

static inline uint64_t veq64(const unsigned char *p, scan_vec v) {
  return mask64(vceqq_u8(vld1q_u8(p), v), vceqq_u8(vld1q_u8(p + 16), v),
                vceqq_u8(vld1q_u8(p + 32), v), vceqq_u8(vld1q_u8(p + 48), v));
}

static inline uint8x16_t eq2(const unsigned char *p, const unsigned char *q,
                             scan_vec v, scan_vec w) {
  return vandq_u8(vceqq_u8(vld1q_u8(p), v), vceqq_u8(vld1q_u8(q), w));
}

static inline uint64_t veq64x2(const unsigned char *p, const unsigned char *q,
                               scan_vec v, scan_vec w) {
  return mask64(eq2(p, q, v, w), eq2(p + 16, q + 16, v, w),
                eq2(p + 32, q + 32, v, w), eq2(p + 48, q + 48, v, w));
}

/* Whether any of the 128 bytes at p equals v: one horizontal maximum
 * instead of two masks (for the find loops of scan_impl.h). */
#define SCAN_ANY128 1
static inline int vany128(const unsigned char *p, scan_vec v) {
  uint8x16_t a =
      vorrq_u8(vceqq_u8(vld1q_u8(p), v), vceqq_u8(vld1q_u8(p + 16), v));
  uint8x16_t b =
      vorrq_u8(vceqq_u8(vld1q_u8(p + 32), v), vceqq_u8(vld1q_u8(p + 48), v));
  uint8x16_t c =
      vorrq_u8(vceqq_u8(vld1q_u8(p + 64), v), vceqq_u8(vld1q_u8(p + 80), v));
  uint8x16_t d =
      vorrq_u8(vceqq_u8(vld1q_u8(p + 96), v), vceqq_u8(vld1q_u8(p + 112), v));
  return vmaxvq_u8(vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d))) != 0;
}

/* The same for the two-byte filter of the searches: some k < 128 with
 * p[k] == v and q[k] == w. */
static inline int vany128x2(const unsigned char *p, const unsigned char *q,
                            scan_vec v, scan_vec w) {
  uint8x16_t a = vorrq_u8(eq2(p, q, v, w), eq2(p + 16, q + 16, v, w));
  uint8x16_t b = vorrq_u8(eq2(p + 32, q + 32, v, w), eq2(p + 48, q + 48, v, w));
  uint8x16_t c = vorrq_u8(eq2(p + 64, q + 64, v, w), eq2(p + 80, q + 80, v, w));
  uint8x16_t d =
      vorrq_u8(eq2(p + 96, q + 96, v, w), eq2(p + 112, q + 112, v, w));
  return vmaxvq_u8(vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d))) != 0;
}

/* For the block writer of positions() (scan_impl.h): CNT on a vector
 * register, and RBIT + CLZ. Setting bit 63 keeps the lowest set bit of a
 * non-zero x where it is and makes x == 0 defined. */
#define SCAN_BIT_COUNTS 1
static inline unsigned scan_popcount64(uint64_t x) {
  return vaddv_u8(vcnt_u8(vcreate_u8(x)));
}
static inline unsigned scan_tzcnt64(uint64_t x) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long r;
  _BitScanForward64(&r, x | (UINT64_C(1) << 63));
  return (unsigned)r;
#else
  return (unsigned)__builtin_ctzll(x | (UINT64_C(1) << 63));
#endif
}

/*
 * Byte counters: a compare gives 0xff (-1) per match, subtracting it adds
 * 1; four independent counters, 64 bytes a round, summed across lanes
 * (UADDLV, at most 16 * 255) before 255 rounds can overflow them. The tail
 * is the last 64 bytes of the buffer, its already counted head masked off.
 */
static uint64_t count_byte(const unsigned char *p, size_t n, unsigned char c) {
  const uint8x16_t v = vsplat(c), zero = vdupq_n_u8(0);
  uint64_t total = 0;
  size_t i = 0;
  if (n < 64)
    return mmf__scan_generic_count_byte(p, n, c);
  while (n - i >= 64) {
    size_t rounds = (n - i) / 64;
    uint8x16_t a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (rounds > 255)
      rounds = 255;
    for (; rounds > 0; rounds--, i += 64) {
      a0 = vsubq_u8(a0, vceqq_u8(vld1q_u8(p + i), v));
      a1 = vsubq_u8(a1, vceqq_u8(vld1q_u8(p + i + 16), v));
      a2 = vsubq_u8(a2, vceqq_u8(vld1q_u8(p + i + 32), v));
      a3 = vsubq_u8(a3, vceqq_u8(vld1q_u8(p + i + 48), v));
    }
    total += (uint64_t)vaddlvq_u8(a0) + vaddlvq_u8(a1) + vaddlvq_u8(a2) +
             vaddlvq_u8(a3);
  }
  if (i < n)
    total += scan_popcount64(veq64(p + n - 64, v) >> (64 - (n - i)));
  return total;
}

#include "scan_impl.h"

static const mmf__scan_kernels kernels = {
    .name = "neon",
    .isa = MMF__SCAN_NEON,
    .count_byte = count_byte,
    .find_byte = find_byte,
    .find = find,
    .count_str = count_str,
    .positions = positions,
};

const mmf__scan_kernels *mmf__scan_neon_kernels(void) { return &kernels; }

#else

const mmf__scan_kernels *mmf__scan_neon_kernels(void) { return NULL; }

#endif
