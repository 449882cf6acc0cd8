/*
 * scan_avx512.c - AVX-512 kernels: 64 bytes per compare, straight into a
 * 64-bit mask register. Needs AVX-512F, AVX-512BW and AVX-512 VBMI2 (Ice
 * Lake, Zen 4 and later; the first AVX-512 CPUs lack VBMI2 and clock down
 * under 512-bit code, so they are better served by AVX2), plus BMI1 and
 * POPCNT. Built with -mavx512f -mavx512bw -mavx512vbmi2 -mbmi -mpopcnt
 * (cmake/simd.cmake); MSVC needs no flag. Without them the variant is left
 * out.
 */
#include "scan.h"

#if (defined(__AVX512F__) && defined(__AVX512BW__) &&                          \
     defined(__AVX512VBMI2__) && defined(__BMI__) && defined(__POPCNT__) &&    \
     (defined(__x86_64__) || defined(_M_X64))) ||                              \
    (defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64))

#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

typedef __m512i scan_vec;

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

static inline uint64_t popcount64(uint64_t x) {
  return (uint64_t)_mm_popcnt_u64(x);
}

/* Matches among the first n < 64 bytes at p. The masked load does not
 * touch (nor fault on) the bytes past n. */
static inline uint64_t count_partial(const unsigned char *p, size_t n,
                                     scan_vec v) {
  const __mmask64 k = (__mmask64)((UINT64_C(1) << n) - 1);
  return popcount64(
      _mm512_mask_cmpeq_epi8_mask(k, _mm512_maskz_loadu_epi8(k, p), v));
}

/*
 * Compare into mask registers and popcount them, four independent sums,
 * 256 bytes a round. (Byte counters with a masked add and vpsadbw run no
 * faster here, and need flushing.) Aligned loads in the main loop, since an
 * unaligned 64-byte load always splits two cache lines; head and tail are
 * masked loads.
 */
static uint64_t count_byte(const unsigned char *p, size_t n, unsigned char c) {
  const __m512i v = vsplat(c);
  uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  size_t i = (size_t)(-(uintptr_t)p & 63);
  if (i > n)
    i = n;
  if (i != 0)
    c0 = count_partial(p, i, v);
  for (; n - i >= 256; i += 256) {
    const __m512i *b = (const __m512i *)(const void *)(p + i);
    c0 += popcount64(_mm512_cmpeq_epi8_mask(_mm512_load_si512(b), v));
    c1 += popcount64(_mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 1), v));
    c2 += popcount64(_mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 2), v));
    c3 += popcount64(_mm512_cmpeq_epi8_mask(_mm512_load_si512(b + 3), v));
  }
  for (; n - i >= 64; i += 64)
    c0 += popcount64(veq64(p + i, v));
  if (i < n)
    c1 += count_partial(p + i, n - i, v);
  return c0 + c1 + c2 + c3;
}

/* Store base + idx[t] to o[t] for the 16 byte indices in idx. */
static inline void store16(uint32_t *o, __m512i base, __m128i idx) {
  _mm512_storeu_si512(o, _mm512_add_epi32(base, _mm512_cvtepu8_epi32(idx)));
}

#define SCAN_EMIT_BLOCK 1
/*
 * Positions of one block for positions(), without a branch up to 16 per
 * block: vpcompressb packs the indices 0..63 of the matching bytes into the
 * low bytes of a register, which widen to 16 dwords for one store.
 */
static inline size_t emit_block(const unsigned char *p, scan_vec v,
                                uint32_t base, uint32_t *o) {
  static const unsigned char index[64] = {
      0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
      32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
      48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __mmask64 bits = _mm512_cmpeq_epi8_mask(load64(p), v);
  const size_t count = (size_t)popcount64((uint64_t)bits);
  const __m512i packed =
      _mm512_maskz_compress_epi8(bits, _mm512_loadu_si512(index));
  const __m512i b = _mm512_set1_epi32((int)base);
  store16(o, b, _mm512_castsi512_si128(packed));
  if (count > 16) {
    store16(o + 16, b, _mm512_extracti32x4_epi32(packed, 1));
    store16(o + 32, b, _mm512_extracti32x4_epi32(packed, 2));
    store16(o + 48, b, _mm512_extracti32x4_epi32(packed, 3));
  }
  return count;
}

#include "scan_impl.h"

static const mmf__scan_kernels kernels = {
    .name = "avx512",
    .isa = MMF__SCAN_AVX512,
    .count_byte = count_byte,
    .find_byte = find_byte,
    .find = find,
    .count_str = count_str,
    .positions = positions,
};

const mmf__scan_kernels *mmf__scan_avx512_kernels(void) { return &kernels; }

#else

const mmf__scan_kernels *mmf__scan_avx512_kernels(void) { return NULL; }

#endif
