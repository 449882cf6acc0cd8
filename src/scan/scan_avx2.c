/*
 * scan_avx2.c - AVX2 kernels (with BMI1 and POPCNT, which every AVX2 CPU
 * has). Built with -mavx2 -mbmi -mpopcnt (cmake/simd.cmake); MSVC needs no
 * flag. Without them the variant is left out.
 */
#include "scan.h"

#if (defined(__AVX2__) && defined(__BMI__) && defined(__POPCNT__)) ||          \
    (defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64))

#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

typedef __m256i scan_vec;

static inline scan_vec vsplat(unsigned char c) {
  return _mm256_set1_epi8((char)c);
}

static inline __m256i load32(const unsigned char *p) {
  return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

static inline uint32_t mask32(__m256i eq) {
  return (uint32_t)_mm256_movemask_epi8(eq);
}

static inline uint64_t veq64(const unsigned char *p, scan_vec v) {
  return mask32(_mm256_cmpeq_epi8(load32(p), v)) |
         (uint64_t)mask32(_mm256_cmpeq_epi8(load32(p + 32), v)) << 32;
}

static inline uint64_t veq64x2(const unsigned char *p, const unsigned char *q,
                               scan_vec v, scan_vec w) {
  __m256i lo = _mm256_and_si256(_mm256_cmpeq_epi8(load32(p), v),
                                _mm256_cmpeq_epi8(load32(q), w));
  __m256i hi = _mm256_and_si256(_mm256_cmpeq_epi8(load32(p + 32), v),
                                _mm256_cmpeq_epi8(load32(q + 32), w));
  return mask32(lo) | (uint64_t)mask32(hi) << 32;
}

static inline unsigned popcount32(uint32_t x) {
  return (unsigned)_mm_popcnt_u32(x);
}

#if defined(__x86_64__) || defined(_M_X64)
/* For the block writer of positions() (scan_impl.h). */
#define SCAN_BIT_COUNTS 1
static inline unsigned scan_popcount64(uint64_t x) {
  return (unsigned)_mm_popcnt_u64(x);
}
static inline unsigned scan_tzcnt64(uint64_t x) {
  return (unsigned)_tzcnt_u64(x);
}
#endif

/*
 * Byte counters: cmpeq gives -1 per match, subtracting it adds 1; four
 * independent counters, 128 bytes a round, flushed into 64-bit sums with
 * vpsadbw before 255 rounds can overflow them. The main loop reads aligned
 * 32-byte blocks (an unaligned one that splits cache lines costs two
 * loads); head and tail are single blocks masked down.
 */
static uint64_t count_byte(const unsigned char *p, size_t n, unsigned char c) {
  const __m256i v = vsplat(c), zero = _mm256_setzero_si256();
  __m256i total = zero;
  uint64_t lanes[4], count = 0;
  size_t i;
  if (n < 32)
    return mmf__scan_generic_count_byte(p, n, c);
  i = (size_t)(-(uintptr_t)p & 31);
  if (i != 0)
    count += popcount32(mask32(_mm256_cmpeq_epi8(load32(p), v)) &
                        ((UINT32_C(1) << i) - 1));
  while (n - i >= 128) {
    size_t rounds = (n - i) / 128;
    __m256i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (rounds > 255)
      rounds = 255;
    for (; rounds > 0; rounds--, i += 128) {
      const __m256i *b = (const __m256i *)(const void *)(p + i);
      a0 = _mm256_sub_epi8(a0, _mm256_cmpeq_epi8(_mm256_load_si256(b), v));
      a1 = _mm256_sub_epi8(a1, _mm256_cmpeq_epi8(_mm256_load_si256(b + 1), v));
      a2 = _mm256_sub_epi8(a2, _mm256_cmpeq_epi8(_mm256_load_si256(b + 2), v));
      a3 = _mm256_sub_epi8(a3, _mm256_cmpeq_epi8(_mm256_load_si256(b + 3), v));
    }
    total = _mm256_add_epi64(total, _mm256_sad_epu8(a0, zero));
    total = _mm256_add_epi64(total, _mm256_sad_epu8(a1, zero));
    total = _mm256_add_epi64(total, _mm256_sad_epu8(a2, zero));
    total = _mm256_add_epi64(total, _mm256_sad_epu8(a3, zero));
  }
  for (; n - i >= 32; i += 32)
    count += popcount32(mask32(_mm256_cmpeq_epi8(load32(p + i), v)));
  if (i < n)
    count += popcount32(mask32(_mm256_cmpeq_epi8(load32(p + n - 32), v)) >>
                        (32 - (n - i)));
  _mm256_storeu_si256((__m256i *)(void *)lanes, total);
  return count + lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

#include "scan_impl.h"

static const mmf__scan_kernels kernels = {
    .name = "avx2",
    .isa = MMF__SCAN_AVX2,
    .count_byte = count_byte,
    .find_byte = find_byte,
    .find = find,
    .count_str = count_str,
    .positions = positions,
};

const mmf__scan_kernels *mmf__scan_avx2_kernels(void) { return &kernels; }

#else

const mmf__scan_kernels *mmf__scan_avx2_kernels(void) { return NULL; }

#endif
