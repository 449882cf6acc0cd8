/*
 * crc32c_arm.c - CRC-32C with the ARMv8 CRC32 instructions (crc32cx: 8
 * bytes per instruction), on 64-bit ARM. Built with -march=armv8-a+crc
 * (cmake/simd.cmake; Apple clang's arm64 default CPU has the instructions
 * without a flag). A compiler that targets a CPU without them leaves the
 * variant out, and the table version runs. Used only where the backend
 * says the CPU has them (mmf__os_cpu_arm_crc32): the instructions are
 * optional in ARMv8.0.
 */
#include "log/crc32c.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)

#include <arm_acle.h>
#include <string.h>

static uint32_t crc32c_arm(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  uint32_t c = ~crc;
  /* memcpy loads: the frames are 8-byte aligned, the caller's records
   * need not be, and an unaligned dereference is undefined in C. A
   * little-endian load gives the bytes in the order the CRC takes them
   * (the log refuses big-endian hosts). */
  for (; n && ((uintptr_t)b & 7); n--)
    c = __crc32cb(c, *b++);
  for (; n >= 32; n -= 32, b += 32) {
    uint64_t w[4];
    memcpy(w, b, sizeof w);
    c = __crc32cd(c, w[0]);
    c = __crc32cd(c, w[1]);
    c = __crc32cd(c, w[2]);
    c = __crc32cd(c, w[3]);
  }
  for (; n >= 8; n -= 8, b += 8) {
    uint64_t w;
    memcpy(&w, b, sizeof w);
    c = __crc32cd(c, w);
  }
  for (; n; n--)
    c = __crc32cb(c, *b++);
  return ~c;
}

const mmf__crc32c_fn mmf__crc32c_arm = crc32c_arm;

#else

const mmf__crc32c_fn mmf__crc32c_arm = NULL;

#endif
