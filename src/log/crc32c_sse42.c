/*
 * crc32c_sse42.c - CRC-32C with SSE4.2's crc32 instruction, 8 bytes per
 * instruction on x86-64 (4 on i386). Built with -msse4.2
 * (cmake/simd.cmake); MSVC needs no flag. Without it the variant is left
 * out and the table version runs.
 */
#include "log/crc32c.h"

#if defined(__SSE4_2__) || (defined(_MSC_VER) && !defined(__clang__) &&        \
                            (defined(_M_X64) || defined(_M_IX86)))

#include <nmmintrin.h>
#include <string.h>

static uint32_t crc32c_sse42(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  uint32_t c = ~crc;
  /* memcpy loads: the frames are 8-byte aligned, the caller's records
   * need not be, and an unaligned dereference is undefined in C. */
#if defined(__x86_64__) || defined(_M_X64)
  uint64_t c64;
  for (; n && ((uintptr_t)b & 7); n--)
    c = _mm_crc32_u8(c, *b++);
  c64 = c;
  for (; n >= 32; n -= 32, b += 32) {
    uint64_t w[4];
    memcpy(w, b, sizeof w);
    c64 = _mm_crc32_u64(c64, w[0]);
    c64 = _mm_crc32_u64(c64, w[1]);
    c64 = _mm_crc32_u64(c64, w[2]);
    c64 = _mm_crc32_u64(c64, w[3]);
  }
  for (; n >= 8; n -= 8, b += 8) {
    uint64_t w;
    memcpy(&w, b, sizeof w);
    c64 = _mm_crc32_u64(c64, w);
  }
  c = (uint32_t)c64;
#else
  for (; n && ((uintptr_t)b & 3); n--)
    c = _mm_crc32_u8(c, *b++);
  for (; n >= 4; n -= 4, b += 4) {
    uint32_t w;
    memcpy(&w, b, sizeof w);
    c = _mm_crc32_u32(c, w);
  }
#endif
  for (; n; n--)
    c = _mm_crc32_u8(c, *b++);
  return ~c;
}

const mmf__crc32c_fn mmf__crc32c_sse42 = crc32c_sse42;

#else

const mmf__crc32c_fn mmf__crc32c_sse42 = NULL;

#endif
