/*
 * scan_sse2.c - SSE2 kernels: the x86-64 baseline, and what 32-bit x86
 * CPUs since the Pentium 4 run. Built with -msse2 where the compiler needs
 * it (cmake/simd.cmake); without SSE2 the variant is left out.
 */
#include "scan.h"

#if defined(__SSE2__) || defined(_M_X64) ||                                    \
    (defined(_M_IX86_FP) && _M_IX86_FP >= 2)

#include <emmintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

typedef __m128i scan_vec;

static inline scan_vec vsplat(unsigned char c) {
  return _mm_set1_epi8((char)c);
}

static inline __m128i load16(const unsigned char *p) {
  return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline uint64_t mask16(__m128i eq) {
  return (uint64_t)(uint32_t)_mm_movemask_epi8(eq);
}

static inline uint64_t veq64(const unsigned char *p, scan_vec v) {
  return mask16(_mm_cmpeq_epi8(load16(p), v)) |
         mask16(_mm_cmpeq_epi8(load16(p + 16), v)) << 16 |
         mask16(_mm_cmpeq_epi8(load16(p + 32), v)) << 32 |
         mask16(_mm_cmpeq_epi8(load16(p + 48), v)) << 48;
}

static inline __m128i eq2(const unsigned char *p, const unsigned char *q,
                          scan_vec v, scan_vec w) {
  return _mm_and_si128(_mm_cmpeq_epi8(load16(p), v),
                       _mm_cmpeq_epi8(load16(q), w));
}

static inline uint64_t veq64x2(const unsigned char *p, const unsigned char *q,
                               scan_vec v, scan_vec w) {
  return mask16(eq2(p, q, v, w)) | mask16(eq2(p + 16, q + 16, v, w)) << 16 |
         mask16(eq2(p + 32, q + 32, v, w)) << 32 |
         mask16(eq2(p + 48, q + 48, v, w)) << 48;
}

/* Byte counters: cmpeq gives -1 per match, subtracting it adds 1. They
 * flush into 64-bit sums with psadbw before 255 rounds can overflow them. */
static uint64_t count_byte(const unsigned char *p, size_t n, unsigned char c) {
  const __m128i v = vsplat(c), zero = _mm_setzero_si128();
  __m128i total = zero;
  uint64_t lanes[2];
  size_t i = 0;
  if (n < 64)
    return mmf__scan_generic_count_byte(p, n, c);
  while (n - i >= 64) {
    size_t rounds = (n - i) / 64;
    __m128i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (rounds > 255)
      rounds = 255;
    for (; rounds > 0; rounds--, i += 64) {
      a0 = _mm_sub_epi8(a0, _mm_cmpeq_epi8(load16(p + i), v));
      a1 = _mm_sub_epi8(a1, _mm_cmpeq_epi8(load16(p + i + 16), v));
      a2 = _mm_sub_epi8(a2, _mm_cmpeq_epi8(load16(p + i + 32), v));
      a3 = _mm_sub_epi8(a3, _mm_cmpeq_epi8(load16(p + i + 48), v));
    }
    total = _mm_add_epi64(total, _mm_sad_epu8(a0, zero));
    total = _mm_add_epi64(total, _mm_sad_epu8(a1, zero));
    total = _mm_add_epi64(total, _mm_sad_epu8(a2, zero));
    total = _mm_add_epi64(total, _mm_sad_epu8(a3, zero));
  }
  _mm_storeu_si128((__m128i *)(void *)lanes, total);
  return lanes[0] + lanes[1] + mmf__scan_generic_count_byte(p + i, n - i, c);
}

#include "scan_impl.h"

static const mmf__scan_kernels kernels = {
    .name = "sse2",
    .isa = MMF__SCAN_SSE2,
    .count_byte = count_byte,
    .find_byte = find_byte,
    .find = find,
    .count_str = count_str,
    .positions = positions,
};

const mmf__scan_kernels *mmf__scan_sse2_kernels(void) { return &kernels; }

#else

const mmf__scan_kernels *mmf__scan_sse2_kernels(void) { return NULL; }

#endif
