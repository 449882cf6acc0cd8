/*
 * scan_avx512.c - AVX-512BW kernels: 64 bytes per compare, straight into a
 * 64-bit mask register. Built with -mavx512f -mavx512bw -mbmi -mpopcnt
 * (cmake/simd.cmake); MSVC needs no flag. Without them the variant is left
 * out.
 */
#include "scan.h"

#if (defined(__AVX512F__) && defined(__AVX512BW__) && defined(__BMI__) &&     \
     defined(__POPCNT__) && (defined(__x86_64__) || defined(_M_X64))) ||       \
    (defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64))

#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

typedef __m512i scan_vec;

#define SCAN_BRANCHLESS 1

static inline scan_vec vsplat(unsigned char c) {
  return _mm512_set1_epi8((char)c);
}

static inline __m512i load64(const unsigned char *p) {
  return _mm512_loadu_si512((const void *)p);
}

static inline uint64_t veq64(const unsigned char *p, scan_vec v) {
  return (uint64_t)_mm512_cmpeq_epi8_mask(load64(p), v);
}

static inline uint64_t veq64x2(const unsigned char *p, const unsigned char *q,
                               scan_vec v, scan_vec w) {
  return (uint64_t)_mm512_mask_cmpeq_epi8_mask(
      _mm512_cmpeq_epi8_mask(load64(p), v), load64(q), w);
}

/* The low n bits (n < 64). */
static inline __mmask64 low_bits(size_t n) {
  return (__mmask64)((UINT64_C(1) << n) - 1);
}

/* Matches among the first n < 64 bytes at p. The masked load does not touch
 * (nor fault on) the bytes past n. */
static inline uint64_t count_partial(const unsigned char *p, size_t n,
                                     scan_vec v) {
  __mmask64 k = low_bits(n);
  return (uint64_t)_mm_popcnt_u64(
      _mm512_mask_cmpeq_epi8_mask(k, _mm512_maskz_loadu_epi8(k, p), v));
}

/*
 * Byte counters: a masked add of 1 where the compare matched; four
 * independent counters, 256 bytes a round, flushed into 64-bit sums with
 * vpsadbw before 255 rounds can overflow them. Aligned 64-byte loads in the
 * main loop (each unaligned one would split two cache lines); head and tail
 * are masked loads.
 */
static uint64_t count_byte(const unsigned char *p, size_t n, unsigned char c) {
  const __m512i v = vsplat(c), one = _mm512_set1_epi8(1);
  const __m512i zero = _mm512_setzero_si512();
  __m512i total = zero;
  uint64_t count = 0;
  size_t i = (size_t)(-(uintptr_t)p & 63);
  if (i > n)
    i = n;
  if (i != 0)
    count += count_partial(p, i, v);
  while (n - i >= 256) {
    size_t rounds = (n - i) / 256;
    __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (rounds > 255)
      rounds = 255;
    for (; rounds > 0; rounds--, i += 256) {
      const __m512i *b = (const __m512i *)(const void *)(p + i);
      a0 = _mm512_mask_add_epi8(
          a0, _mm512_cmpeq_epi8_mask(_mm512_load_si512(b), v), a0, one);
      a1 = _mm512_mask_add_epi8(
          a1, _mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 1), v), a1, one);
      a2 = _mm512_mask_add_epi8(
          a2, _mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 2), v), a2, one);
      a3 = _mm512_mask_add_epi8(
          a3, _mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 3), v), a3, one);
    }
    total = _mm512_add_epi64(total, _mm512_sad_epu8(a0, zero));
    total = _mm512_add_epi64(total, _mm512_sad_epu8(a1, zero));
    total = _mm512_add_epi64(total, _mm512_sad_epu8(a2, zero));
    total = _mm512_add_epi64(total, _mm512_sad_epu8(a3, zero));
  }
  for (; n - i >= 64; i += 64)
    count += (uint64_t)_mm_popcnt_u64(veq64(p + i, v));
  if (i < n)
    count += count_partial(p + i, n - i, v);
  return count + (uint64_t)_mm512_reduce_add_epi64(total);
}

#include "scan_impl.h"

static const mmf__scan_kernels kernels = {
    "avx512", MMF__SCAN_AVX512, count_byte, find_byte, find, count_str,
    positions,
};

const mmf__scan_kernels *mmf__scan_avx512_kernels(void) { return &kernels; }

#else

const mmf__scan_kernels *mmf__scan_avx512_kernels(void) { return NULL; }

#endif
