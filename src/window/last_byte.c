/*
 * last_byte.c - where a run of bytes holds its last delimiter
 * (last_byte.h).
 */
#include "last_byte.h"

#include <stdint.h>
#include <string.h>

/* Words of 8 bytes are skipped while they hold no c, so a long record
 * costs little to pass. */
size_t mmf__last_byte(const unsigned char *p, size_t n, unsigned char c) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  const uint64_t pattern = ones * c;
  size_t e = n;
  while (e > 0 && ((uintptr_t)(p + e) & 7u) != 0)
    if (p[--e] == c)
      return e;
  while (e >= 8) {
    uint64_t v;
    memcpy(&v, p + e - 8, 8);
    v ^= pattern;
    if (((v - ones) & ~v & highs) != 0)
      break; /* some byte of this word is c */
    e -= 8;
  }
  while (e > 0)
    if (p[--e] == c)
      return e;
  return SIZE_MAX;
}
